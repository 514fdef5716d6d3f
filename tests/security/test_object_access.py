"""Objects named in a form, not in the URL: a facilitator cannot reach another table's RSVPs, attendances or codes
through the register of their own meeting, and what an entity or a passer-by sees is only their own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scheduler.attendance.models import Attendance
from scheduler.extensions import db
from tests.factories import csrf_from
from tests.security.conftest import changed_tables, sign_in_as, snapshot


@pytest.fixture
def facilitator(app, client, world):
    sign_in_as(client, app, world, "facilitator")
    return client


def _post(client, path: str, data: dict, json: bool):
    headers = {"Accept": "application/json"} if json else {}
    return client.post(path, data={**data, "csrf_token": csrf_from(client, "/")}, headers=headers)


@pytest.mark.parametrize("json", [False, True], ids=["form", "fetch"])
def test_another_meetings_objects_through_my_register_are_refused(app, facilitator, world, json):
    register = f"/presenze/{world.meeting}"
    attempts = [
        ("segna", {"kind": "rsvp", "rsvp_id": world.other_rsvp, "person_name": "Marco Gialli"}),
        ("annulla", {"attendance_id": world.other_attendance}),
        ("annulla", {"client_ref": "altro-1"}),
        (f"codice/{world.other_checkin_code}", {"person_name": "Marco Gialli"}),
    ]
    with app.app_context():
        before = snapshot()
    for action, data in attempts:
        response = _post(facilitator, f"{register}/{action}", data, json)
        if json:
            body = response.get_json()
            assert response.status_code in (200, 400, 403, 404, 409) and body, action
            assert body.get("ok") is False or body.get("message") == "Nulla da annullare.", (action, body)
        else:
            assert response.status_code in (303, 404), action
    with app.app_context():
        assert changed_tables(before, snapshot()) == []
        other = db.session.get(Attendance, world.other_attendance)
        assert other.undone_at is None and other.meeting_id == world.other_meeting


def test_the_register_page_refuses_another_meetings_code(app, facilitator, world):
    response = facilitator.get(f"/presenze/{world.meeting}/codice/{world.other_checkin_code}")
    assert response.status_code == 409
    assert "Questo codice è di un altro incontro" in response.get_data(as_text=True)
    assert "Marco Gialli" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["anonymous", "other_entity", "other_facilitator"])
def test_a_check_in_address_shows_nobody_else_whose_code_it_is(app, client, world, role):
    """The QR's address opened by someone who cannot take attendance: the code, not the entity or its people."""
    sign_in_as(client, app, world, role)
    with app.app_context():
        attendances = db.session.scalar(sa.select(sa.func.count()).select_from(Attendance))
    response = client.get(f"/presenze/{world.meeting}/codice/{world.checkin_code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Associazione Uno" not in page and "Giulia Verdi" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == attendances


def test_a_data_export_holds_only_the_entitys_own_data(app, client, world):
    sign_in_as(client, app, world, "other_entity")
    response = client.get("/area-riservata/dati.json")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Cooperativa Due" in text
    assert "Associazione Uno" not in text and world.entity["email"] not in text and "Giulia Verdi" not in text


def test_a_private_feed_holds_only_the_entitys_own_answers(app, client, world):
    response = client.get(f"/feed/{world.feed_token}.ics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Marco Gialli" not in text and world.other_entity["email"] not in text
    altered = world.feed_token[:-1] + ("y" if world.feed_token.endswith("x") else "x")
    assert client.get(f"/feed/{altered}.ics").status_code == 404
