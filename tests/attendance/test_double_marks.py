"""One presence per person per meeting, whatever the device: two phones marking the same person at the same
instant store one row, and the second phone is told "già presente". On PostgreSQL the requests really overlap
(each on its own connection); on SQLite the database's lock puts them in turn, with the same outcome."""

from __future__ import annotations

import re
import threading

import sqlalchemy as sa

from scheduler.attendance.models import Attendance, AttendanceMethod
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.calendar.services import answer
from scheduler.extensions import db
from scheduler.registry.models import Organization
from tests.conftest import AuthActions
from tests.factories import make_entity, make_meeting

PASSWORD = "password-di-prova-1"


def _phone(app, email: str):
    """A facilitator's phone: its own client, signed in, with the register's form token."""
    client = app.test_client()
    assert AuthActions(client).login(email, PASSWORD).status_code == 302
    return client


def _token(client, meeting_id: int) -> str:
    page = client.get(f"/presenze/{meeting_id}").get_data(as_text=True)
    return re.search(r'data-csrf="([^"]+)"', page).group(1)


def test_two_phones_marking_the_same_person_at_once_store_one_presence(app, crema, make_user):
    meeting_id = make_meeting(app, area="A", days_ahead=0.01)
    entity = make_entity(app, "Cooperativa Il Faro")
    make_user("facilitatrice@example.org", role=Role.FACILITATOR)
    make_user("collega@example.org", role=Role.FACILITATOR)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        for email in ("facilitatrice@example.org", "collega@example.org"):
            meeting.track.facilitators.append(db.session.scalar(sa.select(User).where(User.email == email)))
        rsvp_id = answer(meeting, db.session.get(Organization, entity["organization"]),
                         db.session.get(User, entity["user"]), True, [{"name": "Sara Galli", "role": ""}]).id
        db.session.commit()
    phones = [_phone(app, "facilitatrice@example.org"), _phone(app, "collega@example.org")]
    tokens = [_token(phone, meeting_id) for phone in phones]
    start = threading.Barrier(2)
    answers: list[dict] = [{}, {}]

    def tap(n: int, name: str) -> None:
        start.wait(timeout=30)
        response = phones[n].post(
            f"/presenze/{meeting_id}/segna",
            data={"kind": "rsvp", "rsvp_id": str(rsvp_id), "person_name": name, "client_ref": f"telefono-{n}"},
            headers={"Accept": "application/json", "X-CSRFToken": tokens[n]})
        answers[n] = {"status": response.status_code, **response.get_json()}

    # the second phone types the name its own way: it is still the same person
    threads = [threading.Thread(target=tap, args=(0, "Sara Galli")),
               threading.Thread(target=tap, args=(1, "sara  GALLI"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a["status"] for a in answers] == [200, 200], answers
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Attendance).where(Attendance.meeting_id == meeting_id)))
    assert len(rows) == 1 and rows[0].undone_at is None
    stored = rows[0].person_name  # as the phone that got there first typed it
    assert stored in ("Sara Galli", "sara GALLI")
    assert sorted(a["message"] for a in answers) == [f"Già presente: {stored}.", f"Presente: {stored}."], answers
    assert sorted(a["already"] for a in answers) == [False, True]


def test_the_database_refuses_a_second_presence_of_the_same_person(app, crema):
    from sqlalchemy.exc import IntegrityError

    meeting_id = make_meeting(app, area="A", days_ahead=0.01)
    entity = make_entity(app, "Cooperativa Il Faro")
    with app.app_context():
        db.session.add(Attendance(meeting_id=meeting_id, organization_id=entity["organization"],
                                  person_name="Sara Galli", method=AttendanceMethod.HAND))
        db.session.commit()
        db.session.add(Attendance(meeting_id=meeting_id, organization_id=entity["organization"],
                                  person_name="SARA galli", method=AttendanceMethod.WALK_IN))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        else:
            raise AssertionError("a second presence of the same person was stored")
        # once undone, the person can be marked again
        first = db.session.scalar(sa.select(Attendance))
        first.undone_at = first.checked_in_at
        db.session.add(Attendance(meeting_id=meeting_id, organization_id=entity["organization"],
                                  person_name="Sara Galli", method=AttendanceMethod.HAND))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 2
