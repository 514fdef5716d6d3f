"""Rules of the calendar: meetings, venues and answers (RSVP).

The one change path of a meeting: every change of its time, venue, title, status or details goes through
`change_meeting` (the meeting form, the venue notice, a venue's edit, a call reload), which raises the
iCalendar SEQUENCE once and tells every holder of the event (`notifications`), in the caller's transaction.
Nothing here commits; each function returns what it queued.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from scheduler.audit.services import changes, record
from scheduler.auth.models import User
from scheduler.auth.services import entity_account
from scheduler.calendar import notifications
from scheduler.calendar.models import (
    CalendarCopy,
    Meeting,
    MeetingMode,
    MeetingStatus,
    PersonPass,
    Rsvp,
    RsvpStatus,
    Venue,
)
from scheduler.calendar.notifications import MeetingChange, Notice
from scheduler.calls.models import Phase, Track, tracks_of_areas
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Application, ApplicationStatus, Organization
from scheduler.registry.recipients import Address, Directory, Purpose, addresses, speaks_for
from scheduler.textutil import clean_line, clean_multiline
from scheduler.timeutil import local_instant, utcnow

#: The most people an entity can announce for one meeting.
MAX_PEOPLE = 10
#: Short check-in codes: read aloud at the door, so no letters and digits that sound or look alike.
SHORT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SHORT_CODE_LENGTH = 6

__all__ = ["CalendarError", "MeetingChange", "Notice", "RsvpClosed", "RsvpNotAllowed"]


class CalendarError(DomainError):
    """A calendar rule was broken; the message is for the person who asked, `field` where it belongs."""


class RsvpNotAllowed(CalendarError):
    """This entity may not answer for this meeting (not admitted, other area or phase)."""

    default_code = "forbidden"


class RsvpClosed(CalendarError):
    """Answers are closed: past the deadline, started, or cancelled."""

    default_code = "closed"


@dataclass
class Outcome:
    """What a change did: which parts of the event changed, the messages queued, who left the waiting list."""

    moved: bool = False
    venue_changed: bool = False
    retitled: bool = False
    cancelled: bool = False
    restored: bool = False
    online_changed: bool = False
    messages: list[OutboxMessage] = field(default_factory=list)
    promoted: list[Rsvp] = field(default_factory=list)

    @property
    def event_changed(self) -> bool:
        return (self.moved or self.venue_changed or self.retitled or self.cancelled or self.restored
                or self.online_changed)

    @property
    def notified(self) -> int:
        return len(self.messages)


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
    if not track.area_ids & {a.area_id for a in application.areas}:
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
        .where(Track.call_id == application.call_id, Track.id.in_(tracks_of_areas(area_ids)),
               Track.phase.in_(phases))
        .order_by(Meeting.starts_at)
        .options(sa.orm.selectinload(Meeting.venue),
                 sa.orm.selectinload(Meeting.track).options(sa.orm.selectinload(Track.area),
                                                            sa.orm.selectinload(Track.areas)))
    )
    meetings = list(db.session.scalars(query))
    return [m for m in meetings if eligibility_problem(application, m) is None]


def rsvps_of(organization_id: int, meeting_ids: list[int]) -> dict[int, Rsvp]:
    rows = db.session.scalars(
        sa.select(Rsvp).where(Rsvp.organization_id == organization_id, Rsvp.meeting_id.in_(meeting_ids))
    )
    return {r.meeting_id: r for r in rows}


def taken_seats(meeting_id: int) -> int:
    """The seats the confirmed answers hold: people, not entities (a room holds people)."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Rsvp.seats), 0)).where(Rsvp.meeting_id == meeting_id,
                                                                      Rsvp.status == RsvpStatus.YES)
    ) or 0


def _check_people(meeting: Meeting, seats: int) -> None:
    """An answer names no more people than the meeting lets one entity bring, nor than its seats in all."""
    capacity = effective_capacity(meeting)
    if meeting.seats_per_entity and seats > meeting.seats_per_entity:
        raise CalendarError(f"A questo incontro ogni ente può indicare al massimo {meeting.seats_per_entity} "
                            f"{'persona' if meeting.seats_per_entity == 1 else 'persone'}.", "people")
    if capacity is not None and seats > capacity:
        raise CalendarError(f"L'incontro ha {capacity} {'posto' if capacity == 1 else 'posti'} in tutto: indica al "
                            f"massimo {capacity} {'persona' if capacity == 1 else 'persone'}.", "people")


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
    """Names, roles and (optional) e-mails of the people coming, cleaned as every stored text (`clean_line`: the
    JSON column is not cleaned by the ORM), no empty rows, a sane number; an e-mail checked as the application
    form's addresses are, and named once."""
    cleaned = []
    seen: set[str] = set()
    for person in people:
        name = clean_line(person.get("name"))[:200]
        role = clean_line(person.get("role"))[:120]
        email = clean_line(person.get("email"))[:254]
        if not name:
            if email:
                raise CalendarError(f"Indica il nome della persona con l'indirizzo {email}.", "people")
            continue
        entry = {"name": name, "role": role}
        if email:
            try:
                email = validate_email(email, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                raise CalendarError(f"L'indirizzo e-mail di {name} non è valido.", "people") from None
            if email in seen:
                raise CalendarError(f"L'indirizzo {email} è indicato per due persone.", "people")
            seen.add(email)
            entry["email"] = email
        cleaned.append(entry)
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


def _short_codes_taken(meeting_id: int) -> set[str]:
    """Every short code of the meeting, the entities' and the people's: one read aloud names one seat."""
    return set(db.session.scalars(
        sa.select(Rsvp.short_code).where(Rsvp.meeting_id == meeting_id, Rsvp.short_code.is_not(None))
    )) | set(db.session.scalars(sa.select(PersonPass.short_code).where(PersonPass.meeting_id == meeting_id)))


def _new_short_code(taken: set[str]) -> str:
    code = None
    while code is None or code in taken:
        code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
    taken.add(code)
    return code


def _confirm_seat(rsvp: Rsvp) -> None:
    """A confirmed seat gets its check-in codes now: the long one for the QR, a short one to read aloud
    (unique in the meeting; answers to one meeting are serialised by `_lock_meeting`); so does each person of
    it who gave an e-mail (`_sync_passes`)."""
    taken = None
    if not rsvp.checkin_code:
        rsvp.checkin_code = secrets.token_urlsafe(18)
    if not rsvp.short_code:
        taken = _short_codes_taken(rsvp.meeting_id)
        rsvp.short_code = _new_short_code(taken)
    _sync_passes(rsvp, taken)


def _people_by_email(people: list[dict[str, str]] | None) -> dict[str, dict[str, str]]:
    """The named people who gave an e-mail, by it."""
    return {p["email"]: p for p in people or [] if p.get("email")}


def _sync_passes(rsvp: Rsvp, taken: set[str] | None = None) -> None:
    """The passes of a confirmed answer's people with an e-mail. Only confirmed seats have passes; a person
    dropped from the answer loses theirs."""
    wanted = _people_by_email(rsvp.people) if rsvp.status is RsvpStatus.YES else {}
    for person_pass in [p for p in rsvp.passes if p.email not in wanted]:
        rsvp.passes.remove(person_pass)
    for email, person in wanted.items():
        current = rsvp.pass_of(email)
        if current is not None:
            current.name = person["name"]
            continue
        if taken is None:
            taken = _short_codes_taken(rsvp.meeting_id)
        rsvp.passes.append(PersonPass(meeting_id=rsvp.meeting_id, name=person["name"], email=email,
                                      checkin_code=secrets.token_urlsafe(18), short_code=_new_short_code(taken)))


def _named_elsewhere(meeting: Meeting, organization: Organization, people: list[dict[str, str]]) -> None:
    """A person is one seat: an address another entity already named for this meeting is refused."""
    emails = list(_people_by_email(people))
    if not emails:
        return
    other = db.session.scalar(
        sa.select(PersonPass.email).join(Rsvp, Rsvp.id == PersonPass.rsvp_id)
        .where(PersonPass.meeting_id == meeting.id, PersonPass.email.in_(emails),
               Rsvp.organization_id != organization.id).limit(1))
    if other is not None:
        raise CalendarError(f"L'indirizzo {other} è già indicato da un altro ente per questo incontro.", "people",
                            code="conflict")


def _invitation_addresses(organization: Organization, user: User | None, address: Address | None) -> list[Address]:
    if address is not None:
        return [address]
    return addresses(organization, Purpose.INVITATION, answered_by=user)


def answer(meeting: Meeting, organization: Organization, user: User | None, attending: bool,
           people: list[dict[str, str]] | None = None, *, address: Address | None = None) -> Rsvp:
    """Record the entity's answer. With a capacity, answers beyond it wait in line, in order.

    `user` is the person who answered on the site; `address` the one whose calendar answered (a REPLY).
    """
    application = admitted_application(organization.id, meeting.track.call_id)
    check_can_answer(meeting, application)
    people = clean_people(people or [])
    if attending and not people:
        raise CalendarError("Indica almeno il nome di una persona che parteciperà.", "people")
    _lock_meeting(meeting.id)
    db.session.refresh(meeting)
    if attending:
        _check_people(meeting, len(people))
        _named_elsewhere(meeting, organization, people)
    rsvp = db.session.scalar(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.organization_id == organization.id)
    )
    previous = rsvp.status if rsvp else None
    held = rsvp.seats if rsvp is not None and previous is RsvpStatus.YES else 0
    capacity = effective_capacity(meeting)
    if attending and previous is RsvpStatus.YES and capacity is not None and len(people) > held:
        # more people on a confirmed seat: only as many as are free (the seats it holds stay its own)
        free = capacity - taken_seats(meeting.id)
        if len(people) - held > free:
            most = held + max(free, 0)
            raise CalendarError(
                f"Restano {max(free, 0)} posti liberi: l'ente può indicare al massimo {most} "
                f"{'persona' if most == 1 else 'persone'} (i suoi posti confermati restano).", "people",
                code="conflict")
    if rsvp is None:
        rsvp = Rsvp(meeting=meeting, organization=organization, status=RsvpStatus.NO)
        db.session.add(rsvp)
    # the people with an e-mail who were sent the event with the entity's answer
    invited_before = _people_by_email(rsvp.people) if previous in (RsvpStatus.YES, RsvpStatus.WAITLIST) else {}
    rsvp.people = people if attending else []
    rsvp.seats = len(people) if attending else 0
    rsvp.answered_by_id = user.id if user is not None else None
    if attending:
        if previous in (RsvpStatus.YES, RsvpStatus.WAITLIST):
            status = previous  # a change of names keeps the seat or the place in line
        else:
            fits = capacity is None or taken_seats(meeting.id) + len(people) <= capacity
            # first come, first served: nobody passes those already waiting
            status = RsvpStatus.YES if fits and not _anyone_waiting(meeting.id) else RsvpStatus.WAITLIST
            rsvp.answered_at = utcnow()
        rsvp.status = status
        if status is RsvpStatus.YES:
            _confirm_seat(rsvp)
    else:
        rsvp.status = RsvpStatus.NO
        rsvp.answered_at = utcnow()
        _sync_passes(rsvp)
    db.session.flush()
    if attending and previous is RsvpStatus.YES and len(people) < held:
        promote_from_waitlist(meeting)  # the seats it gave back go to the waiting list

    entity_addresses = _invitation_addresses(organization, user, address)
    own = {a.key for a in entity_addresses}
    named_now = _people_by_email(rsvp.people) if attending else {}
    if attending and previous in (None, RsvpStatus.NO):
        people_addresses = [Address(email, p["name"], organization) for email, p in named_now.items()
                            if email not in own]
        notifications.invitation(rsvp, entity_addresses + people_addresses)
    elif attending:
        # a change of names: the people added get their own invitation, those taken off a cancellation
        added = [Address(email, p["name"], organization) for email, p in named_now.items()
                 if email not in invited_before and email not in own]
        removed = [Address(email, p["name"], organization) for email, p in invited_before.items()
                   if email not in named_now and email not in own]
        if added:
            notifications.invitation(rsvp, added)
        if removed:
            notifications.person_removed(rsvp, removed)
    elif not attending and (previous in (RsvpStatus.YES, RsvpStatus.WAITLIST)
                            or notifications.holds_event(meeting, organization.id)):
        _tell_withdrawn(rsvp, previous, entity_addresses)
    return rsvp


def _tell_withdrawn(rsvp: Rsvp, previous: RsvpStatus | None, to: list[Address]) -> None:
    """A withdrawn answer: the CANCEL to those who hold the event, and the seats it held to the waiting list."""
    notifications.withdrawal(rsvp, to)
    if previous is RsvpStatus.YES:
        promote_from_waitlist(rsvp.meeting)


def answer_from_calendar(meeting: Meeting, email: str, attending: bool) -> Rsvp:
    """A calendar app's REPLY (Accept or Decline) from `email`, applied with the rules of the web form.

    Only an address that was sent the meeting's event may answer this way, for the entity it was sent for.
    """
    copy = db.session.scalar(sa.select(CalendarCopy).where(
        CalendarCopy.meeting_id == meeting.id, CalendarCopy.email == email.strip().lower()))
    if copy is None or copy.organization is None:
        raise CalendarError("Questo indirizzo non ha ricevuto l'invito all'incontro.", code="not_found")
    organization = copy.organization
    current = db.session.scalar(sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id,
                                                      Rsvp.organization_id == organization.id))
    named = _people_by_email(current.people if current is not None else [])
    if copy.email in named and not speaks_for(organization, copy.email):
        # a named person's own calendar: Decline takes that person off the answer (their seat is freed),
        # Accept changes nothing; neither speaks for the entity
        if attending or current is None:
            return current
        others = [p for p in current.people if p.get("email") != copy.email]
        return answer(meeting, organization, db.session.get(User, current.answered_by_id)
                      if current.answered_by_id else None, bool(others), others)
    user = entity_account(organization.id, copy.email)
    people: list[dict[str, str]] = []
    if attending:
        people = list(current.people) if current is not None and current.people else [
            {"name": copy.name or organization.name, "role": ""}]
    return answer(meeting, organization, user, attending, people,
                  address=Address(copy.email, copy.name or organization.name, organization))


def withdraw_ineligible(application: Application) -> list[Rsvp]:
    """The entity gave up areas or phases: its answers to meetings still to come that it may no longer attend
    are withdrawn, with the CANCEL to those who hold the event and the freed seats to the waiting list."""
    organization = application.organization
    answers = list(db.session.scalars(
        sa.select(Rsvp).join(Meeting, Meeting.id == Rsvp.meeting_id).join(Track, Track.id == Meeting.track_id)
        .where(Rsvp.organization_id == organization.id, Track.call_id == application.call_id,
               Rsvp.status.in_([RsvpStatus.YES, RsvpStatus.WAITLIST]), Meeting.starts_at > utcnow())
        .options(sa.orm.selectinload(Rsvp.meeting).selectinload(Meeting.track).selectinload(Track.areas))
    ))
    withdrawn = []
    for rsvp in answers:
        meeting = rsvp.meeting
        if eligibility_problem(application, meeting) is None:
            continue
        _lock_meeting(meeting.id)
        previous = rsvp.status
        rsvp.status, rsvp.people, rsvp.seats, rsvp.answered_at = RsvpStatus.NO, [], 0, utcnow()
        _sync_passes(rsvp)
        db.session.flush()
        _tell_withdrawn(rsvp, previous, _invitation_addresses(organization, None, None))
        withdrawn.append(rsvp)
    return withdrawn


def _anyone_waiting(meeting_id: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(Rsvp.meeting_id == meeting_id,
                                                         Rsvp.status == RsvpStatus.WAITLIST))) or False


def promote_from_waitlist(meeting: Meeting) -> list[Rsvp]:
    """Give freed seats to the waiting list, in people, first come first served (an entity whose people do not
    fit in the seats free waits, and so do those after it), and tell them."""
    _lock_meeting(meeting.id)
    capacity = effective_capacity(meeting)
    waiting = list(db.session.scalars(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.status == RsvpStatus.WAITLIST)
        .order_by(Rsvp.answered_at, Rsvp.id)
    ))
    free = None if capacity is None else capacity - taken_seats(meeting.id)
    promoted = []
    for rsvp in waiting:
        if free is not None:
            if max(rsvp.seats, 1) > free:
                break
            free -= max(rsvp.seats, 1)
        promoted.append(rsvp)
    for rsvp in promoted:
        rsvp.status = RsvpStatus.YES
        _confirm_seat(rsvp)
        db.session.flush()
    directory = Directory(r.answered_by_id for r in promoted)
    for rsvp in promoted:
        notifications.promotion(rsvp, directory.addresses(rsvp.organization, Purpose.INVITATION,
                                                          answered_by_id=rsvp.answered_by_id))
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


def _check_deadline(deadline: datetime | None, starts_at: datetime) -> None:
    if deadline and deadline > starts_at:
        raise CalendarError("Il termine per le risposte deve precedere l'inizio dell'incontro.", "rsvp_deadline")


def _check_cap(seats_per_entity: int | None, capacity: int | None) -> None:
    """Staff's cap per entity: a whole number of people, within the meeting's seats."""
    if seats_per_entity is None:
        return
    if seats_per_entity < 1:
        raise CalendarError("Indica almeno una persona per ente.", "seats_per_entity")
    if capacity is not None and seats_per_entity > capacity:
        raise CalendarError(f"Il massimo per ente ({seats_per_entity}) non può superare i posti dell'incontro "
                            f"({capacity}).", "seats_per_entity")


#: A video call's room: an https address (it goes to people's calendars; a plain http one can be read and
#: changed on the way), with nothing a page or a calendar could take for the end of it.
ONLINE_URL = re.compile(r"^https://[^\s/$.?#][^\s<>\"']*$", re.IGNORECASE)


def _online_room(mode: MeetingMode, url: str | None) -> str | None:
    """The online room a meeting of `mode` keeps: none in person (a link nobody should use is not kept); else a
    secure address, since it goes to people's calendars."""
    if mode is MeetingMode.IN_PERSON:
        return None
    url = clean_line(url or "") or None
    if not url:
        raise CalendarError("Indica il collegamento per partecipare online.", "online_url")
    if not ONLINE_URL.match(url) or len(url) > 500:
        raise CalendarError("Indica un indirizzo web che inizi con https:// (il link della videochiamata).",
                            "online_url")
    return url


def create_meeting(track: Track, starts_at: datetime, ends_at: datetime, *, title: str | None = None,
                   venue: Venue | None = None, capacity: int | None = None,
                   rsvp_deadline: datetime | None = None, notes: str = "", key: str | None = None,
                   agenda: str = "", mode: MeetingMode = MeetingMode.IN_PERSON, online_url: str | None = None,
                   seats_per_entity: int | None = None, allow_past: bool = False,
                   actor_id: int | None = None) -> Meeting:
    """A new meeting of the track, numbered after the others (nobody has answered yet, so no e-mail)."""
    if track.is_closed:
        raise CalendarError("Il tavolo è chiuso: riaprilo per aggiungere incontri.", code="closed")
    _check_times(starts_at, ends_at)
    if starts_at < utcnow() and not allow_past:
        raise CalendarError("La data è già passata.", "starts_at")
    _check_deadline(rsvp_deadline, starts_at)
    if capacity is not None and capacity < 1:
        raise CalendarError("La capienza deve essere almeno 1.", "capacity")
    online_url = _online_room(mode, online_url)
    _check_cap(seats_per_entity, capacity or (venue.capacity if venue else None))
    meeting = Meeting(track=track, key=key, number=track.next_meeting_number(), starts_at=starts_at,
                      ends_at=ends_at, title=title or None, venue=venue, capacity=capacity or None,
                      rsvp_deadline=rsvp_deadline, notes=notes or "", agenda=clean_multiline(agenda or ""),
                      mode=mode, online_url=online_url, seats_per_entity=seats_per_entity or None)
    db.session.add(meeting)
    db.session.flush()
    record("meeting.created", "meeting", meeting.id, actor_id=actor_id, call_id=track.call_id, track=track.id,
           starts_at=starts_at, ends_at=ends_at, venue=venue, key=key)
    return meeting


#: "Leave as it is" for `change_meeting`'s keyword arguments (None means "none": no venue, no title...).
KEEP: Any = object()


def _minute(instant: datetime) -> datetime:
    """Forms carry hours and minutes: a meeting stored with seconds is not "moved" by saving it unchanged."""
    return instant.replace(second=0, microsecond=0)


def change_meeting(meeting: Meeting, *, starts_at: datetime = KEEP, ends_at: datetime = KEEP,
                   venue: Venue | None = KEEP, title: str | None = KEEP, capacity: int | None = KEEP,
                   rsvp_deadline: datetime | None = KEEP, notes: str = KEEP, agenda: str = KEEP,
                   mode: MeetingMode = KEEP, online_url: str | None = KEEP, seats_per_entity: int | None = KEEP,
                   notice: Notice | None = None,
                   told_later: bool = False, allow_past: bool = False, actor_id: int | None = None) -> Outcome:
    """The one way a meeting changes.

    What calendars show (time, venue, title) is one change of the event however many parts moved: SEQUENCE
    goes up once and every holder gets one message that tells all of it (staff's `notice` instead of the
    standard text when given; a notice with nothing changed is still sent, with the event as it is). Details
    calendars do not show (capacity, deadline, notes) change no SEQUENCE; a larger capacity frees seats.

    `told_later`: the caller has queued a message that the worker will write to every holder with the event as
    it is then (the venue notice, `announcements`, sent to hundreds at once): SEQUENCE is raised now, in the
    same transaction, and no message is written here.
    """
    outcome = Outcome()
    starts = meeting.starts_at if starts_at is KEEP else starts_at
    ends = meeting.ends_at if ends_at is KEEP else ends_at
    outcome.moved = (_minute(starts), _minute(ends)) != (_minute(meeting.starts_at), _minute(meeting.ends_at))
    if venue is not KEEP and venue is not None and venue.id is None:
        db.session.add(venue)
        db.session.flush()
    outcome.venue_changed = venue is not KEEP and (venue.id if venue else None) != meeting.venue_id
    new_title = meeting.title if title is KEEP else clean_line(title) or None
    outcome.retitled = new_title != meeting.title
    new_mode = meeting.mode if mode is KEEP else mode
    new_online = _online_room(new_mode, meeting.online_url if online_url is KEEP else online_url)
    outcome.online_changed = (new_mode, new_online) != (meeting.mode, meeting.online_url)
    if (outcome.event_changed or notice is not None or told_later) and meeting.is_cancelled:
        raise CalendarError("L'incontro è annullato: non si possono cambiare data, orario, sede o titolo.",
                            code="closed")
    if outcome.moved:
        _check_times(starts, ends)
        if _minute(starts) != _minute(meeting.starts_at) and starts < utcnow() and not allow_past:
            raise CalendarError("La data è già passata.", "starts_at")
    deadline = meeting.rsvp_deadline if rsvp_deadline is KEEP else rsvp_deadline
    _check_deadline(deadline, starts)
    if capacity is not KEEP and capacity is not None and capacity < 1:
        raise CalendarError("La capienza deve essere almeno 1.", "capacity")
    new_cap = meeting.seats_per_entity if seats_per_entity is KEEP else seats_per_entity or None
    new_venue = meeting.venue if venue is KEEP else venue
    _check_cap(new_cap, (meeting.capacity if capacity is KEEP else capacity) or (
        new_venue.capacity if new_venue is not None else None))

    change = MeetingChange(time=outcome.moved, venue=outcome.venue_changed, title=outcome.retitled,
                           online=outcome.online_changed,
                           previous_location=meeting.venue.location if meeting.venue else None,
                           previous_when=format_when(meeting.starts_at, meeting.ends_at) if outcome.moved else None)
    before = _audited(meeting)
    if outcome.moved:
        meeting.starts_at, meeting.ends_at = starts, ends
    if outcome.venue_changed:
        meeting.venue = venue
    meeting.title = new_title
    meeting.mode, meeting.online_url = new_mode, new_online
    if agenda is not KEEP:
        meeting.agenda = clean_multiline(agenda or "")
    if rsvp_deadline is not KEEP:
        meeting.rsvp_deadline = rsvp_deadline
    meeting.seats_per_entity = new_cap
    if notes is not KEEP:
        meeting.notes = notes or ""
    if told_later:
        _announce(meeting, change if change.any else None, told_later=True)
    elif change.any or notice is not None:
        outcome.messages += _announce(meeting, change if change.any else None, notice)
    else:
        db.session.flush()
    if capacity is not KEEP and (capacity or None) != meeting.capacity:
        meeting.capacity = capacity or None
        db.session.flush()
        outcome.promoted = promote_from_waitlist(meeting)
    changed = changes(before, _audited(meeting))
    if actor_id is not None and (outcome.moved or outcome.retitled):
        meeting.edited_in_app_at = utcnow()  # staff's time and title win over the call file's
    if changed:
        record("meeting.changed", "meeting", meeting.id, actor_id=actor_id, call_id=meeting.track.call_id,
               changes=changed, notified=outcome.notified)
    return outcome


def _audited(meeting: Meeting) -> dict[str, Any]:
    """What the audit log compares before and after a change of a meeting."""
    return {"starts_at": meeting.starts_at, "ends_at": meeting.ends_at, "venue": meeting.venue_id,
            "title": meeting.title, "capacity": meeting.capacity, "rsvp_deadline": meeting.rsvp_deadline,
            "notes": meeting.notes, "agenda": meeting.agenda, "mode": meeting.mode,
            "online_url": meeting.online_url, "seats_per_entity": meeting.seats_per_entity}


def _announce(meeting: Meeting, change: MeetingChange | None, notice: Notice | None = None, *,
              told_later: bool = False) -> list[OutboxMessage]:
    """Tell the holders: a change of the event raises SEQUENCE once first (its updated_at follows); a notice
    with no change carries the event as it is. `told_later`: only the SEQUENCE, the caller's queued notice
    tells them."""
    if change is not None:
        meeting.sequence += 1
    db.session.flush()
    if told_later:
        return []
    return notifications.meeting_changed(meeting, change, notice)


def reschedule(meeting: Meeting, starts_at: datetime, ends_at: datetime) -> Outcome:
    """Move a meeting (a call reload's edited time); its holders get the updated invitation."""
    return change_meeting(meeting, starts_at=starts_at, ends_at=ends_at, allow_past=True)


def set_venue(meeting: Meeting, venue: Venue | None, notice: Notice | None = None, *,
              told_later: bool = False, actor_id: int | None = None) -> Outcome:
    """Set or change the venue; with staff's `notice` that message is what every holder and the notice's
    audience receive, one each, with the updated invitation; with `told_later` ("Comunica la sede") the same
    notice is written by the worker (`send_event` with `to_holders`) once this transaction has committed."""
    return change_meeting(meeting, venue=venue, notice=notice, told_later=told_later, actor_id=actor_id)


def venue_edited(meeting: Meeting, previous_location: str) -> Outcome:
    """The meeting's venue itself was edited (its address, room or name): LOCATION changed for every holder."""
    if meeting.is_cancelled:
        return Outcome()
    change = MeetingChange(venue=True, previous_location=previous_location)
    return Outcome(venue_changed=True, messages=_announce(meeting, change))


def send_event(meeting: Meeting, notice: Notice) -> list[OutboxMessage]:
    """Send the meeting's event as it is with staff's message (an announcement with the invitation attached)."""
    if meeting.is_cancelled:
        raise CalendarError("L'incontro è annullato.", code="closed")
    return notifications.send_event(meeting, notice)


def cancel(meeting: Meeting, reason: str = "", *, actor_id: int | None = None) -> Outcome:
    """Cancel: STATUS:CANCELLED with METHOD:CANCEL to every holder of the event, the reason in its text and on
    the meeting's page. Answers are kept, so the meeting can be restored."""
    if meeting.is_cancelled:
        return Outcome()
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancel_reason = clean_line(reason)[:1000]
    if actor_id is not None:
        meeting.edited_in_app_at = utcnow()
    outcome = Outcome(cancelled=True, messages=_announce(meeting, MeetingChange(cancelled=True)))
    record("meeting.cancelled", "meeting", meeting.id, actor_id=actor_id, call_id=meeting.track.call_id,
           reason=meeting.cancel_reason, notified=outcome.notified)
    return outcome


def restore(meeting: Meeting, starts_at: datetime = KEEP, ends_at: datetime = KEEP, *,
            actor_id: int | None = None) -> Outcome:
    """A cancelled meeting is on again, at its time or at a new one: the same event (same UID) with a higher
    SEQUENCE goes back to the calendars of every entity whose answer stands (their seats kept)."""
    if not meeting.is_cancelled:
        raise CalendarError("L'incontro non è annullato.", code="closed")
    if meeting.track.is_closed:
        raise CalendarError("Il tavolo è chiuso: riaprilo per ripristinare l'incontro.", code="closed")
    starts = meeting.starts_at if starts_at is KEEP else starts_at
    ends = meeting.ends_at if ends_at is KEEP else ends_at
    _check_times(starts, ends)
    if starts < utcnow():
        raise CalendarError("La data è già passata: scegli una nuova data per ripristinare l'incontro.",
                            "starts_at")
    _check_deadline(meeting.rsvp_deadline, starts)
    moved = (_minute(starts), _minute(ends)) != (_minute(meeting.starts_at), _minute(meeting.ends_at))
    change = MeetingChange(restored=True, time=moved,
                           previous_when=format_when(meeting.starts_at, meeting.ends_at) if moved else None)
    before = _audited(meeting)
    meeting.status = MeetingStatus.SCHEDULED
    reason, meeting.cancel_reason = meeting.cancel_reason, ""
    meeting.starts_at, meeting.ends_at = starts, ends
    if actor_id is not None:
        meeting.edited_in_app_at = utcnow()
    outcome = Outcome(moved=moved, restored=True, messages=_announce(meeting, change))
    record("meeting.restored", "meeting", meeting.id, actor_id=actor_id, call_id=meeting.track.call_id,
           changes=changes(before, _audited(meeting)), cancel_reason=reason, notified=outcome.notified)
    return outcome


def regenerate_feed_token(organization: Organization) -> str:
    """A new secret address for the entity's private calendar; the old address stops working at once."""
    organization.feed_token = secrets.token_urlsafe(24)
    return organization.feed_token
