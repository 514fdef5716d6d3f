"""Fixtures of the browser tests at the door."""

from __future__ import annotations

import pytest

from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.calendar.services import answer
from scheduler.extensions import db
from scheduler.registry.models import Organization
from tests.factories import make_entity, make_meeting

PASSWORD = "password-di-prova-1"


@pytest.fixture
def meeting(app, crema, make_user):
    """A meeting with a facilitator and three entities that said yes with their people."""
    meeting_id = make_meeting(app, area="A", venue=True)
    entities = {
        "faro": (make_entity(app, "Cooperativa Il Faro"), [{"name": "Sara Galli", "role": "Coordinatrice"},
                                                            {"name": "Luca Neri", "role": ""}]),
        "ponte": (make_entity(app, "Associazione Il Ponte"), [{"name": "Anna Riva", "role": "Presidente"}]),
        "sole": (make_entity(app, "ODV Il Sole"), [{"name": "Carla Sole", "role": ""}]),
    }
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR, password=PASSWORD)
    with app.app_context():
        row = db.session.get(Meeting, meeting_id)
        row.track.facilitators.append(db.session.get(User, facilitator))
        rsvps = {}
        for key, (entity, people) in entities.items():
            rsvp = answer(row, db.session.get(Organization, entity["organization"]),
                          db.session.get(User, entity["user"]), True, people)
            rsvps[key] = (rsvp.id, rsvp.checkin_code)
        db.session.commit()
    return {"id": meeting_id, "rsvps": rsvps}
