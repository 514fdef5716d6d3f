"""Seats are people: a meeting's capacity counts the people each entity names; staff may cap how many each
entity brings; the waiting list moves in people, first come first served."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from scheduler.auth.models import User
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calendar.services import CalendarError, answer
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Organization
from tests.calendar.test_meeting_page import edit
from tests.calendar.test_rsvp_concurrency import answer_together
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link, text_of

PASSWORD = "password-di-prova-1"


def people(n: int) -> list[dict[str, str]]:
    return [{"name": f"Persona {i + 1}", "role": ""} for i in range(n)]


def say_yes(app, meeting_id: int, entity: dict, n: int) -> RsvpStatus:
    with app.app_context():
        rsvp = answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                      db.session.get(User, entity["user"]), True, people(n))
        db.session.commit()
        return rsvp.status


def status_of(app, meeting_id: int, entity: dict) -> RsvpStatus:
    with app.app_context():
        return db.session.scalar(sa.select(Rsvp.status).where(Rsvp.meeting_id == meeting_id,
                                                              Rsvp.organization_id == entity["organization"]))



def test_capacity_counts_people_and_the_waiting_list_moves_in_people(app, client, crema):
    meeting_id = make_meeting(app, area="A", capacity=3)
    first, second, third = (make_entity(app, name) for name in ("Primo Ente", "Secondo Ente", "Terzo Ente"))
    assert say_yes(app, meeting_id, first, 2) is RsvpStatus.YES
    assert say_yes(app, meeting_id, second, 2) is RsvpStatus.WAITLIST  # 2 + 2 > 3
    assert say_yes(app, meeting_id, third, 1) is RsvpStatus.WAITLIST  # it fits, but nobody passes the line
    with app.app_context():
        assert services.taken_seats(meeting_id) == 2

    sign_in_with_link(client, app, first["user"])
    page = text_of(client.get(f"/incontri/{meeting_id}/adesione"))
    assert "2 posti occupati su 3." in page

    # the first entity comes with one person fewer: the second fits now (2 free) and is told; the third waits
    assert say_yes(app, meeting_id, first, 1) is RsvpStatus.YES
    assert status_of(app, meeting_id, second) is RsvpStatus.YES
    assert status_of(app, meeting_id, third) is RsvpStatus.WAITLIST
    with app.app_context():
        assert services.taken_seats(meeting_id) == 3
        told = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == second["email"])
                                  .order_by(OutboxMessage.id)).all()
        assert "Si è liberato un posto" in told[-1].body_text


def test_more_people_on_a_confirmed_seat_only_as_far_as_seats_are_free(app, crema):
    meeting_id = make_meeting(app, area="A", capacity=4)
    first, second = make_entity(app, "Primo Ente"), make_entity(app, "Secondo Ente")
    assert say_yes(app, meeting_id, first, 2) is RsvpStatus.YES
    assert say_yes(app, meeting_id, second, 1) is RsvpStatus.YES
    with pytest.raises(CalendarError) as refused:
        say_yes(app, meeting_id, first, 4)
    assert refused.value.message.startswith("Restano 1 posti liberi: l'ente può indicare al massimo 3 persone")
    assert refused.value.status == 409
    with app.app_context():
        db.session.rollback()
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.organization_id == first["organization"]))
        assert rsvp.status is RsvpStatus.YES and rsvp.seats == 2  # the seat it held is kept
    assert say_yes(app, meeting_id, first, 3) is RsvpStatus.YES


def test_an_entity_bigger_than_the_room_is_told_so(app, crema):
    meeting_id = make_meeting(app, area="A", capacity=2)
    entity = make_entity(app, "Ente Numeroso")
    with pytest.raises(CalendarError) as refused:
        say_yes(app, meeting_id, entity, 3)
    assert refused.value.message == "L'incontro ha 2 posti in tutto: indica al massimo 2 persone."





def test_staff_cap_the_people_of_each_entity(staff, app):
    meeting_id = make_meeting(app, area="A", capacity=40)
    refused = edit(staff, meeting_id, capacity="40", seats_per_entity="50")
    assert refused.status_code == 400
    page = text_of(refused)
    assert "Il massimo per ente (50) non può superare i posti dell'incontro (40)." in page
    assert 'value="50"' in page
    assert edit(staff, meeting_id, capacity="40", seats_per_entity="2").status_code == 303
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).seats_per_entity == 2
    entity = make_entity(app, "Ente Con Tre Persone")
    with pytest.raises(CalendarError) as too_many:
        say_yes(app, meeting_id, entity, 3)
    assert too_many.value.message == "A questo incontro ogni ente può indicare al massimo 2 persone."
    assert say_yes(app, meeting_id, entity, 2) is RsvpStatus.YES
    page = text_of(staff.get(f"/gestione/calendario/incontri/{meeting_id}"))
    assert "2 posti occupati su 40" in page and "1 ente confermato" in page


def test_the_answer_form_keeps_what_was_typed_when_the_cap_refuses(app, client, staff):
    meeting_id = make_meeting(app, area="A", capacity=40)
    assert edit(staff, meeting_id, capacity="40", seats_per_entity="1").status_code == 303
    entity = make_entity(app, "Ente Con Due Persone")
    client.get("/esci")
    sign_in_with_link(client, app, entity["user"])
    path = f"/incontri/{meeting_id}/adesione"
    response = client.post(path, data={"csrf_token": csrf_from(client, path), "attending": "yes",
                                       "person_name": ["Anna Bianchi", "Luca Verdi"], "person_role": ["", ""]})
    assert response.status_code == 400
    page = text_of(response)
    assert "ogni ente può indicare al massimo 1 persona" in page
    assert 'value="Anna Bianchi"' in page and 'value="Luca Verdi"' in page
    assert "Ogni ente può indicare al massimo 1 persona." in page


def test_fifty_answers_at_once_never_take_more_than_forty_seats(app, crema, database_url):
    """1 to 5 people each, all at the same instant: the confirmed people never exceed the room (PostgreSQL
    serialises them on the meeting's row, SQLite on its write lock)."""
    meeting_id = make_meeting(app, area="A", capacity=40)
    entities = [make_entity(app, f"Ente {n}", areas=("A",)) for n in range(50)]
    sizes = {e["organization"]: random.Random(e["organization"]).randint(1, 5) for e in entities}
    errors = answer_together(app, meeting_id, entities, lambda entity: people(sizes[entity["organization"]]))
    assert errors == []
    with app.app_context():
        rows = db.session.execute(sa.select(Rsvp.organization_id, Rsvp.status, Rsvp.seats)
                                  .where(Rsvp.meeting_id == meeting_id).order_by(Rsvp.answered_at, Rsvp.id)).all()
    assert len(rows) == 50 and all(seats == sizes[org] for org, _status, seats in rows)
    confirmed = sum(seats for _org, status, seats in rows if status is RsvpStatus.YES)
    assert confirmed <= 40
    # and the line is honest: the first entity waiting did not fit in the seats left
    first_waiting = next(seats for _org, status, seats in rows if status is RsvpStatus.WAITLIST)
    assert confirmed + first_waiting > 40
