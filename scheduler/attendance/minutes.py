"""The public minutes of a meeting: drafted from the closed register, approved and published by staff.

The register holds people's names; what is published holds none: the draft names the entities present (they
are on the public list) and counts the people, and carries the facilitator's notes for staff to review before
they publish it on the meeting's page.
"""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.attendance.documents import present_groups
from scheduler.attendance.models import Attendance
from scheduler.audit.services import record
from scheduler.calendar.models import Meeting
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.textutil import clean_multiline
from scheduler.timeutil import utcnow

MAX_LENGTH = 20_000


class MinutesError(DomainError):
    """The minutes cannot be published now (register open) or as typed."""


def draft(meeting: Meeting) -> str:
    """A starting text for the public minutes: when, the entities present, how many people, the notes."""
    attendances = list(db.session.scalars(
        sa.select(Attendance).where(Attendance.meeting_id == meeting.id).options(sa.orm.selectinload(
            Attendance.organization))
    ))
    people = sum(len(group.people) for group in present_groups(attendances))
    entities = sorted({row.organization.name for row in attendances
                       if row.undone_at is None and row.organization is not None}, key=str.lower)
    lines = [f"Incontro del {format_when(meeting.starts_at, meeting.ends_at)}.", ""]
    if entities:
        lines.append("Enti presenti: " + ", ".join(entities) + ".")
    lines.append(f"Persone presenti: {people}.")
    if meeting.register_notes:
        lines += ["", meeting.register_notes]
    return "\n".join(lines)


def publish(meeting: Meeting, text: str, *, actor_id: int | None = None) -> Meeting:
    """Publish (or replace) the minutes on the meeting's page; only once the register is closed."""
    if meeting.register_closed_at is None:
        raise MinutesError("Il registro presenze non è ancora chiuso: il verbale si pubblica dopo la chiusura.",
                           "minutes", code="closed")
    text = clean_multiline(text or "")
    if not text:
        raise MinutesError("Scrivi il testo del verbale da pubblicare.", "minutes")
    if len(text) > MAX_LENGTH:
        raise MinutesError(f"Al massimo {MAX_LENGTH} caratteri.", "minutes")
    republished = meeting.minutes_published_at is not None
    meeting.minutes_text = text
    meeting.minutes_published_at = utcnow()
    meeting.minutes_published_by_id = actor_id
    record("meeting.minutes_published", "meeting", meeting.id, actor_id=actor_id, call_id=meeting.track.call_id,
           replaced=republished, length=len(text))
    return meeting


def withdraw(meeting: Meeting, *, actor_id: int | None = None) -> Meeting:
    """Take the minutes off the meeting's page (the text stays as a draft)."""
    if meeting.minutes_published_at is None:
        raise MinutesError("Il verbale non è pubblicato.", code="closed")
    meeting.minutes_published_at = None
    meeting.minutes_published_by_id = None
    record("meeting.minutes_withdrawn", "meeting", meeting.id, actor_id=actor_id, call_id=meeting.track.call_id)
    return meeting
