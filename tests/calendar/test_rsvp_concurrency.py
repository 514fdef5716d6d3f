"""Thirty entities answer at the same instant for a meeting of capacity ten: exactly ten get a seat."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from scheduler.auth.models import User
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calendar.services import answer
from scheduler.extensions import db
from scheduler.registry.models import Organization
from tests.factories import make_entity, make_meeting


def answer_together(app, meeting_id: int, entities: list[dict], people_of) -> list[BaseException]:
    """Every entity answers yes at the same instant (`people_of(entity)`: the people it names), each on its own
    connection; the errors raised, none expected."""
    start = threading.Barrier(len(entities))
    errors: list[BaseException] = []

    def respond(entity: dict) -> None:
        with app.app_context():
            try:
                meeting = db.session.get(Meeting, meeting_id)
                organization = db.session.get(Organization, entity["organization"])
                user = db.session.get(User, entity["user"])
                db.session.commit()  # end the reads: all threads now race for the seats
                start.wait(timeout=30)
                answer(meeting, organization, user, True, people_of(entity))
                db.session.commit()
            except BaseException as exc:  # collected and reported by the caller
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=respond, args=(e,)) for e in entities]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_capacity_is_never_exceeded_under_simultaneous_answers(app, crema, database_url):
    meeting_id = make_meeting(app, area="A", capacity=10)
    entities = [make_entity(app, f"Ente {n}", areas=("A",)) for n in range(30)]
    assert answer_together(app, meeting_id, entities, lambda _entity: [{"name": "Persona", "role": ""}]) == []
    with app.app_context():
        counts = dict(db.session.execute(
            sa.select(Rsvp.status, sa.func.count()).where(Rsvp.meeting_id == meeting_id).group_by(Rsvp.status)
        ).all())
    assert counts == {RsvpStatus.YES: 10, RsvpStatus.WAITLIST: 20}
