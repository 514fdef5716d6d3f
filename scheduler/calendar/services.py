"""Rules of the calendar: meetings, venues and answers (RSVP).

Every change of a meeting's time, venue or status goes through here, raises the meeting's iCalendar
SEQUENCE and writes the updated invitations to the outbox in the same transaction; nothing here commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa

from scheduler.auth.models import User
from scheduler.calendar.models import Meeting, MeetingStatus, Rsvp, RsvpStatus, Venue
from scheduler.calls.models import Phase, Track
from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationStatus, Organization
from scheduler.timeutil import local_instant, utcnow

#: The most people an entity can announce for one meeting.
MAX_PEOPLE = 10


class CalendarError(Exception):
    """A calendar rule was broken; the message is for the person who asked, `field` where it belongs."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RsvpNotAllowed(CalendarError):
    """This entity may not answer for this meeting (not admitted, other area or phase)."""


class RsvpClosed(CalendarError):
    """Answers are closed: past the deadline, started, or cancelled."""


@dataclass
class MeetingChange:
    """What changed in a meeting, told to the entities in the updated invitation."""

    venue: bool = False
    time: bool = False
    cancelled: bool = False
    previous_location: str | None = None

    @property
    def any(self) -> bool:
        return self.venue or self.time or self.cancelled


# --- reading -------------------------------------------------------------------------------------------------


def effective_capacity(meeting: Meeting) -> int | None:
    """The meeting's own capacity, else its venue's, else none."""
    if meeting.capacity:
        return meeting.capacity
    return meeting.venue.capacity if meeting.venue and meeting.venue.capacity else None


def answers_close_at(meeting: Meeting) -> datetime:
    """Answers are accepted until the deadline set by staff, and never once the meeting has started."""
    if meeting.rsvp_deadline and meeting.rsvp_deadline < meeting.starts_at:
        return meeting.rsvp_deadline
    return meeting.starts_at


def admitted_application(organization_id: int, call_id: int) -> Application | None:
    return db.session.scalar(
        sa.select(Application).where(
            Application.organization_id == organization_id,
            Application.call_id == call_id,
            Application.status == ApplicationStatus.ADMITTED,
        )
    )


def eligibility_problem(application: Application | None, meeting: Meeting) -> str | None:
    """Why this application does not give a seat at this meeting, or None if it does."""
    if application is None:
        return "Possono rispondere solo gli enti ammessi all'elenco."
    track = meeting.track
    if track.area_id not in {a.area_id for a in application.areas}:
        return "L'incontro è di un'area per cui l'ente non ha manifestato interesse."
    if track.phase is Phase.DRAFTING and not application.wants_drafting:
        return "L'ente partecipa solo alla fase di attuazione: questo incontro è della fase di stesura."
    if track.phase is Phase.IMPLEMENTATION and not application.wants_implementation:
        return "L'ente partecipa solo alla fase di stesura: questo incontro è della fase di attuazione."
    if application.late and meeting.starts_at < local_instant(application.call.late_implementation_from, time(0)):
        return "Le candidature arrivate dopo la scadenza partecipano agli incontri dal gennaio 2025."
    return None


def meetings_for(organization: Organization, application: Application) -> list[Meeting]:
    """The meetings of the entity's areas and phases, soonest first, with their venues and tracks."""
    area_ids = [a.area_id for a in application.areas]
    phases = [p for p, wanted in ((Phase.DRAFTING, application.wants_drafting),
                                  (Phase.IMPLEMENTATION, application.wants_implementation)) if wanted]
    query = (
        sa.select(Meeting)
        .join(Track)
        .where(Track.call_id == application.call_id, Track.area_id.in_(area_ids), Track.phase.in_(phases))
        .order_by(Meeting.starts_at)
        .options(sa.orm.selectinload(Meeting.venue), sa.orm.selectinload(Meeting.track).selectinload(Track.area))
    )
    meetings = list(db.session.scalars(query))
    return [m for m in meetings if eligibility_problem(application, m) is None]


def rsvps_of(organization_id: int, meeting_ids: list[int]) -> dict[int, Rsvp]:
    rows = db.session.scalars(
        sa.select(Rsvp).where(Rsvp.organization_id == organization_id, Rsvp.meeting_id.in_(meeting_ids))
    )
    return {r.meeting_id: r for r in rows}


def confirmed_count(meeting_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Rsvp).where(Rsvp.meeting_id == meeting_id,
                                                           Rsvp.status == RsvpStatus.YES)
    ) or 0


# --- answering ------------------------------------------------------------------------------------------------


def _lock_meeting(meeting_id: int) -> None:
    """Serialise answers to one meeting: a no-op UPDATE takes the row lock on PostgreSQL and the write
    lock on SQLite before seats are counted, so two answers never take the last seat twice."""
    db.session.execute(
        # updated_at kept as it is: an answer changes neither the event nor the public feeds' validators
        sa.update(Meeting).where(Meeting.id == meeting_id)
        .values(sequence=Meeting.sequence, updated_at=Meeting.updated_at)
        .execution_options(synchronize_session=False)
    )


def clean_people(people: list[dict[str, str]]) -> list[dict[str, str]]:
    """Names and roles of the people coming: trimmed, no empty rows, a sane number."""
    cleaned = []
    for person in people:
        name = " ".join((person.get("name") or "").split())[:200]
        role = " ".join((person.get("role") or "").split())[:120]
        if name:
            cleaned.append({"name": name, "role": role})
    if len(cleaned) > MAX_PEOPLE:
        raise CalendarError(f"Al massimo {MAX_PEOPLE} persone per ente.", "people")
    return cleaned


def check_can_answer(meeting: Meeting, application: Application | None, now: datetime | None = None) -> None:
    now = now or utcnow()
    if meeting.is_cancelled:
        raise RsvpClosed("L'incontro è annullato.")
    if now >= meeting.starts_at:
        raise RsvpClosed("L'incontro è già iniziato: non si possono più cambiare le risposte.")
    if now >= answers_close_at(meeting):
        raise RsvpClosed("Il termine per rispondere è scaduto.")
    problem = eligibility_problem(application, meeting)
    if problem:
        raise RsvpNotAllowed(problem)


def answer(meeting: Meeting, organization: Organization, user: User, attending: bool,
           people: list[dict[str, str]] | None = None) -> Rsvp:
    """Record the entity's answer. With a capacity, answers beyond it wait in line, in order."""
    from scheduler.calendar import notifications

    application = admitted_application(organization.id, meeting.track.call_id)
    check_can_answer(meeting, application)
    people = clean_people(people or [])
    if attending and not people:
        raise CalendarError("Indica almeno il nome di una persona che parteciperà.", "people")
    _lock_meeting(meeting.id)
    db.session.refresh(meeting)
    rsvp = db.session.scalar(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.organization_id == organization.id)
    )
    previous = rsvp.status if rsvp else None
    if rsvp is None:
        rsvp = Rsvp(meeting=meeting, organization=organization, status=RsvpStatus.NO)
        db.session.add(rsvp)
    rsvp.people = people if attending else []
    rsvp.answered_by_id = user.id
    if attending:
        if previous in (RsvpStatus.YES, RsvpStatus.WAITLIST):
            status = previous  # a change of names keeps the seat or the place in line
        else:
            capacity = effective_capacity(meeting)
            status = RsvpStatus.YES if capacity is None or confirmed_count(meeting.id) < capacity else (
                RsvpStatus.WAITLIST)
            rsvp.answered_at = utcnow()
        rsvp.status = status
        if status is RsvpStatus.YES and not rsvp.checkin_code:
            rsvp.checkin_code = secrets.token_urlsafe(18)
    else:
        rsvp.status = RsvpStatus.NO
        rsvp.answered_at = utcnow()
    db.session.flush()

    if (attending and previous is None) or (attending and previous is RsvpStatus.NO):
        notifications.invitation(rsvp, user)
    elif not attending and previous in (RsvpStatus.YES, RsvpStatus.WAITLIST):
        notifications.withdrawal(rsvp, user)
        if previous is RsvpStatus.YES:
            promote_from_waitlist(meeting)
    return rsvp


def promote_from_waitlist(meeting: Meeting) -> list[Rsvp]:
    """Give freed seats to the waiting list, first come first served, and tell them."""
    from scheduler.calendar import notifications

    capacity = effective_capacity(meeting)
    waiting = list(db.session.scalars(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.status == RsvpStatus.WAITLIST)
        .order_by(Rsvp.answered_at, Rsvp.id)
    ))
    free = len(waiting) if capacity is None else max(capacity - confirmed_count(meeting.id), 0)
    promoted = waiting[:free]
    for rsvp in promoted:
        rsvp.status = RsvpStatus.YES
        if not rsvp.checkin_code:
            rsvp.checkin_code = secrets.token_urlsafe(18)
    db.session.flush()
    for rsvp in promoted:
        notifications.promotion(rsvp)
    return promoted


# --- staff: meetings and venues ------------------------------------------------------------------------------


def overlapping(track_id: int, starts_at: datetime, ends_at: datetime, exclude_id: int | None = None) -> list[Meeting]:
    """Other scheduled meetings of the same track at an overlapping time (a warning, not an error)."""
    query = sa.select(Meeting).where(
        Meeting.track_id == track_id, Meeting.status == MeetingStatus.SCHEDULED,
        Meeting.starts_at < ends_at, Meeting.ends_at > starts_at,
    )
    if exclude_id:
        query = query.where(Meeting.id != exclude_id)
    return list(db.session.scalars(query))


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise CalendarError("L'incontro deve finire dopo l'inizio.", "ends_at")


def create_meeting(track: Track, starts_at: datetime, ends_at: datetime, *, title: str | None = None,
                   venue: Venue | None = None, capacity: int | None = None,
                   rsvp_deadline: datetime | None = None) -> Meeting:
    _check_times(starts_at, ends_at)
    if starts_at < utcnow():
        raise CalendarError("La data è già passata.", "starts_at")
    _check_deadline(rsvp_deadline, starts_at)
    meeting = Meeting(track=track, starts_at=starts_at, ends_at=ends_at, title=title or None, venue=venue,
                      capacity=capacity or None, rsvp_deadline=rsvp_deadline)
    db.session.add(meeting)
    db.session.flush()
    return meeting


def _check_deadline(deadline: datetime | None, starts_at: datetime) -> None:
    if deadline and deadline > starts_at:
        raise CalendarError("Il termine per le risposte deve precedere l'inizio dell'incontro.", "rsvp_deadline")


def announce_change(meeting: Meeting, change: MeetingChange) -> int:
    """Raise SEQUENCE and send each entity that said yes or waits the updated invitation; returns how many."""
    from scheduler.calendar import notifications

    meeting.sequence += 1
    db.session.flush()
    return notifications.meeting_changed(meeting, change)


def reschedule(meeting: Meeting, starts_at: datetime, ends_at: datetime) -> bool:
    """Move a meeting; raises SEQUENCE and sends the updated invitation. Returns whether it moved."""
    _check_times(starts_at, ends_at)
    if meeting.starts_at == starts_at and meeting.ends_at == ends_at:
        return False
    if meeting.is_cancelled:
        raise CalendarError("L'incontro è annullato.")
    meeting.starts_at = starts_at
    meeting.ends_at = ends_at
    if meeting.id is not None:
        announce_change(meeting, MeetingChange(time=True))
    return True


def set_venue(meeting: Meeting, venue: Venue | None) -> bool:
    """Set or change the venue; raises SEQUENCE and sends the updated invitation with what changed."""
    if meeting.is_cancelled:
        raise CalendarError("L'incontro è annullato.")
    if venue is not None and venue.id is None:
        db.session.add(venue)
        db.session.flush()
    if meeting.venue_id == (venue.id if venue else None):
        return False
    previous = meeting.venue.location if meeting.venue else None
    meeting.venue = venue
    announce_change(meeting, MeetingChange(venue=True, previous_location=previous))
    return True


def cancel(meeting: Meeting) -> bool:
    """Cancel: STATUS:CANCELLED with METHOD:CANCEL to everyone who had answered yes or is waiting."""
    if meeting.is_cancelled:
        return False
    meeting.status = MeetingStatus.CANCELLED
    announce_change(meeting, MeetingChange(cancelled=True))
    return True


def update_details(meeting: Meeting, *, title: str | None, capacity: int | None, rsvp_deadline: datetime | None,
                   notes: str = "") -> None:
    """Details that do not change the calendar event (no new SEQUENCE); a larger capacity frees seats."""
    _check_deadline(rsvp_deadline, meeting.starts_at)
    if capacity is not None and capacity < 1:
        raise CalendarError("La capienza deve essere almeno 1.", "capacity")
    meeting.title = title or None
    meeting.capacity = capacity or None
    meeting.rsvp_deadline = rsvp_deadline
    meeting.notes = notes
    db.session.flush()
    promote_from_waitlist(meeting)


def regenerate_feed_token(organization: Organization) -> str:
    """A new secret address for the entity's private calendar; the old address stops working at once."""
    organization.feed_token = secrets.token_urlsafe(24)
    return organization.feed_token
