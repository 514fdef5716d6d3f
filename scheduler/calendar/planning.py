"""Staff planning of the calendar: the overview, meeting edits in one step, venues and facilitators.

Builds on `services` (which owns the rules of a meeting's time, venue and answers) and, like it, never commits
and never reads the request: the views call these functions, turn `CalendarError` into a message and commit once,
so a change and the e-mails it causes land in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from scheduler.auth.models import Role, User
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, MeetingStatus, Rsvp, RsvpStatus, Venue
from scheduler.calendar.services import CalendarError, MeetingChange
from scheduler.calls.models import Call, Comune, Track
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.timeutil import utcnow

# --- counting the e-mails a change causes --------------------------------------------------------------------


@dataclass
class Enqueued:
    """Messages added to the outbox while a block ran (filled in as they are added)."""

    messages: list[OutboxMessage] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.messages)


@contextmanager
def enqueued() -> Iterator[Enqueued]:
    """Collect the outbox rows added inside the block, so staff are told how many entities will hear of it.

    Listens on this request's session only, so other requests and threads are not counted.
    """
    session: Session = db.session()
    collected = Enqueued()

    def _added(_session: Session, instance: object) -> None:
        if isinstance(instance, OutboxMessage):
            collected.messages.append(instance)

    sa.event.listen(session, "transient_to_pending", _added)
    try:
        yield collected
    finally:
        sa.event.remove(session, "transient_to_pending", _added)


# --- the planning overview ------------------------------------------------------------------------------------


@dataclass
class MeetingCounts:
    confirmed: int = 0
    waiting: int = 0
    declined: int = 0


def planning_tracks(call: Call) -> list[Track]:
    """The call's tracks with area, facilitators, meetings and venues, in a fixed number of queries."""
    query = (
        sa.select(Track)
        .where(Track.call_id == call.id)
        .order_by(Track.position, Track.id)
        .options(
            selectinload(Track.area),
            selectinload(Track.facilitators),
            selectinload(Track.meetings).selectinload(Meeting.venue).selectinload(Venue.comune),
        )
    )
    return list(db.session.scalars(query))


def answer_counts(meeting_ids: list[int]) -> dict[int, MeetingCounts]:
    """Confirmed, waiting and declined answers per meeting, in one grouped query."""
    counts = {meeting_id: MeetingCounts() for meeting_id in meeting_ids}
    if not meeting_ids:
        return counts
    rows = db.session.execute(
        sa.select(Rsvp.meeting_id, Rsvp.status, sa.func.count())
        .where(Rsvp.meeting_id.in_(meeting_ids))
        .group_by(Rsvp.meeting_id, Rsvp.status)
    )
    for meeting_id, status, number in rows:
        entry = counts[meeting_id]
        if status is RsvpStatus.YES:
            entry.confirmed = number
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
            selectinload(Meeting.track).selectinload(Track.area),
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


@dataclass
class EditOutcome:
    """What an edit did: whether the event changed, who was told, who left the waiting list."""

    moved: bool = False
    venue_changed: bool = False
    notified: int = 0
    promoted: int = 0

    @property
    def event_changed(self) -> bool:
        return self.moved or self.venue_changed


def plan_meeting(track: Track, plan: MeetingPlan) -> Meeting:
    """A new meeting of the track (nobody has answered yet, so no e-mail)."""
    meeting = services.create_meeting(
        track, plan.starts_at, plan.ends_at, title=plan.title, venue=plan.venue, capacity=plan.capacity,
        rsvp_deadline=plan.rsvp_deadline,
    )
    meeting.notes = plan.notes
    return meeting


def edit_meeting(meeting: Meeting, plan: MeetingPlan) -> EditOutcome:
    """Apply one form's worth of changes.

    A change of both time and venue is one change of the event: SEQUENCE goes up once and each entity gets
    one updated invitation that tells both, not two e-mails a second apart.
    """
    outcome = EditOutcome()
    moved = (_minute(plan.starts_at), _minute(plan.ends_at)) != (_minute(meeting.starts_at), _minute(meeting.ends_at))
    venue_changed = (plan.venue.id if plan.venue else None) != meeting.venue_id
    if (moved or venue_changed) and meeting.is_cancelled:
        raise CalendarError("L'incontro è annullato: non si possono cambiare data, orario o sede.")
    if moved and _minute(plan.starts_at) != _minute(meeting.starts_at) and plan.starts_at < utcnow():
        raise CalendarError("La data è già passata.", "starts_at")
    with enqueued() as sent:
        if moved and venue_changed:
            _move_and_set_venue(meeting, plan)
        elif moved:
            services.reschedule(meeting, plan.starts_at, plan.ends_at)
        elif venue_changed:
            services.set_venue(meeting, plan.venue)
    with enqueued() as promotions:
        services.update_details(meeting, title=plan.title, capacity=plan.capacity,
                                rsvp_deadline=plan.rsvp_deadline, notes=plan.notes)
    outcome.moved, outcome.venue_changed = moved, venue_changed
    outcome.notified, outcome.promoted = sent.count, promotions.count
    return outcome


def _minute(instant: datetime) -> datetime:
    """Forms carry hours and minutes: a meeting stored with seconds is not "moved" by saving it unchanged."""
    return instant.replace(second=0, microsecond=0)


def _move_and_set_venue(meeting: Meeting, plan: MeetingPlan) -> None:
    if plan.ends_at <= plan.starts_at:
        raise CalendarError("L'incontro deve finire dopo l'inizio.", "ends_at")
    previous = meeting.venue.location if meeting.venue else None
    meeting.starts_at, meeting.ends_at = plan.starts_at, plan.ends_at
    meeting.venue = plan.venue
    services.announce_change(meeting, MeetingChange(time=True, venue=True, previous_location=previous))


def cancel_meeting(meeting: Meeting) -> int:
    """Cancel the meeting; returns how many entities get the cancellation (0 if it already was)."""
    with enqueued() as sent:
        services.cancel(meeting)
    return sent.count


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


def create_venue(call: Call, data: VenueData) -> Venue:
    venue = Venue(call=call)
    _apply(venue, data)
    db.session.add(venue)
    db.session.flush()
    return venue


def update_venue(venue: Venue, data: VenueData) -> EditOutcome:
    """Save the venue. If where it is changed, the upcoming meetings held there get an updated invitation
    (their LOCATION changed); if its seats changed, their waiting lists move up."""
    before = venue.location
    before_capacity = venue.capacity
    _apply(venue, data)
    db.session.flush()
    outcome = EditOutcome()
    meetings = upcoming_at(venue)
    with enqueued() as sent:
        if venue.location != before:
            outcome.venue_changed = True
            for meeting in meetings:
                services.announce_change(meeting, MeetingChange(venue=True, previous_location=before))
    with enqueued() as promotions:
        if venue.capacity != before_capacity:
            for meeting in meetings:
                if not meeting.capacity:
                    services.promote_from_waitlist(meeting)
    outcome.notified, outcome.promoted = sent.count, promotions.count
    return outcome


# --- facilitators -----------------------------------------------------------------------------------------------


def facilitators() -> list[User]:
    """Every facilitator account, active first, by name; staff choose among them for a track."""
    return list(db.session.scalars(
        sa.select(User).where(User.role == Role.FACILITATOR)
        .order_by(User.active.desc(), User.full_name, User.email)
    ))


def set_facilitators(track: Track, user_ids: set[int]) -> tuple[list[User], list[User]]:
    """Make exactly these facilitators the track's; returns (added, removed). Ids of non-facilitators are
    refused, so a forged form cannot give a register to an entity or staff account."""
    chosen = list(db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))) if user_ids else []
    if len(chosen) != len(user_ids) or any(user.role is not Role.FACILITATOR for user in chosen):
        raise CalendarError("Scegli i facilitatori dall'elenco.", "facilitators")
    current = {user.id: user for user in track.facilitators}
    added = [user for user in chosen if user.id not in current]
    removed = [user for user_id, user in current.items() if user_id not in user_ids]
    for user in removed:
        track.facilitators.remove(user)
    track.facilitators.extend(added)
    db.session.flush()
    return added, removed


def create_facilitator(track: Track | None, email: str, full_name: str) -> tuple[User, str]:
    """A facilitator account with a generated password (returned once, to be handed over), assigned to the
    track if one is given. Raises the `AuthError` of `create_staff` with its Italian message."""
    from scheduler.auth.services import create_staff

    user, password = create_staff(email, role=Role.FACILITATOR, full_name=full_name)
    assert password is not None  # generated, since none was given
    if track is not None:
        track.facilitators.append(user)
        db.session.flush()
    return user, password
