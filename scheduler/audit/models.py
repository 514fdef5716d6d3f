"""The audit log: one row per change made through a service (who, when, what)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.dbtypes import UTCDateTime
from scheduler.extensions import db
from scheduler.timeutil import utcnow

if TYPE_CHECKING:
    from scheduler.auth.models import User


class AuditEntry(db.Model):
    """A change: the account that made it (None: the system, a command, the worker), the action, the object.

    The object is named by its kind and id, not by a foreign key, so the entry outlives the object (a deleted
    document, an erased entity) and the log stays below every feature in the layers.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_entries_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: What was done, as a stable dotted code (e.g. ``track.created``); pages translate it.
    action: Mapped[str] = mapped_column(sa.String(60))
    #: The kind of object changed (``track``, ``meeting``, ``agreement``...).
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None] = mapped_column()
    #: The call the change belongs to, when there is one: the log of a call is read by its staff.
    call_id: Mapped[int | None] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    #: What changed: field names with their old and new values, or the facts of the action. No secrets.
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship("User")
