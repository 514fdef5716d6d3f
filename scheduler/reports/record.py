"""The entity's own record: its past meetings, present or absent, who of its people came; its certificate and
attendance per call.

Reading only, no request globals. Always about one organization, whose id the view takes from the signed-in
account (never from the URL): nothing here can name another entity's data.

Definitions (the same as the staff's report, `services`):
- the meetings listed are the scheduled (not cancelled) meetings that have already ended and that the entity
  either confirmed (answer YES) or was registered present at without having confirmed;
- present: a check-in, not undone, for the organization; absent: a confirmed answer and no such check-in;
- the people: the names of the check-ins not undone for the organization, in the order they were checked in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scheduler.attendance.models import Attendance, participation_minutes
from scheduler.calendar.models import Meeting, MeetingStatus, Rsvp, RsvpStatus
from scheduler.calls.models import Area, Call, Track
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import N_, hours_text
from scheduler.registry.models import Application
from scheduler.reports.services import present_at
from scheduler.timeutil import ROME, utcnow

PRESENT = N_("Presente")
ABSENT = N_("Assente")


class RecordError(DomainError):
    default_code = "not_found"


@dataclass
class RecordMeeting:
    meeting_id: int
    starts_at: datetime
    ends_at: datetime
    track_name: str
    area_code: str
    title: str | None
    number: int | None
    present: bool
    #: The names of its people checked in, in the order they came (none when absent).
    people: list[str] = field(default_factory=list)
    #: Minutes of participation, where the register recorded departures (`participation_minutes`); else None.
    minutes: int | None = None
    records_departures: bool = False


@dataclass
class CallRecord:
    call: Call
    #: Oldest first.
    meetings: list[RecordMeeting]

    @property
    def present(self) -> int:
        return sum(1 for m in self.meetings if m.present)

    @property
    def absent(self) -> int:
        return sum(1 for m in self.meetings if not m.present)


def _meetings(organization_id: int, call_id: int | None) -> list[tuple[int, RecordMeeting]]:
    """(call id, meeting) of the entity's record, oldest first; two queries whatever the number of meetings."""
    org = sa.literal(organization_id)
    confirmed = sa.exists().where(Rsvp.meeting_id == Meeting.id, Rsvp.organization_id == org,
                                  Rsvp.status == RsvpStatus.YES)
    present = present_at(Meeting.id, org)
    conditions: list[Any] = [Meeting.status == MeetingStatus.SCHEDULED, Meeting.ends_at <= utcnow(),
                             sa.or_(confirmed, present)]
    if call_id is not None:
        conditions.append(Track.call_id == call_id)
    rows = db.session.execute(
        sa.select(Track.call_id, Meeting.id, Meeting.starts_at, Meeting.ends_at, Track.name, Area.code, Meeting.title,
                  Meeting.number, present.label("present"), Meeting.records_departures)
        .join(Meeting.track).join(Track.area)
        .where(*conditions)
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    meetings = [(r.call_id, RecordMeeting(r.id, r.starts_at, r.ends_at, r.name, r.code, r.title, r.number,
                                          bool(r.present), records_departures=r.records_departures)) for r in rows]
    by_id = {m.meeting_id: m for _call_id, m in meetings if m.present}
    spans: dict[int, list[tuple[datetime, datetime | None]]] = {}
    if by_id:
        for meeting_id, name, arrived, left in db.session.execute(
            sa.select(Attendance.meeting_id, Attendance.person_name, Attendance.checked_in_at, Attendance.left_at)
            .where(Attendance.meeting_id.in_(list(by_id)), Attendance.organization_id == organization_id,
                   Attendance.undone_at.is_(None))
            .order_by(Attendance.checked_in_at, Attendance.id)
        ):
            people = by_id[meeting_id].people
            if name and name not in people:
                people.append(name)
            spans.setdefault(meeting_id, []).append((arrived, left))
    for meeting_id, meeting in by_id.items():
        if meeting.records_departures:
            meeting.minutes = participation_minutes(meeting.starts_at, meeting.ends_at, spans.get(meeting_id, []))
    return meetings


def entity_record(organization_id: int, ambito_id: int | None = None) -> list[CallRecord]:
    """The entity's record in each call of the Ambito (None: of every Ambito) it applied to or has meetings in: the
    current call first, then the most recent ones; a call without meetings yet has an empty list. Three queries.

    The reserved area on an Ambito's host lists that Ambito's calls only: another's are not found there, nor are
    the downloads the page links to."""
    meetings = _meetings(organization_id, None)
    call_ids = {call_id for call_id, _m in meetings}
    calls = db.session.scalars(
        sa.select(Call).where(sa.or_(
            Call.id.in_(call_ids),
            Call.id.in_(sa.select(Application.call_id).where(Application.organization_id == organization_id)),
        ), *([Call.ambito_id == ambito_id] if ambito_id is not None else []))
        .order_by(Call.is_current.desc(), Call.id.desc())
    ).all()
    return [CallRecord(call, [m for call_id, m in meetings if call_id == call.id]) for call in calls]


def call_record(call: Call, organization_id: int) -> CallRecord:
    """The entity's record in one call; `RecordError` (not found) when it neither applied to the call nor has a
    meeting in it, as for a call that does not exist."""
    meetings = [m for _call_id, m in _meetings(organization_id, call.id)]
    if not meetings and db.session.scalar(
        sa.select(sa.func.count()).select_from(Application)
        .where(Application.call_id == call.id, Application.organization_id == organization_id)
    ) == 0:
        raise RecordError(N_("L'ente non partecipa a questo avviso."))
    return CallRecord(call, meetings)


def _italian(text: str, **values: Any) -> str:
    return text % values if values else text


def meeting_label(meeting: RecordMeeting, gettext: Callable[..., str] = _italian) -> str:
    """The meeting's title, else its number in the table ("Incontro 3"), as calendars name it."""
    if meeting.title:
        return meeting.title
    return gettext("Incontro %(num)d", num=meeting.number) if meeting.number else ""


def attendance_table(record: CallRecord, gettext: Callable[..., str] = _italian) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the entity's attendance in a call, oldest first, for `exports.csv_bytes`: date and
    times in local time, area, table, meeting, present or absent, the people checked in. `gettext` translates
    the words (flask_babel's in a request; Italian by default)."""
    header = [gettext("Data"), gettext("Inizio"), gettext("Fine"), gettext("Area"), gettext("Percorso"),
              gettext("Incontro"), gettext("Presenza"), gettext("Persone presenti")]
    hours = any(m.minutes is not None for m in record.meetings)
    if hours:
        header.append(gettext("Ore di partecipazione"))
    rows = []
    for m in record.meetings:
        starts, ends = m.starts_at.astimezone(ROME), m.ends_at.astimezone(ROME)
        row = [starts.date(), starts.strftime("%H:%M"), ends.strftime("%H:%M"), m.area_code, m.track_name,
               meeting_label(m, gettext), gettext(PRESENT if m.present else ABSENT), ", ".join(m.people)]
        if hours:
            row.append(hours_text(m.minutes) if m.minutes is not None else "")
        rows.append(row)
    return header, rows
