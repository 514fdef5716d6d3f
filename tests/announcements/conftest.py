"""Fixtures of the announcement tests: a staff member signed in, and a small cast of entities and meetings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calendar.models import CalendarCopy, Rsvp, RsvpStatus
from scheduler.calls.ambiti import default_ambito
from scheduler.calls.models import Track
from scheduler.extensions import db
from scheduler.registry.models import ApplicationStatus, Contact, ContactKind
from scheduler.timeutil import utcnow
from tests.factories import make_entity, make_meeting

PASSWORD = "password-di-prova-1"


@pytest.fixture
def staff(client, auth, make_user, crema):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    return client


def answer(app, meeting_id: int, entity: dict, status: RsvpStatus) -> None:
    """An answer as it stands after the calendar sent its invitation: a yes or a wait holds the event."""
    with app.app_context():
        db.session.add(Rsvp(meeting_id=meeting_id, organization_id=entity["organization"], status=status,
                            answered_by_id=entity["user"]))
        if status is not RsvpStatus.NO:
            db.session.add(CalendarCopy(meeting_id=meeting_id, organization_id=entity["organization"],
                                        email=entity["email"].lower(), name=entity["email"], sequence=0))
        db.session.commit()


def add_contact(app, entity: dict, email: str, kind=ContactKind.DELEGATE, area_code: str | None = None,
                name: str = "Delegata") -> None:
    from scheduler.calls.models import Area

    with app.app_context():
        area_id = db.session.scalar(sa.select(Area.id).where(Area.code == area_code)) if area_code else None
        # a delegate who confirmed the address (an unconfirmed one receives nothing)
        db.session.add(Contact(organization_id=entity["organization"], kind=kind, full_name=name, email=email,
                               area_id=area_id, confirmed_at=utcnow() if kind is ContactKind.DELEGATE else None))
        db.session.commit()


@pytest.fixture
def cast(app, crema):
    """Entities of areas A and B, one not admitted, a meeting of area A with answers, a facilitator."""
    a1 = make_entity(app, "Alfa APS", areas=("A",), email="alfa@example.org")
    a2 = make_entity(app, "Beta ODV", areas=("A", "B"), email="beta@example.org")
    a3 = make_entity(app, "Gamma Coop", areas=("A",), email="gamma@example.org")
    a4 = make_entity(app, "Delta Onlus", areas=("A",), email="delta@example.org")
    b1 = make_entity(app, "Epsilon", areas=("B",), email="epsilon@example.org")
    pending = make_entity(app, "Zeta in esame", areas=("A",), status=ApplicationStatus.SUBMITTED,
                          email="zeta@example.org")
    meeting = make_meeting(app, area="A", days_ahead=10)
    answer(app, meeting, a1, RsvpStatus.YES)
    answer(app, meeting, a2, RsvpStatus.WAITLIST)
    answer(app, meeting, a3, RsvpStatus.NO)
    with app.app_context():
        from scheduler.calendar.models import Meeting

        track = db.session.get(Meeting, meeting).track
        facilitator = User(email="facilitatrice@example.org", role=Role.FACILITATOR, full_name="Fausta Facilitatrice",
                           ambito=default_ambito())
        track.facilitators.append(facilitator)
        db.session.commit()
        track_id = track.id
        assert db.session.get(Track, track_id) is not None
    return {"a1": a1, "a2": a2, "a3": a3, "a4": a4, "b1": b1, "pending": pending, "meeting": meeting,
            "track": track_id}
