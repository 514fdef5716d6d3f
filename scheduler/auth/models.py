"""Users (staff, facilitators, entity representatives) and one-time sign-in links."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.calls.models import track_facilitators
from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.timeutil import utcnow

if TYPE_CHECKING:
    from scheduler.calls.models import Track
    from scheduler.registry.models import Organization


class Role(enum.Enum):
    STAFF = "staff"
    FACILITATOR = "facilitator"
    ENTITY = "entity"


class User(UserMixin, db.Model):
    """Someone who signs in. Staff and facilitators use a password; entities a link by e-mail."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role <> 'entity' OR organization_id IS NOT NULL", name="entity_has_organization"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower case: addresses are compared case-insensitively.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    #: Changed on sign-out everywhere and password change: invalidates old sessions.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship(back_populates="users")
    tracks: Mapped[list[Track]] = relationship(secondary=track_facilitators, back_populates="facilitators")

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class LoginToken(db.Model):
    """A one-time sign-in link: only its hash is stored; it expires and works once."""

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Where the link leads after signing in (a local path), e.g. the RSVP of a meeting.
    next_path: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
