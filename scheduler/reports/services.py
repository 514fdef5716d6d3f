"""Participation reports: who confirmed, who came, who stayed away without notice, by meeting, entity, area, comune.

Reading only, no request globals: the page, the exports and the certificate share these queries. The numbers are
counted by the database (GROUP BY), a fixed number of queries whatever the number of meetings and entities.

Definitions (also stated on the page):
- meetings counted: scheduled (not cancelled) meetings of the call that have already ended, starting within the
  period (calendar days in Europe/Rome, both ends included);
- confirmed: answers YES; present: distinct entities with at least one check-in not undone;
- walk-ins: people checked in without an entity (guests, individuals) or with the walk-in method;
- absent without notice: entities that answered YES and have no check-in at that meeting;
- rate of an entity: meetings of its admitted areas it attended ÷ meetings of its admitted areas in the period.
With a comune chosen, every count about entities counts only the entities operating in that comune (guests and
individuals have no comune, so walk-ins count only people who came for such an entity).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from scheduler.attendance.models import Attendance, AttendanceMethod, participation_minutes
from scheduler.calendar.models import Meeting, MeetingStatus, Rsvp, RsvpStatus
from scheduler.calls.models import Area, Call, Comune, Track, track_areas, tracks_of_areas
from scheduler.extensions import db
from scheduler.mailing.models import MailCategory, OutboxMessage
from scheduler.mailing.services import enqueue, render_mail
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationStatus,
    Organization,
    organization_comuni,
)
from scheduler.registry.recipients import Directory, Purpose
from scheduler.timeutil import ROME, local_instant, utcnow


@dataclass
class MeetingRow:
    meeting_id: int
    starts_at: datetime
    ends_at: datetime
    title: str | None
    track_id: int
    track_name: str
    area_code: str
    area_name: str
    confirmed: int = 0
    present: int = 0
    walk_ins: int = 0
    absent: int = 0
    records_departures: bool = False


@dataclass
class EntityRow:
    organization_id: int
    name: str
    is_sample: bool
    comuni: list[str] = field(default_factory=list)
    comune_ids: list[int] = field(default_factory=list)
    #: Meetings attended, by track id.
    by_track: dict[int, int] = field(default_factory=dict)
    #: Answers YES in the period, and those without a check-in.
    confirmed: int = 0
    absent: int = 0
    #: Meetings of its admitted areas in the period, and those it attended.
    possible: int = 0
    attended_possible: int = 0
    last_presence: datetime | None = None
    #: Minutes of participation at the meetings whose register recorded departures; None: none did.
    minutes: int | None = None

    @property
    def attended(self) -> int:
        return sum(self.by_track.values())

    @property
    def rate(self) -> float | None:
        """Share of the meetings of its admitted areas it attended; None when it had none."""
        return self.attended_possible / self.possible if self.possible else None


@dataclass
class AreaRow:
    code: str
    name: str
    meetings: int = 0
    confirmed: int = 0
    #: Presences: entities present, summed over the meetings.
    present: int = 0
    walk_ins: int = 0
    absent: int = 0
    #: Distinct entities present at least once.
    entities: int = 0


@dataclass
class ComuneRow:
    comune_id: int
    name: str
    #: Distinct entities of the comune present at least once.
    entities: int = 0
    #: Presences of its entities, summed over the meetings.
    presences: int = 0
    confirmed: int = 0
    absent: int = 0


@dataclass
class TrackColumn:
    track_id: int
    name: str
    area_code: str


@dataclass
class Report:
    date_from: date | None
    date_to: date | None
    area_code: str | None
    comune_id: int | None
    meetings: list[MeetingRow]
    entities: list[EntityRow]
    areas: list[AreaRow]
    comuni: list[ComuneRow]
    #: The tracks that have meetings in the report, for the per-entity columns.
    tracks: list[TrackColumn]

    @property
    def entities_present(self) -> int:
        return sum(1 for e in self.entities if e.attended)


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def this_year() -> int:
    return utcnow().astimezone(ROME).year


def _meeting_conditions(call: Call, date_from: date | None, date_to: date | None,
                        area_code: str | None) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [
        Track.call_id == call.id,
        Meeting.status == MeetingStatus.SCHEDULED,
        Meeting.ends_at <= utcnow(),
    ]
    if date_from is not None:
        conditions.append(Meeting.starts_at >= local_instant(date_from, time(0, 0)))
    if date_to is not None:
        conditions.append(Meeting.starts_at < local_instant(date_to + timedelta(days=1), time(0, 0)))
    if area_code:
        conditions.append(Track.id.in_(tracks_of_areas(
            sa.select(Area.id).where(Area.call_id == call.id, Area.code == area_code)
        )))
    return conditions


def _in_comune(org_column: sa.ColumnElement, comune_id: int | None) -> list[sa.ColumnElement[bool]]:
    if comune_id is None:
        return []
    return [org_column.in_(
        sa.select(organization_comuni.c.organization_id).where(organization_comuni.c.comune_id == comune_id)
    )]


def present_at(meeting_id: sa.ColumnElement, organization_id: sa.ColumnElement) -> sa.Exists:
    """A check-in, not undone, of that entity at that meeting."""
    return sa.exists().where(
        Attendance.meeting_id == meeting_id,
        Attendance.organization_id == organization_id,
        Attendance.undone_at.is_(None),
    )


def participation(call: Call, *, date_from: date | None, date_to: date | None, area_code: str | None = None,
                  comune_id: int | None = None) -> Report:
    """The report for the period (None: unbounded), optionally for one area and the entities of one comune.

    Eight queries whatever the number of meetings, entities and check-ins (nine where a register in the period
    recorded departures: the hours of participation).
    """
    conditions = _meeting_conditions(call, date_from, date_to, area_code)
    meeting_ids = sa.select(Meeting.id).join(Meeting.track).where(*conditions)

    # 1. the meetings
    meetings = [
        MeetingRow(meeting_id=r.id, starts_at=r.starts_at, ends_at=r.ends_at, title=r.title, track_id=r.track_id,
                   track_name=r.track_name, area_code=r.area_code, area_name=r.area_name,
                   records_departures=r.records_departures)
        for r in db.session.execute(
            sa.select(Meeting.id, Meeting.starts_at, Meeting.ends_at, Meeting.title, Track.id.label("track_id"),
                      Track.name.label("track_name"), Area.code.label("area_code"), Area.name.label("area_name"),
                      Meeting.records_departures)
            .join(Meeting.track).join(Track.area)
            .where(*conditions)
            .order_by(Meeting.starts_at, Meeting.id)
        )
    ]
    by_meeting = {m.meeting_id: m for m in meetings}

    # 2. confirmed and absent without notice, per meeting and entity
    absent_case = sa.case((~present_at(Rsvp.meeting_id, Rsvp.organization_id), 1), else_=0)
    rsvp_rows = db.session.execute(
        sa.select(Rsvp.meeting_id, Rsvp.organization_id, sa.func.count(), sa.func.sum(absent_case))
        .where(Rsvp.meeting_id.in_(meeting_ids), Rsvp.status == RsvpStatus.YES,
               *_in_comune(Rsvp.organization_id, comune_id))
        .group_by(Rsvp.meeting_id, Rsvp.organization_id)
    ).all()

    # 3. present entities and walk-ins per meeting
    walk_in = sa.or_(Attendance.organization_id.is_(None), Attendance.method == AttendanceMethod.WALK_IN)
    for meeting_id, present, walk_ins in db.session.execute(
        sa.select(Attendance.meeting_id, sa.func.count(sa.distinct(Attendance.organization_id)),
                  sa.func.sum(sa.case((walk_in, 1), else_=0)))
        .where(Attendance.meeting_id.in_(meeting_ids), Attendance.undone_at.is_(None),
               *_in_comune(Attendance.organization_id, comune_id))
        .group_by(Attendance.meeting_id)
    ):
        by_meeting[meeting_id].present = present
        by_meeting[meeting_id].walk_ins = int(walk_ins or 0)

    # 4. meetings attended per entity and track, with the last presence
    presence_rows = db.session.execute(
        sa.select(Attendance.organization_id, Meeting.track_id, sa.func.count(sa.distinct(Meeting.id)),
                  sa.func.max(Meeting.starts_at))
        .join(Attendance.meeting)
        .where(Meeting.id.in_(meeting_ids), Attendance.undone_at.is_(None), Attendance.organization_id.is_not(None),
               *_in_comune(Attendance.organization_id, comune_id))
        .group_by(Attendance.organization_id, Meeting.track_id)
    ).all()

    # 5. meetings each admitted entity could attend (those of tables serving one of its admitted areas), per
    # table: a table of two areas the entity was admitted to counts its meetings once
    possible_rows = db.session.execute(
        sa.select(Application.organization_id, Meeting.track_id, sa.func.count(sa.distinct(Meeting.id)))
        .join(ApplicationArea, ApplicationArea.application_id == Application.id)
        .join(track_areas, track_areas.c.area_id == ApplicationArea.area_id)
        .join(Meeting, Meeting.track_id == track_areas.c.track_id)
        .where(Application.call_id == call.id, Application.status == ApplicationStatus.ADMITTED,
               Meeting.id.in_(meeting_ids), *_in_comune(Application.organization_id, comune_id))
        .group_by(Application.organization_id, Meeting.track_id)
    ).all()

    # 6. the entities involved, with their comuni
    org_ids = {r[1] for r in rsvp_rows} | {r[0] for r in presence_rows} | {r[0] for r in possible_rows}
    entities: dict[int, EntityRow] = {}
    if org_ids:
        for org_id, name, is_sample, comune_id_, comune_name in db.session.execute(
            sa.select(Organization.id, Organization.name, Organization.is_sample, Comune.id, Comune.name)
            .outerjoin(organization_comuni, organization_comuni.c.organization_id == Organization.id)
            .outerjoin(Comune, Comune.id == organization_comuni.c.comune_id)
            .where(Organization.id.in_(org_ids))
            .order_by(Organization.name, Organization.id, Comune.name)
        ):
            row = entities.setdefault(org_id, EntityRow(org_id, name, is_sample))
            if comune_name:
                row.comuni.append(comune_name)
                row.comune_ids.append(comune_id_)

    # 7. the areas and comuni of the call, and the areas each table serves
    areas: dict[int, Area] = {}
    track_codes: dict[int, list[str]] = defaultdict(list)
    for area, track_id in db.session.execute(
        sa.select(Area, track_areas.c.track_id).outerjoin(track_areas, track_areas.c.area_id == Area.id)
        .where(Area.call_id == call.id)
    ):
        areas[area.id] = area
        if track_id is not None:
            track_codes[track_id].append(area.code)
    all_comuni = {c.id: c for c in db.session.scalars(sa.select(Comune).where(Comune.call_id == call.id))}

    # putting the counted rows together (one row per meeting, entity or track: never per check-in)
    for meeting_id, org_id, confirmed, absent in rsvp_rows:
        by_meeting[meeting_id].confirmed += confirmed
        by_meeting[meeting_id].absent += int(absent or 0)
        entities[org_id].confirmed += confirmed
        entities[org_id].absent += int(absent or 0)
    possible_tracks: dict[int, set[int]] = defaultdict(set)
    for org_id, track_id, count in possible_rows:
        entities[org_id].possible += count
        possible_tracks[org_id].add(track_id)
    present_by_area: dict[str, set[int]] = defaultdict(set)
    for org_id, track_id, count, last in presence_rows:
        entity = entities[org_id]
        entity.by_track[track_id] = count
        if entity.last_presence is None or last > entity.last_presence:
            entity.last_presence = last
        for code in track_codes[track_id]:
            present_by_area[code].add(org_id)
        if track_id in possible_tracks[org_id]:
            entity.attended_possible += count

    area_rows = {a.code: AreaRow(a.code, a.name) for a in sorted(areas.values(), key=lambda a: a.code)
                 if not area_code or a.code == area_code}
    for m in meetings:
        # a table of several areas counts in each of them
        for code in track_codes[m.track_id]:
            row = area_rows.get(code)
            if row is None:
                continue  # the report of one area: the table's other areas are not shown
            row.meetings += 1
            row.confirmed += m.confirmed
            row.present += m.present
            row.walk_ins += m.walk_ins
            row.absent += m.absent
    for code, orgs in present_by_area.items():
        if code in area_rows:
            area_rows[code].entities = len(orgs)

    comune_rows = {c.id: ComuneRow(c.id, c.name) for c in sorted(all_comuni.values(), key=lambda c: c.name)
                   if comune_id is None or c.id == comune_id}
    for entity in entities.values():
        for entity_comune in entity.comune_ids:
            row = comune_rows.get(entity_comune)
            if row is None:
                continue
            row.entities += 1 if entity.attended else 0
            row.presences += entity.attended
            row.confirmed += entity.confirmed
            row.absent += entity.absent

    # 9. only where a register recorded departures: the hours of each entity there
    timed = [m.meeting_id for m in meetings if m.records_departures]
    if timed:
        spans: dict[tuple[int, int], list[tuple[datetime, datetime | None]]] = defaultdict(list)
        for meeting_id, org_id, arrived, left in db.session.execute(
            sa.select(Attendance.meeting_id, Attendance.organization_id, Attendance.checked_in_at, Attendance.left_at)
            .where(Attendance.meeting_id.in_(timed), Attendance.undone_at.is_(None),
                   Attendance.organization_id.is_not(None), *_in_comune(Attendance.organization_id, comune_id))
        ):
            spans[(meeting_id, org_id)].append((arrived, left))
        for (meeting_id, org_id), people in spans.items():
            meeting = by_meeting[meeting_id]
            if org_id in entities:
                entities[org_id].minutes = (entities[org_id].minutes or 0) + participation_minutes(
                    meeting.starts_at, meeting.ends_at, people)

    tracks: dict[int, TrackColumn] = {}
    for m in meetings:
        tracks.setdefault(m.track_id, TrackColumn(m.track_id, m.track_name, m.area_code))
    entity_rows = sorted(entities.values(), key=lambda e: (-e.attended, e.name.casefold(), e.organization_id))
    return Report(
        date_from=date_from, date_to=date_to, area_code=area_code or None, comune_id=comune_id,
        meetings=meetings, entities=entity_rows, areas=list(area_rows.values()),
        comuni=sorted(comune_rows.values(), key=lambda c: (-c.presences, c.name)),
        tracks=sorted(tracks.values(), key=lambda t: (t.area_code, t.name)),
    )


# --- one entity's certificate ----------------------------------------------------------------------------------


@dataclass
class AttendedMeeting:
    starts_at: datetime
    ends_at: datetime
    track_name: str
    area_code: str
    title: str | None
    #: Its number in the table ("Incontro 3"), for a meeting without a title of its own.
    number: int | None = None
    #: Minutes of participation where the register recorded departures (`participation_minutes`); else None.
    minutes: int | None = None


def took_part(call: Call, organization_id: int) -> bool:
    """Whether the entity applied to the call or was checked in at one of its meetings: the entities a
    certificate of the call may be written for (entities are every Ambito's; a call's record is its own)."""
    applied = sa.exists().where(Application.call_id == call.id, Application.organization_id == organization_id)
    present = (sa.exists().where(Attendance.organization_id == organization_id, Attendance.undone_at.is_(None),
                                 Attendance.meeting_id == Meeting.id, Meeting.track_id == Track.id,
                                 Track.call_id == call.id))
    return bool(db.session.scalar(sa.select(sa.or_(applied, present))))


def attended_meetings(call: Call, organization_id: int, *, date_from: date | None,
                      date_to: date | None) -> list[AttendedMeeting]:
    """The meetings of the period at which the entity was checked in (not undone), oldest first, with the hours
    of participation where the register recorded departures. Two queries."""
    conditions = _meeting_conditions(call, date_from, date_to, None)
    rows = db.session.execute(
        sa.select(Meeting.starts_at, Meeting.ends_at, Track.name, Area.code, Meeting.title, Meeting.number,
                  Meeting.id, Meeting.records_departures)
        .join(Meeting.track).join(Track.area)
        .where(*conditions, present_at(Meeting.id, sa.literal(organization_id)))
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    timed = [row.id for row in rows if row.records_departures]
    spans: dict[int, list[tuple[datetime, datetime | None]]] = {}
    if timed:
        for meeting_id, arrived, left in db.session.execute(
            sa.select(Attendance.meeting_id, Attendance.checked_in_at, Attendance.left_at)
            .where(Attendance.meeting_id.in_(timed), Attendance.organization_id == organization_id,
                   Attendance.undone_at.is_(None))
        ):
            spans.setdefault(meeting_id, []).append((arrived, left))
    return [AttendedMeeting(*row[:6], minutes=participation_minutes(row.starts_at, row.ends_at, spans.get(row.id, []))
                            if row.records_departures else None) for row in rows]


# --- writing to the absent -------------------------------------------------------------------------------------


def report_meeting(call: Call, meeting_id: int) -> Meeting | None:
    """A meeting of the call that the report counts (scheduled and ended); None otherwise."""
    return db.session.scalar(
        sa.select(Meeting).join(Meeting.track)
        .where(Meeting.id == meeting_id, *_meeting_conditions(call, None, None, None))
    )


#: The outbox header naming the meeting an absence notice is about (so a second sending skips who got one).
MEETING_HEADER = "X-Tavoli-Meeting"


@dataclass
class Recipient:
    organization_id: int
    name: str
    email: str
    #: Already written to about this meeting (a notice is in the outbox or sent).
    written: bool = False


def absent_recipients(meeting: Meeting) -> list[Recipient]:
    """The addresses of each entity that confirmed and did not come (`registry.recipients`, FOLLOW_UP).

    Entities whose data were erased are left out; an address shared by two entities gets one message.
    """
    written = {
        address.lower() for address in db.session.scalars(
            sa.select(OutboxMessage.to_address).where(
                OutboxMessage.topic == "absent-notice",
                OutboxMessage.headers[MEETING_HEADER].as_string() == str(meeting.id),
            )
        )
    }
    rsvps = list(db.session.scalars(
        sa.select(Rsvp).join(Organization, Organization.id == Rsvp.organization_id)
        .where(Rsvp.meeting_id == meeting.id, Rsvp.status == RsvpStatus.YES, Organization.erased_at.is_(None),
               ~present_at(Rsvp.meeting_id, Rsvp.organization_id))
        .order_by(Organization.name, Organization.id)
        .options(selectinload(Rsvp.organization).selectinload(Organization.contacts))
    ))
    directory = Directory(r.answered_by_id for r in rsvps)
    seen: set[str] = set()
    recipients = []
    for rsvp in rsvps:
        for address in directory.addresses(rsvp.organization, Purpose.FOLLOW_UP, answered_by_id=rsvp.answered_by_id):
            if address.key in seen:
                continue
            seen.add(address.key)
            recipients.append(Recipient(rsvp.organization_id, rsvp.organization.name, address.email,
                                        written=address.key in written))
    return recipients


def write_to_absent(call: Call, meeting: Meeting, *, subject: str, text: str) -> int:
    """Queue one message per absent entity not yet written to about this meeting (the caller commits).

    Returns how many were queued.
    """
    recipients = [r for r in absent_recipients(meeting) if not r.written]
    queued = 0
    for recipient in recipients:
        body_text, body_html = render_mail("absent_notice", call=call, subject=subject, text=text,
                                           organization_name=recipient.name)
        queued += enqueue(to=recipient.email, to_name=recipient.name, subject=subject, text=body_text,
                          html=body_html, topic="absent-notice", category=MailCategory.OPTIONAL,
                          headers={MEETING_HEADER: str(meeting.id)}, ambito=call.ambito) is not None
    return queued
