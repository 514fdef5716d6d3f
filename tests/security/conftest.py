"""A small, complete world for the security tests, and signing in as each of the six roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.security import generate_password_hash

from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.calls.ambiti import default_ambito
from scheduler.extensions import db
from scheduler.registry.models import ApplicationStatus, Organization
from tests.factories import codice_fiscale, csrf_from, make_entity, make_meeting, sign_in_with_link

PROJECT_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "password-di-prova-1"
STAFF_EMAIL = "staff@example.org"
FACILITATOR_EMAIL = "facilitatrice@example.org"
OTHER_FACILITATOR_EMAIL = "facilitatore.altro@example.org"

#: The six roles of the route matrix, in the order of its columns.
ROLES = ("anonymous", "entity", "other_entity", "other_facilitator", "facilitator", "staff")


@dataclass
class World:
    """Ids of the objects the routes are probed with.

    Meeting A (track A, in ten days) has an RSVP "yes" of entity 1 with a check-in code, one attendance and a
    scanned signed sheet; entity 2 applied for area B only. The facilitator is assigned to track A, the other
    facilitator to the track of meeting B. A past meeting of track A is what the reports and the paper register
    need. Answering the RSVP wrote an invitation to the outbox. Meeting B has entity 2's RSVP and attendance.
    """

    meeting: int
    past_meeting: int
    other_meeting: int
    track: int
    other_track: int
    venue: int
    application: int
    organization: int
    rsvp: int
    checkin_code: str
    attendance: int
    sheet: int
    message: int
    other_rsvp: int
    other_checkin_code: str
    other_attendance: int
    feed_token: str
    login_token: str
    entity: dict
    other_entity: dict
    users: dict[str, int] = field(default_factory=dict)
    #: A draft announcement to all admitted entities, a delegate of entity 1, a link to unsubscribe entity 1.
    announcement: int = 0
    contact: int = 0
    unsubscribe_token: str = ""
    #: The link of the entity's invitation to `meeting` (answers it, signs nothing in).
    answer_token: str = ""
    #: The confirmation link sent to the entity's unconfirmed delegate (`contact`).
    delegate_token: str = ""
    #: An open Accordo di Programma asked of entity 1 only, and entity 1's adhesion to it (with a signed PDF).
    agreement: int = 0
    adhesion: int = 0
    #: The area of `track` (a table's form names it).
    area: int = 0
    #: The call of everything above, and its slug.
    call: int = 0
    call_slug: str = ""
    #: A document of `meeting` for the admitted entities only.
    document: int = 0


@lru_cache(maxsize=1)
def password_hash() -> str:
    """One hash of PASSWORD for every user of every world (hashing is deliberately slow)."""
    return generate_password_hash(PASSWORD)


def _user(email: str, role: Role) -> int:
    user = User(email=email, role=role, password_hash=password_hash(),
                ambito=default_ambito() if role in (Role.STAFF, Role.FACILITATOR) else None)
    db.session.add(user)
    db.session.flush()
    return user.id


def build_world(app: Flask) -> World:
    from scheduler.attendance.documents import store_signed_sheet
    from scheduler.attendance.services import check_in
    from scheduler.auth.services import issue_login_token
    from scheduler.calendar.answer_links import answer_token
    from scheduler.calendar.services import answer, regenerate_feed_token
    from scheduler.mailing.models import OutboxMessage
    from scheduler.registry.notifications import delegate_token

    meeting_id = make_meeting(app, area="A", venue=True)
    past_meeting_id = make_meeting(app, area="A", days_ahead=-3)
    other_meeting_id = make_meeting(app, area="B")
    entity = make_entity(app, "Associazione Uno", areas=("A",))
    other_entity = make_entity(app, "Cooperativa Due", areas=("B",))
    # the holder of the sign-in link the matrix opens: an account no role signs in with (a sign-in voids the
    # account's other links)
    link_entity = make_entity(app, "Associazione Tre", areas=("A",), status=ApplicationStatus.SUBMITTED)
    with app.app_context():
        users = {
            "staff": _user(STAFF_EMAIL, Role.STAFF),
            "facilitator": _user(FACILITATOR_EMAIL, Role.FACILITATOR),
            "other_facilitator": _user(OTHER_FACILITATOR_EMAIL, Role.FACILITATOR),
            "entity": entity["user"],
            "other_entity": other_entity["user"],
        }
        meeting = db.session.get(Meeting, meeting_id)
        other_meeting = db.session.get(Meeting, other_meeting_id)
        meeting.track.facilitators.append(db.session.get(User, users["facilitator"]))
        other_meeting.track.facilitators.append(db.session.get(User, users["other_facilitator"]))
        organization = db.session.get(Organization, entity["organization"])
        rsvp = answer(meeting, organization, db.session.get(User, entity["user"]), True,
                      [{"name": "Giulia Verdi", "role": "Presidente"}])
        attendance = check_in(meeting, db.session.get(User, users["facilitator"]), rsvp=rsvp,
                              person_name="Giulia Verdi")
        other_rsvp = answer(other_meeting, db.session.get(Organization, other_entity["organization"]),
                            db.session.get(User, other_entity["user"]), True, [{"name": "Marco Gialli", "role": ""}])
        other_attendance = check_in(other_meeting, db.session.get(User, users["other_facilitator"]),
                                    rsvp=other_rsvp, person_name="Marco Gialli", client_ref="altro-1")
        sheet = store_signed_sheet(meeting, "foglio.pdf", b"%PDF-1.4\n% scanned sheet\n", users["staff"])
        from scheduler.calendar.meeting_documents import add_document
        from scheduler.calendar.models import DocumentVisibility

        document = add_document(meeting, "Materiali riservati", "materiali.pdf", b"%PDF-1.4\n% materials\n",
                                DocumentVisibility.ADMITTED, actor_id=users["staff"])
        feed_token = regenerate_feed_token(organization)
        login_token = issue_login_token(db.session.get(User, link_entity["user"]))
        from scheduler.announcements.audience import Audience
        from scheduler.announcements.services import Draft, create_draft
        from scheduler.mailing.preferences import unsubscribe_token
        from scheduler.registry.models import Contact, ContactKind

        announcement = create_draft(meeting.track.call, Draft("Avviso", "Testo per {ente}", Audience("admitted")),
                                    db.session.get(User, users["staff"]))
        delegate = Contact(organization=organization, kind=ContactKind.DELEGATE, full_name="Delegata Uno",
                           email="delegata@example.org")
        db.session.add(delegate)
        agreement_id, adhesion_id = _agreement(meeting, organization, entity["user"])
        db.session.commit()
        answer_link = answer_token(meeting, organization, entity["email"])
        confirmation = delegate_token(delegate)
        return World(
            meeting=meeting_id, past_meeting=past_meeting_id, other_meeting=other_meeting_id, track=meeting.track_id,
            other_track=other_meeting.track_id, venue=meeting.venue_id, application=entity["application"],
            organization=entity["organization"], rsvp=rsvp.id, checkin_code=rsvp.checkin_code,
            attendance=attendance.id, sheet=sheet.id,
            message=db.session.scalar(sa.select(sa.func.min(OutboxMessage.id))),
            other_rsvp=other_rsvp.id, other_checkin_code=other_rsvp.checkin_code,
            other_attendance=other_attendance.id, feed_token=feed_token, login_token=login_token, entity=entity,
            other_entity=other_entity, users=users, announcement=announcement.id, contact=delegate.id,
            unsubscribe_token=unsubscribe_token(entity["email"], "announcements"), answer_token=answer_link,
            delegate_token=confirmation, agreement=agreement_id, adhesion=adhesion_id, area=meeting.track.area_id,
            call=meeting.track.call_id, call_slug=meeting.track.call.slug, document=document.id,
        )


def _agreement(meeting: Meeting, organization: Organization, user_id: int) -> tuple[int, int]:
    """An open Accordo asked of the entity, and the entity's adhesion with a signed PDF (written as rows: no mail)."""
    import hashlib
    from datetime import timedelta

    from scheduler.agreements.models import Agreement, AgreementAdhesion, AgreementInvitation, AgreementStatus
    from scheduler.timeutil import utcnow

    text, signed = b"%PDF-1.4\n% accordo\n", b"%PDF-1.4\n% adesione firmata\n"
    agreement = Agreement(
        call=meeting.track.call, title="Accordo di Programma", status=AgreementStatus.OPEN, opened_at=utcnow(),
        closes_at=utcnow() + timedelta(days=30), document_filename="accordo.pdf",
        document_content_type="application/pdf", document_size=len(text),
        document_sha256=hashlib.sha256(text).hexdigest(), document_data=text,
    )
    invitation = AgreementInvitation(agreement=agreement, organization=organization, notified_at=utcnow())
    adhesion = AgreementAdhesion(
        invitation=invitation, user_id=user_id, signatory_name="Giulia Verdi", signatory_role="Presidente",
        signed_filename="adesione.pdf", signed_content_type="application/pdf", signed_size=len(signed),
        signed_sha256=hashlib.sha256(signed).hexdigest(), signed_data=signed,
    )
    db.session.add(agreement)
    db.session.flush()
    return agreement.id, adhesion.id


@pytest.fixture
def world(app: Flask, crema: str) -> World:
    return build_world(app)


def sign_in_as(client, app: Flask, world: World, role: str) -> None:
    """Sign in the way each role does: entities by e-mailed link, staff and facilitators by password."""
    if role == "anonymous":
        return
    if role in ("entity", "other_entity"):
        response = sign_in_with_link(client, app, world.users[role])
    else:
        email = {"staff": STAFF_EMAIL, "facilitator": FACILITATOR_EMAIL,
                 "other_facilitator": OTHER_FACILITATOR_EMAIL}[role]
        response = client.post("/accedi", data={"email": email, "password": PASSWORD,
                                                "csrf_token": csrf_from(client, "/accedi")})
    assert response.status_code == 302, f"{role} could not sign in"
    with client.session_transaction() as session:
        assert session["_user_id"].startswith(f"{world.users[role]}:")


def snapshot() -> dict[str, list]:
    """Every row of every table (inside an app context): a refused request must leave all of them as they were."""
    with db.engine.connect() as conn:
        return {
            table.name: sorted(map(repr, conn.execute(sa.select(table)).all()))
            for table in db.metadata.sorted_tables
        }


def changed_tables(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


#: The people and the entity of the application typed into the form by application_form().
CONTACT_NAME = "Ludovico Ferraresi"
CONTACT_EMAIL = "ludovico.ferraresi@girasole-prova.example.org"
LEGAL_NAME = "Ottavia Brambilla"
LEGAL_EMAIL = "ottavia.brambilla@girasole-prova.example.org"
ENTITY_CF = codice_fiscale(424242)
PERSONAL_CF = "BRMTTV80A41D142X"  # a person's codice fiscale, written by the entity in a free-text field


def application_form(app: Flask) -> dict:
    """A valid application to the Crema call for area A, as the public form posts it (without the CSRF token)."""
    from scheduler.calls.models import Comune

    with app.app_context():
        names = ["Crema", "Ripalta Cremasca"]
        comuni = [str(c) for c in db.session.scalars(sa.select(Comune.id).where(Comune.name.in_(names)))]
    return {
        "name": "Associazione Il Girasole", "legal_form": "aps", "codice_fiscale": ENTITY_CF, "partita_iva": "",
        "register": "runts-b", "register_number": "12345", "registered_office": "Via Mazzini 10, 26013 Crema (CR)",
        "website": "", "comuni": comuni,
        "legal_name": LEGAL_NAME, "legal_role": "Presidente", "legal_email": LEGAL_EMAIL,
        "legal_phone": "0373 123456",
        "contact_name": CONTACT_NAME, "contact_role": "Coordinatore", "contact_email": CONTACT_EMAIL,
        "contact_phone": "+39 333 1234567",
        "areas": ["A"], "competence_A": f"Doposcuola dal 2010. Referente: {CONTACT_NAME}, CF {PERSONAL_CF}.",
        "phase_implementation": "y", "privacy": "y", "truthful": "y",
    }


#: The second Ambito of the isolation matrix: its own host, call, office and facilitator.
SECOND_HOST = "tavoli.ambitolodi.example"
SECOND_BASE_URL = f"http://{SECOND_HOST}"
SECOND_SLUG = "lodi-2025-2027"
SECOND_STAFF_EMAIL = "ufficio@comune.lodi.example"
SECOND_FACILITATOR_EMAIL = "facilitatore@comune.lodi.example"


@dataclass
class SecondAmbito:
    """Ids of the second Ambito (Lodi), next to the `world` of the first (Crema): a meeting of its own in area A,
    whose table its facilitator is assigned to, and a venue of its own."""

    ambito: int
    first_ambito: int
    call: int
    meeting: int
    track: int
    venue: int
    users: dict[str, int] = field(default_factory=dict)


def build_second_ambito(app: Flask) -> SecondAmbito:
    """Lodi on its own host, with the Crema call file loaded under another slug (after the first world: the
    newest call, so make_meeting writes into it)."""
    from scheduler.calendar.models import Venue
    from scheduler.calls.ambiti import create_ambito
    from scheduler.calls.loader import load_call, parse_call_text
    from tests.conftest import CALL_FILE

    with app.app_context():
        first = default_ambito()
        lodi = create_ambito("lodi", host=SECOND_HOST, name="Ambito territoriale di Lodi",
                             lead_municipality="Comune di Lodi", office_name="Ufficio di Piano di Lodi",
                             office_email="udp@comune.lodi.example")
        text = CALL_FILE.read_text(encoding="utf-8").replace('slug = "crema-2025-2027"', f'slug = "{SECOND_SLUG}"')
        text = text.replace("Ambito territoriale di Crema", "Ambito territoriale di Lodi")
        call, _ = load_call(parse_call_text(text), lodi)
        call.title = "Avviso dell'Ambito di Lodi"
        staff = User(email=SECOND_STAFF_EMAIL, role=Role.STAFF, password_hash=password_hash(), ambito=lodi)
        facilitator = User(email=SECOND_FACILITATOR_EMAIL, role=Role.FACILITATOR, password_hash=password_hash(),
                           ambito=lodi)
        db.session.add_all([staff, facilitator])
        db.session.commit()
        ids = {"ambito": lodi.id, "first_ambito": first.id, "call": call.id}
    meeting_id = make_meeting(app, area="A", days_ahead=8)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.venue = Venue(call=meeting.track.call, name="Sala del Broletto", address="Piazza Broletto 1, Lodi")
        facilitator = db.session.scalar(sa.select(User).where(User.email == SECOND_FACILITATOR_EMAIL))
        meeting.track.facilitators.append(facilitator)
        db.session.commit()
        staff = db.session.scalar(sa.select(User).where(User.email == SECOND_STAFF_EMAIL))
        return SecondAmbito(meeting=meeting_id, track=meeting.track_id, venue=meeting.venue_id,
                            users={"staff": staff.id, "facilitator": facilitator.id}, **ids)


@pytest.fixture
def second_ambito(app: Flask, world: World) -> SecondAmbito:
    return build_second_ambito(app)
