"""Staff planning of the calendar: the overview, meeting edits in one step, venues and facilitators; and the
tracks with their meetings that the public home page lists.

Builds on `services` (which owns the rules of a meeting's time, venue and answers, and is the only place a
meeting changes) and, like it, never commits and never reads the request: the views call these functions, turn a
`DomainError` into a message and commit once, so a change and the e-mails it causes land in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption

from scheduler.audit.services import changes, record
from scheduler.auth.models import Role, User
from scheduler.auth.services import create_staff
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, MeetingMode, MeetingStatus, Rsvp, RsvpStatus, Venue
from scheduler.calendar.services import CalendarError, Outcome
from scheduler.calls.models import Ambito, Call, Comune, Track
from scheduler.extensions import db
from scheduler.timeutil import utcnow

# --- the planning overview ------------------------------------------------------------------------------------


@dataclass
class MeetingCounts:
    """Answers per meeting: entities confirmed, waiting, declined; and the seats (people) the confirmed hold."""

    confirmed: int = 0
    waiting: int = 0
    declined: int = 0
    taken: int = 0


def _tracks(call: Call, *options: ORMOption) -> list[Track]:
    """The call's tracks in their order with their area, and what `options` load: a fixed number of queries."""
    query = (
        sa.select(Track)
        .where(Track.call_id == call.id)
        .order_by(Track.position, Track.id)
        .options(selectinload(Track.area), selectinload(Track.areas), *options)
    )
    return list(db.session.scalars(query))


def planning_tracks(call: Call) -> list[Track]:
    """The call's tracks with area, facilitators, meetings, venues and their comuni."""
    return _tracks(
        call,
        selectinload(Track.facilitators),
        selectinload(Track.meetings).selectinload(Meeting.venue).selectinload(Venue.comune),
    )


def tracks_with_meetings(call: Call) -> list[Track]:
    """The call's tracks with area, meetings and venues: what the public home page shows."""
    return _tracks(call, selectinload(Track.meetings).selectinload(Meeting.venue))


def answer_counts(meeting_ids: list[int]) -> dict[int, MeetingCounts]:
    """Confirmed, waiting and declined answers per meeting, in one grouped query."""
    counts = {meeting_id: MeetingCounts() for meeting_id in meeting_ids}
    if not meeting_ids:
        return counts
    rows = db.session.execute(
        sa.select(Rsvp.meeting_id, Rsvp.status, sa.func.count(), sa.func.coalesce(sa.func.sum(Rsvp.seats), 0))
        .where(Rsvp.meeting_id.in_(meeting_ids))
        .group_by(Rsvp.meeting_id, Rsvp.status)
    )
    for meeting_id, status, number, seats in rows:
        entry = counts[meeting_id]
        if status is RsvpStatus.YES:
            entry.confirmed, entry.taken = number, int(seats)
        elif status is RsvpStatus.WAITLIST:
            entry.waiting = number
        else:
            entry.declined = number
    return counts


def meeting_for_staff(meeting_id: int) -> Meeting | None:
    """One meeting with its track, area, call and venue, for the edit page."""
    return db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            selectinload(Meeting.track).options(selectinload(Track.area), selectinload(Track.areas)),
            selectinload(Meeting.track).selectinload(Track.call),
            selectinload(Meeting.venue).selectinload(Venue.comune),
        )
    )


def answers_of(meeting: Meeting) -> list[Rsvp]:
    """Every answer to the meeting, confirmed first, then the waiting list in its order, then the noes."""
    order = sa.case(
        (Rsvp.status == RsvpStatus.YES, 0), (Rsvp.status == RsvpStatus.WAITLIST, 1), else_=2
    )
    return list(db.session.scalars(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id)
        .order_by(order, Rsvp.answered_at, Rsvp.id)
        .options(selectinload(Rsvp.organization))
    ))


def track_of_call(call: Call, track_id: int) -> Track | None:
    return db.session.scalar(sa.select(Track).where(Track.id == track_id, Track.call_id == call.id))


# --- meetings ---------------------------------------------------------------------------------------------------


@dataclass
class MeetingPlan:
    """What staff typed for a meeting, already in UTC."""

    starts_at: datetime
    ends_at: datetime
    venue: Venue | None = None
    title: str | None = None
    capacity: int | None = None
    rsvp_deadline: datetime | None = None
    notes: str = ""
    agenda: str = ""
    mode: MeetingMode = MeetingMode.IN_PERSON
    online_url: str | None = None
    seats_per_entity: int | None = None


def plan_meeting(track: Track, plan: MeetingPlan, *, actor_id: int | None = None) -> Meeting:
    """A new meeting of the track (nobody has answered yet, so no e-mail)."""
    return services.create_meeting(
        track, plan.starts_at, plan.ends_at, title=plan.title, venue=plan.venue, capacity=plan.capacity,
        rsvp_deadline=plan.rsvp_deadline, notes=plan.notes, agenda=plan.agenda, mode=plan.mode,
        online_url=plan.online_url, seats_per_entity=plan.seats_per_entity, actor_id=actor_id,
    )


def edit_meeting(meeting: Meeting, plan: MeetingPlan, *, actor_id: int | None = None) -> Outcome:
    """Apply one form's worth of changes as one change of the meeting (one SEQUENCE, one message each)."""
    return services.change_meeting(
        meeting, starts_at=plan.starts_at, ends_at=plan.ends_at, venue=plan.venue, title=plan.title,
        capacity=plan.capacity, rsvp_deadline=plan.rsvp_deadline, notes=plan.notes, agenda=plan.agenda,
        mode=plan.mode, online_url=plan.online_url, seats_per_entity=plan.seats_per_entity, actor_id=actor_id,
    )


def cancel_meeting(meeting: Meeting, reason: str, *, actor_id: int | None = None) -> int:
    """Cancel the meeting with the reason staff give; returns how many messages tell its holders."""
    if meeting.is_cancelled:
        raise CalendarError("L'incontro era già annullato.", code="closed")
    if not reason.strip():
        raise CalendarError("Indica il motivo: gli enti lo leggeranno nell'annullamento.", "reason")
    return services.cancel(meeting, reason, actor_id=actor_id).notified


def restore_meeting(meeting: Meeting, starts_at: datetime, ends_at: datetime, *,
                    actor_id: int | None = None) -> Outcome:
    """Put a cancelled meeting back in the calendar, at the time typed (its own, or a new one)."""
    return services.restore(meeting, starts_at, ends_at, actor_id=actor_id)


def overlaps(track_id: int, starts_at: datetime, ends_at: datetime, exclude_id: int | None = None) -> list[Meeting]:
    """Other meetings of the track at the same time, soonest first, for a warning (never a refusal)."""
    return sorted(services.overlapping(track_id, starts_at, ends_at, exclude_id), key=lambda m: m.starts_at)


# --- venues -------------------------------------------------------------------------------------------------------


@dataclass
class VenueData:
    name: str
    address: str
    comune: Comune | None = None
    room: str | None = None
    accessibility_notes: str = ""
    map_url: str | None = None
    capacity: int | None = None


def venues_of(call: Call) -> list[Venue]:
    return list(db.session.scalars(
        sa.select(Venue).where(Venue.call_id == call.id).order_by(Venue.name, Venue.room, Venue.id)
        .options(selectinload(Venue.comune))
    ))


def venue_of_call(call: Call, venue_id: int) -> Venue | None:
    return db.session.scalar(sa.select(Venue).where(Venue.id == venue_id, Venue.call_id == call.id))


def comune_of_call(call: Call, comune_id: int) -> Comune | None:
    return db.session.scalar(sa.select(Comune).where(Comune.id == comune_id, Comune.call_id == call.id))


def upcoming_at(venue: Venue) -> list[Meeting]:
    """Scheduled meetings at this venue that have not ended: the ones a change of the venue concerns."""
    return list(db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.venue_id == venue.id, Meeting.status == MeetingStatus.SCHEDULED,
               Meeting.ends_at > utcnow())
        .order_by(Meeting.starts_at)
        .options(selectinload(Meeting.track))
    ))


def meetings_per_venue(venue_ids: list[int]) -> dict[int, int]:
    """How many upcoming scheduled meetings use each venue (one query)."""
    if not venue_ids:
        return {}
    rows = db.session.execute(
        sa.select(Meeting.venue_id, sa.func.count())
        .where(Meeting.venue_id.in_(venue_ids), Meeting.status == MeetingStatus.SCHEDULED,
               Meeting.ends_at > utcnow())
        .group_by(Meeting.venue_id)
    )
    return {venue_id: number for venue_id, number in rows}


def _apply(venue: Venue, data: VenueData) -> None:
    if data.capacity is not None and data.capacity < 1:
        raise CalendarError("La capienza deve essere almeno 1.", "capacity")
    venue.name = data.name
    venue.address = data.address
    venue.comune = data.comune
    venue.room = data.room or None
    venue.accessibility_notes = data.accessibility_notes or ""
    venue.map_url = data.map_url or None
    venue.capacity = data.capacity


def _audited_venue(venue: Venue) -> dict:
    return {"name": venue.name, "address": venue.address, "comune": venue.comune_id, "room": venue.room,
            "accessibility_notes": venue.accessibility_notes, "map_url": venue.map_url, "capacity": venue.capacity}


def create_venue(call: Call, data: VenueData, *, actor_id: int | None = None) -> Venue:
    venue = Venue(call=call)
    _apply(venue, data)
    db.session.add(venue)
    db.session.flush()
    record("venue.created", "venue", venue.id, actor_id=actor_id, call_id=call.id, **_audited_venue(venue))
    return venue


def update_venue(venue: Venue, data: VenueData, *, actor_id: int | None = None) -> Outcome:
    """Save the venue. If where it is changed, the upcoming meetings held there get an updated invitation
    (their LOCATION changed); if its seats changed, their waiting lists move up."""
    before = venue.location
    before_capacity = venue.capacity
    audited = _audited_venue(venue)
    _apply(venue, data)
    db.session.flush()
    changed = changes(audited, _audited_venue(venue))
    if changed:
        record("venue.changed", "venue", venue.id, actor_id=actor_id, call_id=venue.call_id, changes=changed)
    outcome = Outcome()
    meetings = upcoming_at(venue)
    if venue.location != before:
        outcome.venue_changed = True
        for meeting in meetings:
            outcome.messages += services.venue_edited(meeting, before).messages
    if venue.capacity != before_capacity:
        for meeting in meetings:
            if not meeting.capacity:
                outcome.promoted += services.promote_from_waitlist(meeting)
    return outcome


# --- facilitators -----------------------------------------------------------------------------------------------


def facilitators(ambito_id: int) -> list[User]:
    """The facilitator accounts of the Ambito, active first, by name; staff choose among them for a track (never
    another Ambito's: its office's people are not this office's to see or assign)."""
    return list(db.session.scalars(
        sa.select(User).where(User.role == Role.FACILITATOR, User.ambito_id == ambito_id)
        .order_by(User.active.desc(), User.full_name, User.email)
    ))


def set_facilitators(track: Track, user_ids: set[int]) -> tuple[list[User], list[User]]:
    """Make exactly these facilitators the track's; returns (added, removed). Ids of non-facilitators, or of
    another Ambito's, are refused, so a forged form cannot give a register to an entity, a staff account or a
    facilitator of another office."""
    chosen = list(db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))) if user_ids else []
    ambito_id = track.call.ambito_id
    if len(chosen) != len(user_ids) or any(
            user.role is not Role.FACILITATOR or user.ambito_id != ambito_id for user in chosen):
        raise CalendarError("Scegli i facilitatori dall'elenco.", "facilitators")
    current = {user.id: user for user in track.facilitators}
    added = [user for user in chosen if user.id not in current]
    removed = [user for user_id, user in current.items() if user_id not in user_ids]
    for user in removed:
        track.facilitators.remove(user)
    track.facilitators.extend(added)
    db.session.flush()
    return added, removed


def assign_facilitators(track: Track, user_ids: set[int], *, actor_id: int | None = None,
                        ) -> tuple[list[User], list[User]]:
    """Staff choose the table's facilitators (its page of facilitators): not on a closed table, and audited."""
    if track.is_closed:
        raise CalendarError("Il tavolo è chiuso: riaprilo per cambiarne i facilitatori.", "facilitators",
                            code="closed")
    before = sorted(u.id for u in track.facilitators)
    added, removed = set_facilitators(track, user_ids)
    if added or removed:
        record("track.facilitators_changed", "track", track.id, actor_id=actor_id, call_id=track.call_id,
               changes={"facilitators": [before, sorted(u.id for u in track.facilitators)]})
    return added, removed


def create_facilitator(track: Track | None, email: str, full_name: str, *, ambito: Ambito,
                       actor_id: int | None = None) -> tuple[User, str]:
    """A facilitator account of `ambito` (the office's that creates it) with a generated password (returned once,
    to be handed over), assigned to the track if one is given. Raises the `AuthError` of `create_staff` with its
    Italian message."""
    if track is not None and track.is_closed:
        raise CalendarError("Il tavolo è chiuso: riaprilo per assegnargli un facilitatore.", "email", code="closed")
    if track is not None and track.call.ambito_id != ambito.id:
        raise CalendarError("Il tavolo è di un altro Ambito.", "email", code="not_found")
    user, password = create_staff(email, role=Role.FACILITATOR, full_name=full_name, ambito=ambito)
    assert password is not None  # generated, since none was given
    if track is not None:
        track.facilitators.append(user)
        db.session.flush()
        record("track.facilitator_created", "track", track.id, actor_id=actor_id, call_id=track.call_id,
               user=user.id)
    return user, password
