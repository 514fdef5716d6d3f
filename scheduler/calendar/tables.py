"""Tables (tracks) managed by staff: create, edit, close and reopen a table, and plan a series of meetings.

A table made or edited here is the office's: reloading the call file never changes it (`edited_in_app_at`).
Its meetings are planned through `services.create_meeting`, one event each with its own UID, so every meeting
of a series is edited, moved or cancelled on its own afterwards. Like `services`, nothing here commits or
reads the request; every change is written to the audit log in the caller's transaction.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa
from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday

from scheduler.audit.services import changes, record
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, MeetingStatus, Venue
from scheduler.calendar.planning import set_facilitators
from scheduler.calendar.services import CalendarError
from scheduler.calls.loader import APP_KEY_PREFIX
from scheduler.calls.models import Area, Call, Phase, Track
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.textutil import clean_line, clean_multiline
from scheduler.timeutil import ROME, local_instant, utcnow

#: The most meetings one series plans: three years of weekly meetings is a typing mistake.
MAX_SERIES = 60


@dataclass
class TableData:
    """What staff typed for a table."""

    name: str
    #: One area or more: the entities admitted to any of them take part.
    areas: list[Area]
    phase: Phase
    description: str = ""
    slot_start: time | None = None
    slot_end: time | None = None
    venue: Venue | None = None
    facilitator_ids: set[int] = field(default_factory=set)


def _check(call: Call, data: TableData) -> None:
    if not clean_line(data.name):
        raise CalendarError("Indica il nome del tavolo.", "name")
    if not data.areas:
        raise CalendarError("Scegli almeno un'area: gli enti ammessi per quell'area partecipano al tavolo.", "areas")
    if any(area.call_id != call.id for area in data.areas):
        raise CalendarError("Scegli le aree dall'elenco.", "areas")
    if data.venue is not None and data.venue.call_id != call.id:
        raise CalendarError("Scegli la sede dall'elenco.", "venue")
    if (data.slot_start is None) != (data.slot_end is None):
        raise CalendarError("Indica sia l'inizio sia la fine dell'orario abituale, o nessuno dei due.", "slot_end")
    if data.slot_start and data.slot_end and data.slot_end <= data.slot_start:
        raise CalendarError("L'orario abituale deve finire dopo l'inizio.", "slot_end")


def _audited(track: Track) -> dict:
    return {"name": track.name, "areas": sorted(track.area_ids), "phase": track.phase, "description": track.description,
            "slot_start": track.slot_start, "slot_end": track.slot_end, "venue": track.venue_id,
            "facilitators": sorted(u.id for u in track.facilitators)}


def _apply(track: Track, data: TableData) -> None:
    track.name = clean_line(data.name)[:300]
    track.set_areas(data.areas)
    track.phase = data.phase
    track.description = clean_multiline(data.description or "")
    track.slot_start, track.slot_end = data.slot_start, data.slot_end
    track.venue = data.venue
    track.edited_in_app_at = utcnow()


def create_table(call: Call, data: TableData, *, actor_id: int | None = None) -> Track:
    """A new table of the call, after the others; its facilitators assigned."""
    _check(call, data)
    position = db.session.scalar(sa.select(sa.func.max(Track.position)).where(Track.call_id == call.id))
    track = Track(call=call, key=f"{APP_KEY_PREFIX}{secrets.token_hex(6)}", position=(position or 0) + 1)
    _apply(track, data)
    db.session.add(track)
    db.session.flush()
    set_facilitators(track, data.facilitator_ids)
    record("track.created", "track", track.id, actor_id=actor_id, call_id=call.id, **_audited(track))
    return track


def update_table(track: Track, data: TableData, *, actor_id: int | None = None) -> Track:
    """Save the table as typed. Its meetings keep their own times and venues: a new usual slot or venue is
    what the next meetings start with, never a change of the meetings already planned."""
    if track.is_closed:
        raise CalendarError("Il tavolo è chiuso: riaprilo per modificarlo.", code="closed")
    _check(track.call, data)
    before = _audited(track)
    _apply(track, data)
    db.session.flush()
    set_facilitators(track, data.facilitator_ids)
    changed = changes(before, _audited(track))
    if changed:
        record("track.changed", "track", track.id, actor_id=actor_id, call_id=track.call_id, changes=changed)
    return track


def upcoming_of(track: Track, now: datetime | None = None) -> list[Meeting]:
    """The table's scheduled meetings that have not ended, soonest first."""
    return list(db.session.scalars(
        sa.select(Meeting).where(Meeting.track_id == track.id, Meeting.status == MeetingStatus.SCHEDULED,
                                 Meeting.ends_at > (now or utcnow()))
        .order_by(Meeting.starts_at)
    ))


def close_table(track: Track, *, actor_id: int | None = None) -> Track:
    """Close a table whose work is done: it keeps its meetings, answers and registers, takes no new meetings
    and leaves the upcoming lists. A table with meetings still to come is not closed: they would be left
    in people's calendars."""
    if track.is_closed:
        raise CalendarError("Il tavolo è già chiuso.", code="closed")
    upcoming = upcoming_of(track)
    if upcoming:
        raise CalendarError(
            f"Il tavolo ha ancora {len(upcoming)} incontri in programma (il prossimo: "
            f"{format_when(upcoming[0].starts_at, upcoming[0].ends_at)}): annullali prima di chiuderlo."
            if len(upcoming) > 1 else
            f"Il tavolo ha ancora un incontro in programma ({format_when(upcoming[0].starts_at, upcoming[0].ends_at)}):"
            " annullalo prima di chiuderlo.", "close", code="closed")
    track.closed_at = utcnow()
    track.edited_in_app_at = track.closed_at
    record("track.closed", "track", track.id, actor_id=actor_id, call_id=track.call_id)
    return track


def reopen_table(track: Track, *, actor_id: int | None = None) -> Track:
    if not track.is_closed:
        raise CalendarError("Il tavolo è aperto.", code="closed")
    track.closed_at = None
    track.edited_in_app_at = utcnow()
    record("track.reopened", "track", track.id, actor_id=actor_id, call_id=track.call_id)
    return track


# --- series of meetings -----------------------------------------------------------------------------------------


class Frequency(enum.Enum):
    """How often the meetings of a series repeat, from the first day's weekday."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    #: The same weekday of the same week of each month (the second Tuesday), or the last one if the first day is.
    MONTHLY = "monthly"


@dataclass
class SeriesPlan:
    """What staff typed for a series: from the first day to the last, at the same local time."""

    first_day: date
    last_day: date
    frequency: Frequency
    start: time
    end: time
    venue: Venue | None = None
    capacity: int | None = None


def week_of_month(day: date) -> int:
    """1 for the first such weekday of the month ... 4; -1 for the last one when it is the fifth."""
    week = (day.day - 1) // 7 + 1
    return -1 if week == 5 else week


def series_days(plan: SeriesPlan) -> list[date]:
    """The days of the series, the first day included (the rule every calendar app understands: RRULE)."""
    if plan.frequency is Frequency.MONTHLY:
        rule = rrule(MONTHLY, dtstart=plan.first_day, until=plan.last_day,
                     byweekday=weekday(plan.first_day.weekday(), week_of_month(plan.first_day)))
    else:
        rule = rrule(WEEKLY, dtstart=plan.first_day, until=plan.last_day,
                     interval=2 if plan.frequency is Frequency.FORTNIGHTLY else 1)
    return [moment.date() for moment in rule.between(
        datetime.combine(plan.first_day, time(0)), datetime.combine(plan.last_day, time(23, 59)), inc=True)]


def check_series(track: Track, plan: SeriesPlan, now: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """The meetings the series would plan, as (start, end) in UTC; raises with the field to correct."""
    now = now or utcnow()
    if track.is_closed:
        raise CalendarError("Il tavolo è chiuso: riaprilo per aggiungere incontri.", code="closed")
    if plan.end <= plan.start:
        raise CalendarError("L'incontro deve finire dopo l'inizio.", "end")
    if plan.last_day < plan.first_day:
        raise CalendarError("L'ultimo giorno deve venire dopo il primo.", "last_day")
    if local_instant(plan.first_day, plan.start, ROME) < now:
        raise CalendarError("Il primo incontro sarebbe già passato: scegli un giorno a venire.", "first_day")
    if plan.capacity is not None and plan.capacity < 1:
        raise CalendarError("La capienza deve essere almeno 1.", "capacity")
    days = series_days(plan)
    if len(days) > MAX_SERIES:
        raise CalendarError(f"La serie avrebbe {len(days)} incontri: al massimo {MAX_SERIES} per volta. "
                            "Scegli un ultimo giorno più vicino.", "last_day")
    slots = [(local_instant(day, plan.start, ROME), local_instant(day, plan.end, ROME)) for day in days]
    if not slots:
        raise CalendarError("Tra il primo e l'ultimo giorno non cade nessun incontro.", "last_day")
    existing = list(db.session.scalars(
        sa.select(Meeting).where(Meeting.track_id == track.id, Meeting.status == MeetingStatus.SCHEDULED,
                                 Meeting.starts_at < slots[-1][1], Meeting.ends_at > slots[0][0])
        .order_by(Meeting.starts_at)
    ))
    clashes = [m for m in existing if any(m.starts_at < end and m.ends_at > start for start, end in slots)]
    if clashes:
        listed = "; ".join(format_when(m.starts_at, m.ends_at) for m in clashes[:3])
        more = f" e altri {len(clashes) - 3}" if len(clashes) > 3 else ""
        raise CalendarError(f"La serie si sovrappone a incontri già in calendario per questo tavolo: {listed}{more}. "
                            "Cambia i giorni o l'orario, oppure sposta quegli incontri.", "first_day", code="conflict")
    return slots


def plan_series(track: Track, plan: SeriesPlan, *, actor_id: int | None = None) -> list[Meeting]:
    """Plan every meeting of the series, each its own event, numbered after the table's others."""
    slots = check_series(track, plan)
    meetings = [services.create_meeting(track, starts, ends, venue=plan.venue, capacity=plan.capacity,
                                        actor_id=actor_id)
                for starts, ends in slots]
    record("track.series_planned", "track", track.id, actor_id=actor_id, call_id=track.call_id,
           frequency=plan.frequency, first_day=plan.first_day, last_day=plan.last_day, start=plan.start,
           end=plan.end, meetings=[m.id for m in meetings])
    return meetings
