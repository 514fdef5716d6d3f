"""Who an announcement goes to: from an audience (an area, a meeting's answers...) to addresses, once each.

Which addresses speak for an entity is `registry.recipients`' rule (Purpose.ANNOUNCEMENT); this module only
chooses the entities and merges their addresses, each once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from scheduler.attendance.models import Attendance
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calendar.services import eligibility_problem
from scheduler.calls.models import Area, Call, Track
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.mailing.models import MailCategory
from scheduler.registry.models import Application, ApplicationArea, ApplicationStatus, Organization
from scheduler.registry.recipients import Directory, Purpose

#: The audiences staff can choose, in the order the composer lists them.
AUDIENCE_KINDS: dict[str, Any] = {
    "admitted": _l("Tutti gli enti ammessi"),
    "areas": _l("Gli enti di una o più aree"),
    "meeting_yes": _l("Gli enti che hanno aderito a un incontro"),
    "meeting_waitlist": _l("Gli enti in lista d'attesa per un incontro"),
    "meeting_attending": _l("Gli enti che hanno aderito o sono in lista d'attesa"),
    "meeting_no_answer": _l("Gli enti invitati a un incontro che non hanno ancora risposto"),
    "meeting_invited": _l("Tutti gli enti invitati a un incontro, tranne chi ha declinato"),
    "meeting_present": _l("Gli enti presenti a un incontro concluso"),
    "meeting_absent": _l("Gli enti assenti a un incontro concluso (avevano aderito)"),
    "facilitators": _l("I facilitatori di un percorso"),
}
MEETING_KINDS = frozenset(k for k in AUDIENCE_KINDS if k.startswith("meeting_"))
#: Audiences whose people hold the meeting in their calendar: an attached invitation updates it.
RSVP_STATUSES_BY_KIND = {
    "meeting_yes": (RsvpStatus.YES,),
    "meeting_waitlist": (RsvpStatus.WAITLIST,),
    "meeting_attending": (RsvpStatus.YES, RsvpStatus.WAITLIST),
}


class AudienceError(DomainError):
    """The audience is incomplete (no area, no meeting...); `field` names the form field."""


@dataclass(frozen=True)
class Audience:
    kind: str
    areas: tuple[str, ...] = ()
    meeting_id: int | None = None
    track_id: int | None = None
    #: Also the legal representative and the entity's general address, not only its contacts.
    all_contacts: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Audience:
        return cls(kind=data.get("kind", ""), areas=tuple(data.get("areas") or ()), meeting_id=data.get("meeting_id"),
                   track_id=data.get("track_id"), all_contacts=bool(data.get("all_contacts")))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "areas": list(self.areas), "meeting_id": self.meeting_id,
                "track_id": self.track_id, "all_contacts": self.all_contacts}

    @property
    def about_meeting(self) -> bool:
        return self.kind in MEETING_KINDS


@dataclass
class Recipient:
    """One address, with the entities it speaks for and, for a meeting, the entity's answer."""

    email: str
    name: str
    organizations: list[Organization] = field(default_factory=list)
    rsvp_status: RsvpStatus | None = None
    facilitator: bool = False
    #: Service or optional mail, once decided for the announcement (`services.recipients_of`).
    category: MailCategory | None = None

    @property
    def key(self) -> str:
        return self.email.strip().lower()

    @property
    def entity_names(self) -> str:
        return ", ".join(org.name for org in self.organizations)


def check(call: Call, audience: Audience) -> None:
    """Refuse an audience that names nothing, or things of another call."""
    if audience.kind not in AUDIENCE_KINDS:
        raise AudienceError("Scegli a chi scrivere.", "audience")
    if audience.kind == "areas":
        known = {a.code for a in call.areas}
        if not audience.areas:
            raise AudienceError("Scegli almeno un'area.", "areas")
        if not set(audience.areas) <= known:
            raise AudienceError("Area sconosciuta.", "areas")
    if audience.about_meeting and meeting_of(call, audience.meeting_id) is None:
        raise AudienceError("Scegli l'incontro.", "meeting_id")
    if audience.kind == "facilitators" and (
        audience.track_id is None or db.session.get(Track, audience.track_id) is None
        or db.session.get(Track, audience.track_id).call_id != call.id
    ):
        raise AudienceError("Scegli il percorso.", "track_id")


def meeting_of(call: Call, meeting_id: int | None) -> Meeting | None:
    """The meeting if it belongs to this call (a forged id of another call is not found)."""
    if meeting_id is None:
        return None
    meeting = db.session.get(Meeting, meeting_id)
    return meeting if meeting is not None and meeting.track.call_id == call.id else None


def _admitted_applications(call: Call, area_ids: set[int] | None = None) -> list[Application]:
    query = (
        sa.select(Application)
        .join(Organization)
        .where(Application.call_id == call.id, Application.status == ApplicationStatus.ADMITTED,
               Organization.erased_at.is_(None))
        .options(selectinload(Application.areas),
                 selectinload(Application.organization).selectinload(Organization.contacts))
        .order_by(Organization.name, Organization.id)
    )
    if area_ids is not None:
        query = query.where(Application.id.in_(
            sa.select(ApplicationArea.application_id).where(ApplicationArea.area_id.in_(area_ids))
        ))
    return list(db.session.scalars(query))


def _organizations(ids: set[int]) -> list[Organization]:
    if not ids:
        return []
    return list(db.session.scalars(
        sa.select(Organization).where(Organization.id.in_(ids), Organization.erased_at.is_(None))
        .options(selectinload(Organization.contacts)).order_by(Organization.name, Organization.id)
    ))


def resolve(call: Call, audience: Audience) -> list[Recipient]:
    """The recipients, each address once, in the order of the entities' names (a constant number of queries)."""
    check(call, audience)
    by_address: dict[str, Recipient] = {}

    def add(email: str, name: str, org: Organization | None = None, status: RsvpStatus | None = None,
            facilitator: bool = False) -> None:
        key = email.strip().lower()
        recipient = by_address.get(key)
        if recipient is None:
            recipient = by_address[key] = Recipient(email=email.strip(), name=name, facilitator=facilitator)
        if org is not None and org not in recipient.organizations:
            recipient.organizations.append(org)
        if status is not None and (recipient.rsvp_status is None or status is RsvpStatus.YES):
            recipient.rsvp_status = status

    if audience.kind == "facilitators":
        track = db.session.get(Track, audience.track_id)
        for user in track.facilitators:
            if user.active:
                add(user.email, user.full_name or user.email, facilitator=True)
        return list(by_address.values())

    area_ids: set[int] | None = None
    if audience.kind == "areas":
        area_ids = set(db.session.scalars(
            sa.select(Area.id).where(Area.call_id == call.id, Area.code.in_(audience.areas))
        ))
        organizations = [app.organization for app in _admitted_applications(call, area_ids)]
    elif audience.kind == "admitted":
        organizations = [app.organization for app in _admitted_applications(call)]
    else:
        meeting = meeting_of(call, audience.meeting_id)
        area_ids = meeting.track.area_ids
        organizations = _meeting_organizations(call, meeting, audience.kind)

    answers: dict[int, Rsvp] = {}
    directory = Directory(())
    if audience.about_meeting:
        answers = {r.organization_id: r for r in db.session.scalars(
            sa.select(Rsvp).where(Rsvp.meeting_id == audience.meeting_id)
        )}
        directory = Directory(r.answered_by_id for r in answers.values()
                              if r.status in (RsvpStatus.YES, RsvpStatus.WAITLIST))

    for org in organizations:
        rsvp = answers.get(org.id)
        status = rsvp.status if rsvp else None
        answered_by = rsvp.answered_by_id if rsvp and status in (RsvpStatus.YES, RsvpStatus.WAITLIST) else None
        for address in directory.addresses(org, Purpose.ANNOUNCEMENT, answered_by_id=answered_by, area_ids=area_ids,
                                           all_contacts=audience.all_contacts):
            add(address.email, address.name or org.name, org, status)
    return list(by_address.values())


def _meeting_organizations(call: Call, meeting: Meeting, kind: str) -> list[Organization]:
    if kind in RSVP_STATUSES_BY_KIND:
        ids = set(db.session.scalars(sa.select(Rsvp.organization_id).where(
            Rsvp.meeting_id == meeting.id, Rsvp.status.in_(RSVP_STATUSES_BY_KIND[kind]))))
        return _organizations(ids)
    if kind in ("meeting_present", "meeting_absent"):
        present = set(db.session.scalars(sa.select(Attendance.organization_id).where(
            Attendance.meeting_id == meeting.id, Attendance.undone_at.is_(None),
            Attendance.organization_id.is_not(None))))
        if kind == "meeting_present":
            return _organizations(present)
        confirmed = set(db.session.scalars(sa.select(Rsvp.organization_id).where(
            Rsvp.meeting_id == meeting.id, Rsvp.status == RsvpStatus.YES)))
        return _organizations(confirmed - present)
    # invited: the admitted entities this meeting is for (area, phase, late rule)
    answered = {org_id: status for org_id, status in db.session.execute(
        sa.select(Rsvp.organization_id, Rsvp.status).where(Rsvp.meeting_id == meeting.id))}
    invited = [app for app in _admitted_applications(call, meeting.track.area_ids)
               if eligibility_problem(app, meeting) is None]
    if kind == "meeting_no_answer":
        return [app.organization for app in invited if app.organization_id not in answered]
    return [app.organization for app in invited if answered.get(app.organization_id) is not RsvpStatus.NO]


def describe(call: Call, audience: Audience, locale: str = "it") -> str:
    """The audience in words, for the list of announcements and the delivery log (dates in `locale`)."""
    label = str(AUDIENCE_KINDS.get(audience.kind, audience.kind))
    if audience.kind == "areas":
        names = {a.code: a.name for a in call.areas}
        label += ": " + ", ".join(f"{code} {names.get(code, '')}".strip() for code in audience.areas)
    elif audience.about_meeting:
        meeting = meeting_of(call, audience.meeting_id)
        if meeting is not None:
            label += f": {meeting.track.name}, {format_when(meeting.starts_at, meeting.ends_at, locale)}"
    elif audience.kind == "facilitators" and audience.track_id:
        track = db.session.get(Track, audience.track_id)
        if track is not None:
            label += f": {track.name}"
    return label
