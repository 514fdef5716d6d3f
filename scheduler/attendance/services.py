"""Rules of the facilitator's register: who may take attendance, check-in, walk-ins, undo, notes, closing.

No request globals: the views pass the acting user. Nothing here commits. Every change writes a
RegisterEvent, so a change made after closing (by staff only) is always on record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import segno
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from scheduler.attendance.models import Attendance, AttendanceMethod, RegisterEvent, name_key, person_key
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, PersonPass, Rsvp, RsvpStatus
from scheduler.calendar.services import admitted_application
from scheduler.calls.models import Track, track_facilitators
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.registry.models import Application, ApplicationArea, ApplicationStatus, Organization
from scheduler.textutil import clean_line, clean_multiline
from scheduler.timeutil import utcnow

#: Letters and digits that cannot be confused when read aloud or copied (no 0/O, 1/I).
MAX_NOTES = 10_000


class RegisterError(DomainError):
    """A register rule was broken; the message is for the person who asked, the code says the status."""


class NotAllowed(RegisterError):
    """This person may not take attendance for this meeting."""

    default_code = "forbidden"


class RegisterClosed(RegisterError):
    """The register is closed: only staff may change it."""

    default_code = "closed"


class CodeRefused(RegisterError):
    """A check-in code that does not admit anyone to this meeting (not_found when it is no code at all)."""

    default_code = "conflict"


# --- who ------------------------------------------------------------------------------------------------------


def is_facilitator_of(user: User, track_id: int) -> bool:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(track_facilitators).where(
            track_facilitators.c.track_id == track_id, track_facilitators.c.user_id == user.id
        )
    ) > 0


def can_take_attendance(user: User | None, meeting: Meeting) -> bool:
    """Staff, or a facilitator assigned to the meeting's track."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "active", True):
        return False
    if user.role is Role.STAFF:
        return True
    return user.role is Role.FACILITATOR and is_facilitator_of(user, meeting.track_id)


def can_change(user: User | None, meeting: Meeting) -> bool:
    """May take attendance, and the register is open (after closing only staff change it)."""
    if not can_take_attendance(user, meeting):
        return False
    return meeting.register_closed_at is None or user.role is Role.STAFF


def _check_can_change(meeting: Meeting, actor: User) -> None:
    if not can_take_attendance(actor, meeting):
        raise NotAllowed("Solo l'Ufficio di Piano e i facilitatori di questo tavolo possono tenere il registro.")
    if meeting.register_closed_at is not None and actor.role is not Role.STAFF:
        raise RegisterClosed("Il registro è chiuso: solo l'Ufficio di Piano può modificarlo.")


def _log(meeting: Meeting, actor: User | None, action: str, detail: str = "") -> RegisterEvent:
    event = RegisterEvent(meeting_id=meeting.id, actor_id=actor.id if actor else None, action=action,
                          detail=detail[:2000])
    db.session.add(event)
    return event


def meetings_for_register(user: User, limit: int = 50) -> list[Meeting]:
    """The meetings whose register this user may open, soonest first from yesterday on."""
    query = (sa.select(Meeting).join(Track).where(Meeting.ends_at > utcnow() - timedelta(days=1))
             .order_by(Meeting.starts_at).limit(limit)
             .options(selectinload(Meeting.track), selectinload(Meeting.venue)))
    if user.role is not Role.STAFF:
        query = query.join(track_facilitators, track_facilitators.c.track_id == Track.id).where(
            track_facilitators.c.user_id == user.id)
    return list(db.session.scalars(query))


# --- reading --------------------------------------------------------------------------------------------------


@dataclass
class RegisterView:
    """Everything the phone page shows, loaded with a fixed number of queries."""

    meeting: Meeting
    confirmed: list[Rsvp]
    waiting: list[Rsvp]
    #: Current (not undone) marks, in the order they were made.
    attendances: list[Attendance]
    #: Admitted entities of the meeting's area with no yes or waiting-list answer: possible walk-ins.
    other_entities: list[Organization]
    by_rsvp: dict[int, list[Attendance]] = field(default_factory=dict)
    #: Marks not tied to an RSVP: admitted entities without one, guests, individuals.
    walk_ins: list[Attendance] = field(default_factory=list)

    def marked(self, rsvp: Rsvp, name: str) -> Attendance | None:
        key = name_key(name)
        return next((a for a in self.by_rsvp.get(rsvp.id, []) if name_key(a.person_name) == key), None)

    def extra_people(self, rsvp: Rsvp) -> list[Attendance]:
        """People checked in for the entity who were not named in its answer."""
        named = {name_key(p.get("name", "")) for p in rsvp.people or []}
        return [a for a in self.by_rsvp.get(rsvp.id, []) if name_key(a.person_name) not in named]

    @property
    def present_count(self) -> int:
        return len(self.attendances)


def register_view(meeting: Meeting) -> RegisterView:
    rsvps = list(db.session.scalars(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id,
                              Rsvp.status.in_([RsvpStatus.YES, RsvpStatus.WAITLIST]))
        .options(selectinload(Rsvp.organization), selectinload(Rsvp.passes)).order_by(Rsvp.answered_at, Rsvp.id)
    ))
    attendances = list(db.session.scalars(
        sa.select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.undone_at.is_(None))
        .options(selectinload(Attendance.organization)).order_by(Attendance.checked_in_at, Attendance.id)
    ))
    listed = {r.organization_id for r in rsvps}
    track = db.session.get(Track, meeting.track_id)
    # ids in a subquery, not DISTINCT over the rows: PostgreSQL cannot compare a JSON column (pending_public)
    admitted = sa.select(Application.organization_id).join(ApplicationArea).where(
        Application.call_id == track.call_id, Application.status == ApplicationStatus.ADMITTED,
        ApplicationArea.area_id.in_(track.area_ids),
    )
    others = [o for o in db.session.scalars(
        sa.select(Organization).where(Organization.id.in_(admitted)).order_by(Organization.name)
    ) if o.id not in listed]
    view = RegisterView(
        meeting=meeting,
        confirmed=sorted((r for r in rsvps if r.status is RsvpStatus.YES), key=lambda r: r.organization.name.lower()),
        waiting=[r for r in rsvps if r.status is RsvpStatus.WAITLIST],
        attendances=attendances, other_entities=others,
    )
    rsvp_ids = {r.id for r in rsvps}
    for attendance in attendances:
        if attendance.rsvp_id in rsvp_ids:
            view.by_rsvp.setdefault(attendance.rsvp_id, []).append(attendance)
        else:
            view.walk_ins.append(attendance)
    return view


def local_codes(view: RegisterView) -> list[dict]:
    """The meeting's check-in codes as the register keeps them on the phone, so that a scanned or typed code is
    checked with no connection (as `checkin_by_code` would): each answer's own code and its people's, with the
    answer's state. Withdrawn answers are listed too, to say why their code no longer admits."""
    withdrawn = list(db.session.scalars(
        sa.select(Rsvp).where(Rsvp.meeting_id == view.meeting.id, Rsvp.status == RsvpStatus.NO)
        .options(selectinload(Rsvp.organization), selectinload(Rsvp.passes))))
    codes = []
    for rsvp in [*view.confirmed, *view.waiting, *withdrawn]:
        common = {"rsvp": rsvp.id, "entity": rsvp.organization.name, "status": rsvp.status.value,
                  "people": [p.get("name", "") for p in rsvp.people or [] if p.get("name")]}
        if rsvp.checkin_code:
            codes.append({"code": rsvp.checkin_code, "short": rsvp.short_code or "", "person": None, **common})
        codes.extend({"code": p.checkin_code, "short": p.short_code, "person": p.name, **common}
                     for p in rsvp.passes)
    return codes


# --- check-in ---------------------------------------------------------------------------------------------------


def _clean(text: str | None, limit: int) -> str:
    """As it will be stored (the ORM cleans it again), cut to its column: what duplicates are checked on."""
    return clean_line(text)[:limit]


def by_client_ref(client_ref: str) -> Attendance | None:
    return db.session.scalar(sa.select(Attendance).where(Attendance.client_ref == client_ref))


def _present(meeting: Meeting, key: str) -> Attendance | None:
    return db.session.scalar(sa.select(Attendance).where(
        Attendance.meeting_id == meeting.id, Attendance.person_key == key, Attendance.undone_at.is_(None)))


def _already(row: Attendance) -> Attendance:
    row.already_present = True
    return row


def check_in(meeting: Meeting, actor: User, *, organization: Organization | None = None, rsvp: Rsvp | None = None,
             person_name: str, person_role: str = "", method: AttendanceMethod = AttendanceMethod.HAND,
             client_ref: str | None = None, guest_organization: str | None = None,
             guest_email: str | None = None, at: datetime | None = None) -> Attendance:
    """Mark one person present. Idempotent: the same `client_ref`, or the same person of the same entity
    already present at this meeting, returns the row already stored (`already_present` set) instead of a second
    one; the database's unique index on the present person decides between two phones marking at once."""
    client_ref = (client_ref or "").strip()[:64] or None
    if client_ref:
        existing = by_client_ref(client_ref)
        if existing is not None:
            if existing.meeting_id != meeting.id:
                raise RegisterError("Segnatura non valida per questo incontro.")
            return existing  # the same mark sent again (its answer was lost): not "already present"
    _check_can_change(meeting, actor)
    name = _clean(person_name, 200)
    if not name:
        raise RegisterError("Indica il nome della persona presente.")
    guest_organization = _clean(guest_organization, 300) or None
    guest_email = _clean(guest_email, 254) or None
    if guest_email:
        try:  # the same check as the application form's addresses (a domain with a dot, no spaces...)
            guest_email = validate_email(guest_email, check_deliverability=False).normalized
        except EmailNotValidError:
            raise RegisterError("L'indirizzo e-mail non è valido.", "guest_email") from None
    if rsvp is not None:
        if rsvp.meeting_id != meeting.id:
            raise RegisterError("Questa adesione è di un altro incontro.")
        if rsvp.status is RsvpStatus.NO:
            raise CodeRefused("Questa adesione è stata ritirata.")
        organization = rsvp.organization
    elif organization is not None:
        if admitted_application(organization.id, meeting.track.call_id) is None:
            raise RegisterError("L'ente non è ammesso all'elenco: registralo come ospite.")
        rsvp = db.session.scalar(sa.select(Rsvp).where(
            Rsvp.meeting_id == meeting.id, Rsvp.organization_id == organization.id,
            Rsvp.status.in_([RsvpStatus.YES, RsvpStatus.WAITLIST])))
    if organization is not None:
        guest_organization = guest_email = None
    key = person_key(organization.id if organization else None, guest_organization, name)
    if (duplicate := _present(meeting, key)) is not None:
        return _already(duplicate)

    walk_in = rsvp is None
    if walk_in and method in (AttendanceMethod.HAND, AttendanceMethod.QR):
        method = AttendanceMethod.WALK_IN
    attendance = Attendance(
        meeting_id=meeting.id, organization_id=organization.id if organization else None,
        rsvp_id=rsvp.id if rsvp else None, person_name=name, person_key=key, person_role=_clean(person_role, 120),
        guest_organization=guest_organization, guest_email=guest_email,
        needs_follow_up=organization is None and guest_organization is not None,
        method=method, checked_in_at=tapped_at(meeting, at), recorded_by_id=actor.id, client_ref=client_ref,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attendance)
            db.session.flush()
    except IntegrityError:  # the same mark arrived twice at once, or the same person from another phone
        if client_ref and (existing := by_client_ref(client_ref)) is not None:
            return existing
        if (duplicate := _present(meeting, key)) is not None:
            return _already(duplicate)
        raise
    who = organization.name if organization else (f"ospite di {guest_organization}" if guest_organization
                                                  else "a titolo personale")
    _log(meeting, actor, "walk_in" if walk_in else "checked_in",
         f"#{attendance.id} {name} ({who}), {method.value}")
    return attendance


#: How long before its start a person may be marked arriving (people come early; a phone's clock may be off).
EARLY_ARRIVAL = timedelta(hours=2)


def tapped_at(meeting: Meeting, at: datetime | None, earliest: datetime | None = None) -> datetime:
    """When a mark was made: the phone's time when it was queued offline (sent later), kept within reason (not in
    the future, not before `earliest` or long before the meeting), else now."""
    now = utcnow()
    floor = earliest or meeting.starts_at - EARLY_ARRIVAL
    if at is None or at.tzinfo is None:
        return now
    return min(max(at, floor), now)


def set_departures(meeting: Meeting, actor: User, on: bool) -> None:
    """Whether this meeting's register records when people leave (hours of participation)."""
    _check_can_change(meeting, actor)
    if meeting.records_departures != on:
        meeting.records_departures = on
        _log(meeting, actor, "departures_on" if on else "departures_off")


def record_departure(attendance: Attendance, actor: User, at: datetime | None = None) -> Attendance:
    """The person left (at the phone's time, `tapped_at`); again only moves the time."""
    meeting = attendance.meeting
    _check_can_change(meeting, actor)
    if not meeting.records_departures:
        raise RegisterError("Per questo incontro le uscite non si registrano.", code="closed")
    if attendance.undone_at is not None:
        raise RegisterError("Questa presenza è stata annullata.", code="closed")
    attendance.left_at = tapped_at(meeting, at, attendance.checked_in_at)
    _log(meeting, actor, "departed", f"#{attendance.id} {attendance.person_name}")
    return attendance


def undo_departure(attendance: Attendance, actor: User) -> Attendance:
    """The departure was tapped by mistake: the person is there again."""
    _check_can_change(attendance.meeting, actor)
    if attendance.left_at is not None:
        attendance.left_at = None
        _log(attendance.meeting, actor, "departure_undone", f"#{attendance.id} {attendance.person_name}")
    return attendance


def undo(attendance: Attendance, actor: User) -> Attendance:
    """Take a mark back; the row stays, with the time it was undone."""
    meeting = attendance.meeting
    _check_can_change(meeting, actor)
    if attendance.undone_at is None:
        attendance.undone_at = utcnow()
        _log(meeting, actor, "undone", f"#{attendance.id} {attendance.person_name}")
    return attendance


def set_notes(meeting: Meeting, actor: User, text: str) -> None:
    _check_can_change(meeting, actor)
    text = clean_multiline(text)
    if len(text) > MAX_NOTES:
        raise RegisterError(f"Le note possono avere al massimo {MAX_NOTES} caratteri.")
    if text != (meeting.register_notes or ""):
        meeting.register_notes = text
        _log(meeting, actor, "notes", text[:500])


def close_register(meeting: Meeting, actor: User) -> None:
    if not can_take_attendance(actor, meeting):
        raise NotAllowed("Solo l'Ufficio di Piano e i facilitatori di questo tavolo possono chiudere il registro.")
    if meeting.register_closed_at is not None:
        raise RegisterClosed("Il registro è già chiuso.")
    meeting.register_closed_at = utcnow()
    meeting.register_closed_by_id = actor.id
    _log(meeting, actor, "closed", f"{len(register_view(meeting).attendances)} presenti")


def reopen_register(meeting: Meeting, actor: User) -> None:
    if actor is None or actor.role is not Role.STAFF:
        raise NotAllowed("Solo l'Ufficio di Piano può riaprire il registro.")
    if meeting.register_closed_at is None:
        return
    meeting.register_closed_at = None
    meeting.register_closed_by_id = None
    _log(meeting, actor, "reopened")


# --- codes ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeMatch:
    """What a check-in code stands for: an answer, and the named person when it is that person's own code."""

    rsvp: Rsvp
    person: PersonPass | None = None


def find_code(meeting: Meeting, code: str) -> CodeMatch | None:
    """The answer a code stands for: the entity's own code (its QR anywhere, its short code at this meeting), or
    one of its people's."""
    code = (code or "").strip()
    if not code or len(code) > 64:
        return None
    short = "".join(code.split()).replace("-", "").upper() if len(code) <= 16 else None
    rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.checkin_code == code))
    if rsvp is None and short:
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.short_code == short))
    if rsvp is not None:
        return CodeMatch(rsvp)
    person = db.session.scalar(sa.select(PersonPass).where(PersonPass.checkin_code == code))
    if person is None and short:
        person = db.session.scalar(sa.select(PersonPass).where(PersonPass.meeting_id == meeting.id,
                                                               PersonPass.short_code == short))
    return CodeMatch(person.rsvp, person) if person is not None else None


def checkin_by_code(meeting: Meeting, code: str) -> CodeMatch:
    """The confirmed RSVP a check-in code (long, from the QR, or short, read aloud) stands for at this meeting,
    with the person whose own code it is."""
    match = find_code(meeting, code)
    if match is None:
        raise CodeRefused("Codice non riconosciuto: controllalo o segna l'ente a mano.", code="not_found")
    rsvp = match.rsvp
    if rsvp.meeting_id != meeting.id:
        other = rsvp.meeting
        raise CodeRefused(f"Questo codice è di un altro incontro: {other.track.name}, "
                          f"{format_when(other.starts_at, other.ends_at)}.")
    if rsvp.status is RsvpStatus.NO:
        raise CodeRefused("Questa adesione è stata ritirata.")
    if rsvp.status is RsvpStatus.WAITLIST:
        raise CodeRefused("Questa adesione è in lista d'attesa: l'ente non ha un posto confermato.")
    return match


def checkin_path(rsvp: Rsvp) -> str:
    return f"/presenze/{rsvp.meeting_id}/codice/{rsvp.checkin_code}"


def person_checkin_path(person: PersonPass) -> str:
    return f"/presenze/{person.meeting_id}/codice/{person.checkin_code}"


def qr_svg(url: str) -> str:
    """An inline SVG QR code for `url` (no external image, works under the CSP)."""
    return segno.make(url, error="m").svg_inline(scale=4)
