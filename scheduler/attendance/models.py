"""Who was at a meeting: one row per person checked in."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.timeutil import utcnow

if TYPE_CHECKING:
    from scheduler.auth.models import User
    from scheduler.calendar.models import Meeting, Rsvp
    from scheduler.registry.models import Organization


class AttendanceMethod(enum.Enum):
    QR = "qr"
    HAND = "hand"
    PAPER = "paper"
    WALK_IN = "walk_in"


class Attendance(db.Model):
    """A person present at a meeting, for an entity, as a guest of an unlisted body, or alone."""

    __tablename__ = "attendances"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    #: The admitted entity the person came for; null for guests and individuals.
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    rsvp_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rsvps.id", ondelete="SET NULL"))
    person_name: Mapped[str] = mapped_column(sa.String(200))
    person_role: Mapped[str] = mapped_column(sa.String(120), default="")
    #: For a guest from a body not in the list.
    guest_organization: Mapped[str | None] = mapped_column(sa.String(300))
    guest_email: Mapped[str | None] = mapped_column(sa.String(254))
    #: A guest staff should contact (e.g. to invite the body to apply).
    needs_follow_up: Mapped[bool] = mapped_column(default=False)
    method: Mapped[AttendanceMethod] = mapped_column(enum_column(AttendanceMethod, "attendance_method"))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Id made on the device for a mark recorded offline: the same mark sent twice is stored once.
    client_ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: Set when the mark is undone; the row stays for the log.
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="attendances")
    organization: Mapped[Organization | None] = relationship()
    rsvp: Mapped[Rsvp | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class RegisterEvent(db.Model):
    """Who changed a meeting's register and when: every change after closing is recorded here."""

    __tablename__ = "register_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: checked_in, undone, walk_in, notes, closed, reopened, sheet_uploaded, paper_recorded...
    action: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[str] = mapped_column(sa.Text, default="")

    actor: Mapped[User | None] = relationship()


class SignedSheet(db.Model):
    """The scanned, signed paper register of a meeting (PDF or image), kept as the legal record."""

    __tablename__ = "signed_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    #: Checked from the content (magic bytes), not from the name the browser sent.
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    uploaded_by: Mapped[User | None] = relationship()
