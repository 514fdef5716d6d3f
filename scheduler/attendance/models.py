"""Who was at a meeting: one row per person checked in."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.textutil import clean_line
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
    __table_args__ = (
        # one presence per person per meeting, whatever the device: two phones marking the same person at the
        # same instant store one row (an undone mark does not count, so the person can be marked again)
        sa.Index("uq_attendances_present_person", "meeting_id", "person_key", unique=True,
                 sqlite_where=sa.text("undone_at IS NULL"), postgresql_where=sa.text("undone_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    #: The admitted entity the person came for; null for guests and individuals.
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    rsvp_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rsvps.id", ondelete="SET NULL"))
    person_name: Mapped[str] = mapped_column(sa.String(200))
    #: Who the person is at the meeting, for the one-presence rule: the entity (or the guest's body) and the
    #: name, compared without case and extra spaces (`attendance.services.person_key`).
    person_key: Mapped[str] = mapped_column(sa.String(520))
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
    #: When the person left, where the meeting's register records departures; none: stayed to the end.
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: Not stored: set on the row `check_in` returns when the person was already present (marked from another
    #: phone, or twice), so the register can say "già presente" instead of "presente".
    already_present = False

    meeting: Mapped[Meeting] = relationship(back_populates="attendances")
    organization: Mapped[Organization | None] = relationship()
    rsvp: Mapped[Rsvp | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


def name_key(name: str) -> str:
    """A name as compared: without case and extra spaces."""
    return clean_line(name).casefold()


def person_key(organization_id: int | None, guest_organization: str | None, name: str) -> str:
    """Who a person is at a meeting: the same name for the same entity (or guest body, or none) is one person,
    however it was typed ("Mario  Rossi", "mario rossi")."""
    if organization_id is not None:
        return f"e{organization_id}|{name_key(name)}"[:520]
    return f"g|{name_key(guest_organization or '')}|{name_key(name)}"[:520]


@event.listens_for(Attendance, "before_insert")
def _key_the_person(_mapper, _connection, attendance: Attendance) -> None:
    """Every row gets its key however it was made (the register, the paper sheet, an import)."""
    attendance.person_key = person_key(attendance.organization_id, attendance.guest_organization,
                                       attendance.person_name)


def participation_minutes(starts_at: datetime, ends_at: datetime,
                          spans: list[tuple[datetime, datetime | None]]) -> int:
    """Minutes of the meeting during which at least one of the people (arrival, departure or None: to the end) was
    there: an entity whose two people came one after the other took part for the time either was present."""
    clipped = sorted((max(arrived, starts_at), min(left or ends_at, ends_at)) for arrived, left in spans)
    total, current_start, current_end = 0.0, None, None
    for start, end in clipped:
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += (current_end - current_start).total_seconds()
    return int(total // 60)


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
