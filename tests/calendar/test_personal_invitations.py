"""Personal invitations: each named person with an e-mail gets their own invitation (ATTENDEE = that person) with
their own check-in code, and every update; taken off the answer, a CANCEL; at the door, their own code checks
them in. Read as received by a real SMTP server on loopback, the calendar part parsed by icalendar and vobject."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import vobject
from icalendar import Calendar

from scheduler.attendance.models import Attendance
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, PersonPass, Rsvp
from scheduler.calendar.services import CalendarError, answer, reschedule
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due
from scheduler.registry.models import Organization
from tests.factories import csrf_from, make_entity, make_meeting

PASSWORD = "password-di-prova-1"
ANNA, LUCA = "anna.bianchi@example.org", "luca.verdi@example.org"


def deliver(app) -> None:
    with app.app_context():
        deliver_all_due("test-worker")


def calendar_of(message) -> tuple[str, Calendar, object]:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    text = part.get_content()
    return part.get_param("method"), Calendar.from_ical(text), vobject.readOne(text)


def to_of(message) -> str:
    return message["To"].addresses[0].addr_spec


def answer_with(app, meeting_id: int, entity: dict, people: list[dict[str, str]]) -> Rsvp:
    with app.app_context():
        rsvp = answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                      db.session.get(User, entity["user"]), True, people)
        db.session.commit()
        return rsvp.id


def test_each_named_person_gets_their_own_invitation_and_updates(smtp_app_config, smtp_server, app, crema):
    entity = make_entity(app, "Cooperativa Due Persone")
    meeting_id = make_meeting(app, area="A", venue=True)
    answer_with(app, meeting_id, entity, [{"name": "Anna Bianchi", "role": "Presidente", "email": ANNA},
                                          {"name": "Luca Verdi", "role": "", "email": "Luca.Verdi@Example.org"}])
    deliver(app)
    messages = smtp_server.wait_for(3)
    by_address = {to_of(m): m for m in messages}
    assert set(by_address) == {entity["email"], ANNA, LUCA}
    with app.app_context():
        passes = {p.email: p for p in db.session.scalars(sa.select(PersonPass))}
    assert set(passes) == {ANNA, LUCA} and passes[ANNA].short_code != passes[LUCA].short_code

    for email, name in ((ANNA, "Anna Bianchi"), (LUCA, "Luca Verdi")):
        message = by_address[email]
        text = message.get_body(("plain",)).get_content()
        assert f"{name}, «Cooperativa Due Persone» ti ha indicato tra le persone" in text
        assert f"Il tuo codice personale per la registrazione all'ingresso: {passes[email].short_code}" in text
        assert passes[email].checkin_code in text
        assert "Per cambiare la risposta" not in text and "/risposta/" not in text  # not theirs to change
        method, parsed, card = calendar_of(message)
        assert method == "REQUEST"
        [event] = parsed.walk("VEVENT")
        assert str(event["ATTENDEE"]).lower() == f"mailto:{email}" and event["ATTENDEE"].params["CN"] == name
        assert card.vevent.attendee.value.lower() == f"mailto:{email}"
    # the contact's own invitation carries the entity's code, not a person's
    contact_text = by_address[entity["email"]].get_body(("plain",)).get_content()
    assert passes[ANNA].short_code not in contact_text
    assert "Per cambiare la risposta o i nomi: http" in contact_text

    # a change of the meeting reaches every holder, the people included
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        reschedule(meeting, meeting.starts_at + timedelta(hours=1), meeting.ends_at + timedelta(hours=1))
        db.session.commit()
    deliver(app)
    updates = smtp_server.wait_for(6)[3:]
    assert {to_of(m) for m in updates} == {entity["email"], ANNA, LUCA}
    assert all(int(calendar_of(m)[1].walk("VEVENT")[0]["SEQUENCE"]) == 1 for m in updates)


def test_a_person_taken_off_the_answer_gets_a_cancel_and_the_other_keeps_the_event(smtp_app_config, smtp_server,
                                                                                  app, crema):
    entity = make_entity(app, "Associazione Tolta Una")
    meeting_id = make_meeting(app, area="A")
    people = [{"name": "Anna Bianchi", "role": "", "email": ANNA}, {"name": "Luca Verdi", "role": "", "email": LUCA}]
    answer_with(app, meeting_id, entity, people)
    deliver(app)
    smtp_server.wait_for(3)
    answer_with(app, meeting_id, entity, people[:1])
    deliver(app)
    [removed] = smtp_server.wait_for(4)[3:]
    assert to_of(removed) == LUCA
    method, parsed, card = calendar_of(removed)
    assert method == "CANCEL"
    [event] = parsed.walk("VEVENT")
    assert event["ATTENDEE"].params["PARTSTAT"] == "DECLINED" and card.vevent.attendee.value.lower() == f"mailto:{LUCA}"
    assert "non ti ha più indicato" in removed.get_body(("plain",)).get_content()
    with app.app_context():
        assert [p.email for p in db.session.scalars(sa.select(PersonPass))] == [ANNA]


def test_one_address_is_one_seat(app, crema):
    meeting_id = make_meeting(app, area="A")
    first, second = make_entity(app, "Primo Ente"), make_entity(app, "Secondo Ente")
    answer_with(app, meeting_id, first, [{"name": "Anna Bianchi", "role": "", "email": ANNA}])
    with pytest.raises(CalendarError) as refused:
        answer_with(app, meeting_id, second, [{"name": "Anna Bianchi", "role": "", "email": ANNA}])
    assert refused.value.message == f"L'indirizzo {ANNA} è già indicato da un altro ente per questo incontro."
    with pytest.raises(CalendarError) as twice:
        answer_with(app, meeting_id, second, [{"name": "Anna", "role": "", "email": ANNA.upper()},
                                              {"name": "Anna B.", "role": "", "email": ANNA}])
    assert twice.value.message == f"L'indirizzo {ANNA} è indicato per due persone."
    with pytest.raises(CalendarError) as bad:
        answer_with(app, meeting_id, second, [{"name": "Marco", "role": "", "email": "marco@caritascrema"}])
    assert bad.value.message == "L'indirizzo e-mail di Marco non è valido."


def test_the_answer_form_asks_for_each_persons_email_and_keeps_it(app, client, crema):
    from tests.factories import sign_in_with_link

    entity = make_entity(app, "Ente Con Il Modulo")
    meeting_id = make_meeting(app, area="A")
    sign_in_with_link(client, app, entity["user"])
    path = f"/incontri/{meeting_id}/adesione"
    page = client.get(path).get_data(as_text=True)
    assert 'name="person_email"' in page and "E-mail (persona 1, facoltativa)" in page
    response = client.post(path, data={"csrf_token": csrf_from(client, path), "attending": "yes",
                                       "person_name": ["Anna Bianchi"], "person_role": [""],
                                       "person_email": ["anna@non-valido"]})
    assert response.status_code == 400
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert "L'indirizzo e-mail di Anna Bianchi non è valido." in page and 'value="anna@non-valido"' in page


def test_the_facilitator_checks_a_person_in_by_their_own_code(app, client, auth, make_user, crema):
    entity = make_entity(app, "Ente Al Registro")
    meeting_id = make_meeting(app, area="A")
    answer_with(app, meeting_id, entity, [{"name": "Anna Bianchi", "role": "", "email": ANNA},
                                          {"name": "Luca Verdi", "role": "", "email": LUCA}])
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.track.facilitators.append(db.session.get(User, facilitator))
        db.session.commit()
        luca = db.session.scalar(sa.select(PersonPass).where(PersonPass.email == LUCA))
        short, long_code = luca.short_code, luca.checkin_code
    auth.login("facilitatrice@example.org", PASSWORD)
    register = client.get(f"/presenze/{meeting_id}").get_data(as_text=True)
    assert f"Codice personale: <span class=\"font-monospace\">{short}</span>" in register
    page = client.get(f"/presenze/{meeting_id}/codice/{short.lower()}").get_data(as_text=True)
    assert "Codice personale di Luca Verdi" in page
    assert 'value="Luca Verdi" id="qr-person-2" checked' in page and 'value="Anna Bianchi" id="qr-person-1">' in page
    token = csrf_from(client, f"/presenze/{meeting_id}")
    response = client.post(f"/presenze/{meeting_id}/codice/{long_code}", data={"csrf_token": token})
    assert response.status_code in (302, 303)
    with app.app_context():
        present = [a.person_name for a in db.session.scalars(sa.select(Attendance).where(
            Attendance.meeting_id == meeting_id, Attendance.undone_at.is_(None)))]
    assert present == ["Luca Verdi"]


def test_a_persons_calendar_declining_takes_only_that_person_off(app, crema):
    from scheduler.calendar.services import answer_from_calendar

    entity = make_entity(app, "Ente Del Calendario")
    meeting_id = make_meeting(app, area="A")
    answer_with(app, meeting_id, entity, [{"name": "Anna Bianchi", "role": "", "email": ANNA},
                                          {"name": "Luca Verdi", "role": "", "email": LUCA}])
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        answer_from_calendar(meeting, LUCA, True)  # Accept: nothing changes
        answer_from_calendar(meeting, LUCA, False)
        db.session.commit()
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.meeting_id == meeting_id))
        assert rsvp.status.value == "yes" and [p["name"] for p in rsvp.people] == ["Anna Bianchi"]
        assert rsvp.seats == 1 and [p.email for p in rsvp.passes] == [ANNA]
