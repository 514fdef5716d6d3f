"""Arrival and departure, optional per meeting: the facilitator turns on the recording of departures, marks who
leaves (at the phone's time when the tap was queued offline), and the entity's record, its CSV and its certificate
then show its hours of participation, counting the time any of its people was there."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from scheduler import timeutil
from scheduler.attendance.models import Attendance, participation_minutes
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.calendar.services import answer
from scheduler.extensions import db
from scheduler.registry.models import Organization
from scheduler.timeutil import local_instant
from tests.conftest import AuthActions
from tests.factories import make_entity, make_meeting, sign_in_with_link, text_of

PASSWORD = "password-di-prova-1"
DAY = date(2026, 11, 24)
START = local_instant(DAY, time(15, 0))  # 15:00-18:00 in Rome
NOW = START + timedelta(hours=2)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def test_participation_counts_the_time_any_of_the_people_was_there():
    end = at(3)
    assert participation_minutes(START, end, []) == 0
    assert participation_minutes(START, end, [(at(0), None)]) == 180
    assert participation_minutes(START, end, [(at(-1), at(1))]) == 60  # came early: counted from the start
    assert participation_minutes(START, end, [(at(0.5), at(1.5)), (at(1), at(2.5))]) == 120  # overlapping
    assert participation_minutes(START, end, [(at(0), at(1)), (at(2), None)]) == 120  # one after the other
    assert participation_minutes(START, end, [(at(1), at(0.5))]) == 0  # a departure before the arrival


@pytest.fixture
def door(app, crema, make_user, monkeypatch):
    """A meeting under way with a facilitator, and an entity that confirmed two people (the day before)."""
    monkeypatch.setattr(timeutil, "clock", lambda: START - timedelta(days=1))
    meeting_id = make_meeting(app, area="A")
    entity = make_entity(app, "Cooperativa Il Faro")
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR, password=PASSWORD)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.starts_at, meeting.ends_at = START, at(3)
        meeting.track.facilitators.append(db.session.get(User, facilitator))
        rsvp = answer(meeting, db.session.get(Organization, entity["organization"]),
                      db.session.get(User, entity["user"]), True,
                      [{"name": "Sara Galli", "role": ""}, {"name": "Luca Neri", "role": ""}])
        db.session.commit()
        rsvp_id = rsvp.id
    monkeypatch.setattr(timeutil, "clock", lambda: NOW)
    client = app.test_client()
    AuthActions(client).login("facilitatrice@example.org", PASSWORD)
    token = re.search(r'data-csrf="([^"]+)"', client.get(f"/presenze/{meeting_id}").get_data(as_text=True)).group(1)
    return {"meeting": meeting_id, "entity": entity, "rsvp": rsvp_id, "client": client, "token": token}


def _post(door, path: str, data: dict):
    return door["client"].post(f"/presenze/{door['meeting']}{path}", data=data,
                               headers={"Accept": "application/json", "X-CSRFToken": door["token"]})


def _mark(door, name: str, tapped: datetime | None = None):
    data = {"kind": "rsvp", "rsvp_id": str(door["rsvp"]), "person_name": name}
    if tapped:
        data["at"] = tapped.isoformat()
    return _post(door, "/segna", data).get_json()["attendances"][0]["id"]


def test_departures_are_refused_until_the_register_records_them(app, door):
    sara = _mark(door, "Sara Galli")
    response = _post(door, "/uscita", {"attendance_id": str(sara)})
    assert response.status_code == 409
    assert response.get_json()["error"] == "Per questo incontro le uscite non si registrano."
    page = text_of(door["client"].get(f"/presenze/{door['meeting']}"))
    assert "Registra anche le uscite" in page and "Segna l'uscita" not in page


def test_a_departure_tapped_offline_keeps_the_phones_time_and_can_be_taken_back(app, door):
    assert _post(door, "/uscite", {"on": "1"}).status_code == 200
    sara = _mark(door, "Sara Galli", tapped=at(0.25))  # queued offline at 15:15, sent at 17:00
    response = _post(door, "/uscita", {"attendance_id": str(sara), "at": at(1.5).isoformat()})
    assert response.status_code == 200
    assert response.get_json()["message"] == "Uscita di Sara Galli alle 16:30."
    with app.app_context():
        row = db.session.get(Attendance, sara)
        assert (row.checked_in_at, row.left_at) == (at(0.25), at(1.5))
    # a phone whose clock runs ahead cannot record the future; nor a departure before the arrival
    _post(door, "/uscita", {"attendance_id": str(sara), "at": at(5).isoformat()})
    with app.app_context():
        assert db.session.get(Attendance, sara).left_at == NOW
    _post(door, "/uscita", {"attendance_id": str(sara), "at": at(-1).isoformat()})
    with app.app_context():
        assert db.session.get(Attendance, sara).left_at == at(0.25)
    page = text_of(door["client"].get(f"/presenze/{door['meeting']}"))
    assert "Uscita alle 15:15" in page
    assert _post(door, "/uscita", {"attendance_id": str(sara), "back": "1"}).get_json()["message"] == (
        "Sara Galli è di nuovo presente.")
    with app.app_context():
        assert db.session.get(Attendance, sara).left_at is None


def test_the_entitys_record_csv_and_certificate_show_its_hours(app, door, monkeypatch):
    _post(door, "/uscite", {"on": "1"})
    sara = _mark(door, "Sara Galli", tapped=at(0))
    luca = _mark(door, "Luca Neri", tapped=at(1))
    _post(door, "/uscita", {"attendance_id": str(sara), "at": at(1.5).isoformat()})
    _post(door, "/uscita", {"attendance_id": str(luca), "at": at(2).isoformat()})
    monkeypatch.setattr(timeutil, "clock", lambda: at(4))  # the meeting is over
    entity = app.test_client()
    sign_in_with_link(entity, app, door["entity"]["user"])
    page = text_of(entity.get("/area-riservata/partecipazione"))
    assert "Ore di partecipazione: 2:00" in page  # Sara 15:00-16:30, Luca 16:00-17:00
    with app.app_context():
        slug = db.session.scalar(sa.text("SELECT slug FROM calls"))
    rows = list(csv.reader(io.StringIO(entity.get(f"/area-riservata/partecipazione/{slug}/presenze.csv")
                                       .get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "Ore di partecipazione" and rows[1][-1] == "2:00"
    pdf = entity.get(f"/area-riservata/partecipazione/{slug}/attestato.pdf").get_data()
    content = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Ore" in content and "2:00" in content


def test_the_offices_report_shows_each_entitys_hours(app, door, monkeypatch, make_user):
    _post(door, "/uscite", {"on": "1"})
    sara = _mark(door, "Sara Galli", tapped=at(0))
    _post(door, "/uscita", {"attendance_id": str(sara), "at": at(1.25).isoformat()})
    monkeypatch.setattr(timeutil, "clock", lambda: at(4))
    make_user("ufficio@example.org", password=PASSWORD)
    office = app.test_client()
    AuthActions(office).login("ufficio@example.org", PASSWORD)
    page = office.get("/gestione/partecipazione?dal=2026-01-01&al=2026-12-31").get_data(as_text=True)
    assert "Ore di partecipazione" in page
    assert re.search(r'data-col="hours">1:15<', page)
    rows = list(csv.reader(io.StringIO(office.get("/gestione/partecipazione/enti.csv?dal=2026-01-01&al=2026-12-31")
                                       .get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "Ore di partecipazione" and rows[1][0] == "Cooperativa Il Faro" and rows[1][-1] == "1:15"
