"""Valid objects in one line, for tests that need an entity, an application or a signed-in user."""

from __future__ import annotations

import itertools
import re

import sqlalchemy as sa
from flask import Flask
from stdnum import luhn

from scheduler.auth.models import Role, User
from scheduler.calls.models import Area, Call, Comune
from scheduler.extensions import db
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationStatus,
    Contact,
    ContactKind,
    LegalForm,
    Organization,
)
from scheduler.timeutil import utcnow

_numbers = itertools.count(1)


def codice_fiscale(n: int | None = None) -> str:
    """A valid 11-digit codice fiscale, different each call."""
    base = f"8{(n or next(_numbers)):06d}019"
    return base + luhn.calc_check_digit(base)


def make_entity(
    app: Flask,
    name: str = "Associazione Prova",
    *,
    areas: tuple[str, ...] = ("A",),
    comuni: tuple[str, ...] = ("Crema",),
    status: ApplicationStatus = ApplicationStatus.ADMITTED,
    email: str | None = None,
    legal_form: LegalForm = LegalForm.APS,
    late: bool = False,
    drafting: bool = False,
) -> dict:
    """An organization with both contacts, an application to the loaded call and an entity user.

    Returns ids: {"organization", "application", "user", "email"}.
    """
    n = next(_numbers)
    email = email or f"ente{n}@example.org"
    with app.app_context():
        call = db.session.scalar(sa.select(Call).order_by(Call.id.desc()))
        area_rows = {a.code: a for a in db.session.scalars(sa.select(Area).where(Area.call_id == call.id))}
        comune_rows = list(db.session.scalars(
            sa.select(Comune).where(Comune.call_id == call.id, Comune.name.in_(comuni))
        ))
        org = Organization(
            name=name, legal_form=legal_form, codice_fiscale=codice_fiscale(n), register="runts-b",
            register_number=str(1000 + n), registered_office="Via Roma 1, Crema", email=email,
            comuni=comune_rows,
        )
        org.contacts = [
            Contact(kind=ContactKind.LEGAL_REPRESENTATIVE, full_name=f"Legale Rappresentante {n}",
                    role="Presidente", email=f"legale{n}@example.org", phone="0373 111111"),
            Contact(kind=ContactKind.CONTACT, full_name=f"Referente {n}", role="Referente", email=email,
                    phone="0373 222222"),
        ]
        application = Application(
            call=call, organization=org, status=status, late=late, wants_drafting=drafting,
            wants_implementation=True, protocol=None if status is ApplicationStatus.UNCONFIRMED else f"MI-2024-{n:04d}",
            email_confirmed_at=None if status is ApplicationStatus.UNCONFIRMED else utcnow(),
            reviewed_at=utcnow() if status is ApplicationStatus.ADMITTED else None,
            areas=[ApplicationArea(area=area_rows[code], competence=f"Esperienza nell'area {code}.") for code in areas],
        )
        user = User(email=email, role=Role.ENTITY, organizations=[org], full_name=f"Referente {n}")
        db.session.add_all([org, application, user])
        db.session.commit()
        return {"organization": org.id, "application": application.id, "user": user.id, "email": email}


def name_as_contact(app: Flask, entity: dict, account: dict) -> None:
    """`entity` names `account`'s address as its contact person (one president of two associations): the address
    speaks for both, with one account; the entity's own account goes."""
    with app.app_context():
        organization = db.session.get(Organization, entity["organization"])
        user = db.session.get(User, account["user"])
        next(c for c in organization.contacts if c.email == entity["email"]).email = user.email
        organization.email = user.email
        db.session.delete(db.session.get(User, entity["user"]))
        user.organizations.append(organization)
        db.session.commit()


def sign_in_with_link(client, app: Flask, user_id: int, next_path: str | None = None,
                      base_url: str = "http://localhost"):
    """Sign in as an entity the way a person does: open the e-mailed link and press "Accedi" (on the host of
    `base_url`)."""
    from scheduler.auth.services import issue_login_token

    with app.app_context():
        token = issue_login_token(db.session.get(User, user_id), next_path)
        db.session.commit()
    page = client.get(f"/accedi/link/{token}", base_url=base_url).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(f"/accedi/link/{token}", data={"csrf_token": csrf}, base_url=base_url)


def text_of(response) -> str:
    """A page's text with the quotes Jinja escapes put back, to look for sentences as a person reads them."""
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def csrf_from(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def make_meeting(
    app: Flask,
    *,
    area: str = "A",
    phase=None,
    days_ahead: float = 10,
    hours: float = 3,
    capacity: int | None = None,
    rsvp_deadline_days_before: float | None = None,
    venue: bool = False,
) -> int:
    """A meeting of a track of the loaded call (an implementation track made on demand), `days_ahead` from now."""
    from datetime import timedelta

    from scheduler.calendar.models import Meeting, Venue
    from scheduler.calls.models import Phase, Track

    phase = phase or Phase.IMPLEMENTATION
    with app.app_context():
        call = db.session.scalar(sa.select(Call).order_by(Call.id.desc()))
        area_row = db.session.scalar(sa.select(Area).where(Area.call_id == call.id, Area.code == area))
        track = db.session.scalar(
            sa.select(Track).where(Track.call_id == call.id, Track.area_id == area_row.id, Track.phase == phase)
        )
        if track is None:
            track = Track(call=call, area=area_row, key=f"{area}-{phase.value}", phase=phase,
                          name=f"Tavolo {area_row.name} – attuazione", position=10)
            db.session.add(track)
        starts = _same_local_day(utcnow().replace(microsecond=0) + timedelta(days=days_ahead), timedelta(hours=hours))
        meeting = Meeting(
            track=track, number=track.next_meeting_number(), starts_at=starts,
            ends_at=starts + timedelta(hours=hours), capacity=capacity,
            rsvp_deadline=starts - timedelta(days=rsvp_deadline_days_before)
            if rsvp_deadline_days_before is not None else None,
        )
        if venue:
            meeting.venue = Venue(call=call, name="Sala Pietro da Cemmo", address="Piazza Duomo 25, Crema",
                                  accessibility_notes="Ascensore.")
        db.session.add(meeting)
        db.session.commit()
        return meeting.id


def _same_local_day(starts, duration):
    """The start, moved earlier just enough that the meeting ends on the day it starts, in Rome.

    Staff's form has one date and two times, as real meetings do: a test run late in the evening must not
    make a meeting that ends after midnight, which the form could not show.
    """
    from scheduler.timeutil import ROME

    local_start, local_end = starts.astimezone(ROME), (starts + duration).astimezone(ROME)
    if local_end.date() == local_start.date() and local_end.time() != local_end.time().min:
        return starts
    last = local_start.replace(hour=23, minute=59, second=0)
    return (last - duration).astimezone(starts.tzinfo)
