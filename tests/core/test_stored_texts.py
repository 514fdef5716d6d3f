"""Every stored text is cleaned by one rule (`scheduler.textutil`), applied by the ORM to every String and Text
column: walk-ins typed on the phone register, an entity's name in the application form, the people of an answer
(a JSON column, cleaned by its service), and any row written by code that cleaned nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from scheduler.attendance.models import Attendance
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, Rsvp, Venue
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Application, Organization
from scheduler.textutil import clean_line, clean_multiline
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link
from tests.security.conftest import application_form

PASSWORD = "password-di-prova-1"
#: What a phone keyboard, a paste from a terminal or a hostile client can put in a name (a NUL never gets as
#: far: `site.views.refuse_nul_characters` answers 400 to any request carrying one).
DIRTY_NAME = "  Mario\x01 \x1b[31mRossi\x1b[0m\u202e\u2066 \ufeff\t\n de\u0301 Luca\x7f\x85 "
CLEAN_NAME = "Mario [31mRossi[0m dé Luca"
#: Characters that must never reach the database nor a page.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")


@pytest.mark.parametrize(("value", "expected"), [
    (DIRTY_NAME, CLEAN_NAME),
    (DIRTY_NAME.replace("\x01", "\x00"), CLEAN_NAME),
    (None, ""),
    ("\x00", ""),
    ("Ente\x00con\x01caratteri\x08di\x1bcontrollo\x7f\r\n\ttab", "Enteconcaratteridicontrollo tab"),
    ("  Cooperativa\u00a0 Il   Ponte ", "Cooperativa Il Ponte"),
    # right-to-left text keeps its marks and joiners; only the overrides go
    ("\u202eجمعية الأمل\u202c 👩\u200d👩\u200d👧 \u200f עמותה", "جمعية الأمل 👩\u200d👩\u200d👧 \u200f עמותה"),
    ("<script>alert('x')</script> =cmd|' /C calc'!A0", "<script>alert('x')</script> =cmd|' /C calc'!A0"),
    ("\ud800lone surrogate", "lone surrogate"),
])
def test_clean_line(value, expected):
    assert clean_line(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("  Prima riga\r\nSeconda\x00 riga  \rTerza\x0bQuarta\u2028Quinta\n\n\tRientro\u202e  \n\n",
     "Prima riga\nSeconda riga  \nTerza\nQuarta\nQuinta\n\n\tRientro"),
    ("Riga con  due spazi finali  \nper Markdown", "Riga con  due spazi finali  \nper Markdown"),
    ("\x00\r\n", ""),
])
def test_clean_multiline(value, expected):
    assert clean_multiline(value) == expected


@pytest.fixture
def register(app, crema, make_user):
    """A meeting of area A with its facilitator signed in, one entity admitted without an answer."""
    meeting_id = make_meeting(app, area="A", venue=True)
    entity = make_entity(app, "Associazione Senza Risposta")
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.track.facilitators.append(db.session.get(User, facilitator))
        db.session.commit()
    return {"meeting": meeting_id, "entity": entity}


def _phone_post(client, path: str, data: dict, token: str):
    """As register.js sends a mark: FormData (multipart) to fetch(), JSON wanted, CSRF in a header."""
    return client.post(path, data=data, content_type="multipart/form-data",
                       headers={"Accept": "application/json", "X-CSRFToken": token})


def test_a_walk_in_from_the_phone_register_is_stored_and_shown_cleaned(app, client, auth, register):
    auth.login("facilitatrice@example.org", PASSWORD)
    page = f"/presenze/{register['meeting']}"
    token = csrf_from(client, page)
    guest = _phone_post(client, page + "/segna", {
        "kind": "guest", "person_name": DIRTY_NAME, "person_role": "Volontaria\x08\u202e  esterna",
        "guest_organization": "\u2066Comitato\x1b[1m  di quartiere\u2069", "guest_email": " ospite@example.org\x7f",
        "method": "walk_in", "client_ref": "phone-1"}, token)
    assert guest.status_code == 200, guest.get_data(as_text=True)
    answer = guest.get_json()
    assert answer["ok"] is True and answer["attendances"][0]["person_name"] == CLEAN_NAME
    assert answer["message"] == f"Presente: {CLEAN_NAME}."
    # the same person typed again with other invisible characters is the same person
    again = _phone_post(client, page + "/segna", {
        "kind": "guest", "person_name": "Mario \u202eRossi[0m\x1b[31m", "guest_organization": "x"}, token)
    assert again.status_code == 200
    entity = _phone_post(client, page + "/segna", {
        "kind": "entity", "organization_id": register["entity"]["organization"],
        "person_name": ["\x1b\u202e", "Anna\u202e  Bianchi\x1b"], "method": "walk_in"}, token)
    assert entity.status_code == 200, entity.get_data(as_text=True)
    assert [a["person_name"] for a in entity.get_json()["attendances"]] == ["Anna Bianchi"]

    with app.app_context():
        rows = db.session.scalars(sa.select(Attendance).order_by(Attendance.id)).all()
        stored = [(a.person_name, a.person_role, a.guest_organization, a.guest_email) for a in rows]
    assert stored[0] == (CLEAN_NAME, "Volontaria esterna", "Comitato[1m di quartiere", "ospite@example.org")
    assert stored[1][0] == "Mario Rossi[0m[31m"
    assert stored[2] == ("Anna Bianchi", "", None, None)
    html = unescape(client.get(page).get_data(as_text=True))
    assert CLEAN_NAME in html and "Comitato[1m di quartiere" in html and "Anna Bianchi" in html
    assert not FORBIDDEN.search(html)


def test_an_entity_name_typed_with_control_characters_is_stored_and_shown_cleaned(app, client, crema, make_user,
                                                                                 auth):
    form = application_form(app)
    form.update({"name": "\u202eAssociazione\x02  Il\x1b[31m Girasole\u2069\x7f",
                 "registered_office": "Via Mazzini 10,\r\n26013 Crema\x0c(CR)",
                 "contact_name": "Ludovico\u200b Ferraresi\x03",
                 "competence_A": "Doposcuola\x04 dal 2010.\r\nDue righe.",
                 "csrf_token": csrf_from(client, "/candidatura")})
    response = client.post("/candidatura", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        organization = db.session.scalar(sa.select(Organization))
        application = db.session.scalar(sa.select(Application))
        contact_names = sorted(c.full_name for c in organization.contacts)
        competence = application.areas[0].competence
        assert organization.name == "Associazione Il[31m Girasole"
        assert organization.registered_office == "Via Mazzini 10, 26013 Crema (CR)"
        application_id = application.id
    # a zero-width space is kept: it is not a control character (and can be a name's own)
    assert contact_names == ["Ludovico\u200b Ferraresi", "Ottavia Brambilla"]
    assert competence == "Doposcuola dal 2010.\nDue righe."

    make_user("staff@example.org")
    auth.login("staff@example.org", PASSWORD)
    html = unescape(client.get(f"/gestione/candidature/{application_id}").get_data(as_text=True))
    assert "Associazione Il[31m Girasole" in html
    assert not FORBIDDEN.search(html)


def test_the_people_of_an_answer_are_stored_cleaned(app, client, crema):
    meeting_id = make_meeting(app, area="A")
    entity = make_entity(app, "Cooperativa Il Faro")
    sign_in_with_link(client, app, entity["user"])
    response = client.post(f"/incontri/{meeting_id}/adesione", data={
        "attending": "yes", "person_name": ["Maria\x05  Rossi\u202e", "\x1b"], "person_role": ["Presi\u2066dente", "x"],
        "csrf_token": csrf_from(client, f"/incontri/{meeting_id}/adesione")})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Rsvp.people)) == [{"name": "Maria Rossi", "role": "Presidente"}]


def test_any_row_written_through_the_orm_is_cleaned(app, crema):
    """Code that cleans nothing still stores clean text: one-line columns, text columns, on insert and update."""
    meeting_id = make_meeting(app, area="A", venue=True)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        venue = db.session.get(Venue, meeting.venue_id)
        venue.name = "Sala\x00  Polivalente\u202e"
        venue.accessibility_notes = "Ingresso\x00 senza gradini\r\nAscensore\u2066"
        meeting.notes = "  \r\nNota\x1b interna  "
        db.session.flush()
        # the objects hold what was stored, before any reload
        assert (venue.name, venue.accessibility_notes, meeting.notes) == (
            "Sala Polivalente", "Ingresso senza gradini\nAscensore", "Nota interna")
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Venue, venue.id).name == "Sala Polivalente"
        assert db.session.get(Meeting, meeting_id).notes == "Nota interna"


def test_messages_rendered_for_sending_are_stored_byte_for_byte(app):
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    with app.app_context():
        message = OutboxMessage(message_id="<prova@tavoli.test>", to_address="ente@example.org",
                                subject="Invito\r\nBcc: altri@example.org",
                                body_text="Testo\r\n", ics=ics)
        db.session.add(message)
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(OutboxMessage, message.id)
        assert (stored.ics, stored.body_text) == (ics, "Testo\r\n")
        # a header is one line: no line break reaches the subject (header injection)
        assert stored.subject == "Invito Bcc: altri@example.org"
