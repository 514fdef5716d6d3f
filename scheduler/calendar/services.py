"""Rules of the calendar: every change of a meeting's time, venue or status goes through here."""

from __future__ import annotations

from datetime import datetime

from scheduler.calendar.models import Meeting


class CalendarError(Exception):
    """A calendar rule was broken; the message is for the person who asked."""


def reschedule(meeting: Meeting, starts_at: datetime, ends_at: datetime) -> bool:
    """Move a meeting; raises SEQUENCE so calendars take the new time. Returns whether anything changed."""
    if ends_at <= starts_at:
        raise CalendarError("L'incontro deve finire dopo l'inizio.")
    if meeting.starts_at == starts_at and meeting.ends_at == ends_at:
        return False
    meeting.starts_at = starts_at
    meeting.ends_at = ends_at
    if meeting.id is not None:
        meeting.sequence += 1
    return True
