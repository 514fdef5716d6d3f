"""Time helpers: instants are stored in UTC and shown in the call's zone (Europe/Rome)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def utcnow() -> datetime:
    """The current instant, timezone-aware; tests replace `scheduler.timeutil.clock` to move time."""
    return clock()


def _system_clock() -> datetime:
    return datetime.now(UTC)


clock = _system_clock


def local_instant(day: date, at: time, tz: ZoneInfo = ROME) -> datetime:
    """A wall-clock time on a day in `tz`, as an aware UTC instant (DST handled by zoneinfo)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def end_of_day(day: date, tz: ZoneInfo = ROME) -> datetime:
    """The last instant of `day` in `tz`: a deadline "entro il 2 maggio" includes all of 2 May."""
    return local_instant(day + timedelta(days=1), time(0, 0), tz) - timedelta(microseconds=1)


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 text, the form exported data carries it in; None (never happened) stays None."""
    return value.isoformat() if value else None
