"""Dates and times as people read them, in Italian by default, in the call's zone.

Pure functions with the locale and zone passed in, so e-mails written by the worker or the CLI read the same
as the pages.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time

from scheduler.timeutil import ROME


def N_(text: str) -> str:  # gettext's conventional name for "mark only"
    """Mark a text for the message catalogue without translating it: services keep it in Italian (it is also
    stored), and the views that show it translate it with `gettext`."""
    return text


def _time(dt: datetime, locale: str, tz: ZoneInfo) -> str:
    return format_time(dt, "H:mm", tzinfo=tz, locale=locale)


def format_clock(dt: datetime, locale: str = "it", tz: ZoneInfo = ROME) -> str:
    """'16:30', in the call's zone."""
    return _time(dt, locale, tz)


def format_day(dt: datetime, locale: str = "it", tz: ZoneInfo = ROME) -> str:
    """'mercoledì 15 maggio 2024'."""
    return format_datetime(dt, "EEEE d MMMM y", tzinfo=tz, locale=locale)


@lru_cache(maxsize=1024)
def format_when(starts_at: datetime, ends_at: datetime, locale: str = "it", tz: ZoneInfo = ROME) -> str:
    """'mercoledì 15 maggio 2024, 9:30-13:00' (the end's day too when it differs).

    Kept for the next call: a page lists a meeting many times, and a change writes it into hundreds of
    messages, while Babel takes a tenth of a millisecond to format it.
    """
    start_local = starts_at.astimezone(tz)
    end_local = ends_at.astimezone(tz)
    text = f"{format_day(starts_at, locale, tz)}, {_time(starts_at, locale, tz)}-"
    if end_local.date() != start_local.date():
        text += f"{format_day(ends_at, locale, tz)}, "
    return text + _time(ends_at, locale, tz)


def format_instant(dt: datetime, locale: str = "it", tz: ZoneInfo = ROME) -> str:
    """'15/05/2024, 9:30' for logs and tables."""
    return format_datetime(dt, "dd/MM/y, H:mm", tzinfo=tz, locale=locale)


def format_long_date(day: date, locale: str = "it") -> str:
    """'2 maggio 2024' for a calendar day (deadlines)."""
    return format_date(day, "d MMMM y", locale=locale)


def sort_key(text: str) -> str:
    """Accents and case ignored, the same on every database (collations differ between SQLite and PostgreSQL)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def hours_text(minutes: int) -> str:
    """"2:30" (hours and minutes), as registers of hours are written."""
    return f"{minutes // 60}:{minutes % 60:02d}"
