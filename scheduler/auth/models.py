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
    from scheduler.calls.models import Ambito, Track
    from scheduler.registry.models import Organization


class Role(enum.Enum):
    STAFF = "staff"
    FACILITATOR = "facilitator"
    ENTITY = "entity"
    #: Whoever hosts the installation: creates the Ambiti and their first staff account, sees no Ambito's data.
    PLATFORM = "platform"


#: The entities an entity account speaks for. One person is often the president of an ODV and of an APS, or the
#: contact person of both: one account (one address) and one sign-in, then a choice of which entity it acts for.
organization_members = sa.Table(
    "organization_members",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organization_id", sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True,
              index=True),
    #: When the address became one of the entity's (named in its application or a change to its contacts).
    sa.Column("created_at", UTCDateTime, default=utcnow, nullable=False),
)


class User(UserMixin, db.Model):
    """Someone who signs in. Staff and facilitators use a password; entities a link by e-mail.

    An entity account may speak for several entities (`organizations`); a signed-in session acts for one of them
    at a time (`acting_for`), chosen after the sign-in and changed from the header."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower case: addresses are compared case-insensitively.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    #: The Ambito a staff member or facilitator works for, and acts within only; None for entity accounts (an
    #: entity takes part in any Ambito) and for the installation's administrators.
    ambito_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ambiti.id", ondelete="RESTRICT"), index=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    active: Mapped[bool] = mapped_column(default=True)
    #: Changed on sign-out everywhere and password change: invalidates old sessions.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organizations: Mapped[list[Organization]] = relationship(
        secondary=organization_members, back_populates="users", order_by="Organization.sort_name"
    )
    tracks: Mapped[list[Track]] = relationship(secondary=track_facilitators, back_populates="facilitators")
    ambito: Mapped[Ambito | None] = relationship()

    #: Not stored: the id of the entity (one of `organizations`) this signed-in session acts for, set when the
    #: session loads the account (`auth.services.load_user`); None until an account of several entities chooses.
    acting_for_id = None

    @property
    def acting_for(self) -> Organization | None:
        """The entity this session acts for: everything an entity sees and does is this one's."""
        return next((o for o in self.organizations if o.id == self.acting_for_id), None)

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
    #: The entity the link was sent for (a confirmation, an entity's notice): the session acts for it at once.
    #: None (a link asked for from the sign-in page): an account of several entities chooses after signing in.
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
