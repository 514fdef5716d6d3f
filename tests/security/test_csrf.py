"""Forms posted without the CSRF token of the visitor's own session are refused, and change nothing.

The test configuration keeps CSRF protection on (WTF_CSRF_ENABLED is never turned off in the suite).
"""

from __future__ import annotations

import pytest

from tests.factories import csrf_from
from tests.security.conftest import (
    PASSWORD,
    STAFF_EMAIL,
    application_form,
    changed_tables,
    sign_in_as,
    snapshot,
)

CSRF_MESSAGE = "La sessione del modulo è scaduta o non è valida: ricarica la pagina e riprova."

#: (role, path, body): representative forms of every role; {meeting}, {application}... come from the world.
CASES = [
    ("anonymous", "/accedi", {"email": STAFF_EMAIL, "password": PASSWORD}),
    ("anonymous", "/accedi/link", {"email": "{entity_email}"}),
    ("anonymous", "/lingua", {"lang": "en"}),
    ("anonymous", "/candidatura", "application form"),
    ("entity", "/incontri/{meeting}/adesione", {"attending": "no"}),
    ("entity", "/area-riservata/ritira", {}),
    ("entity", "/area-riservata/calendario", {}),
    ("facilitator", "/presenze/{meeting}/segna", {"kind": "individual", "person_name": "Persona Nuova"}),
    ("facilitator", "/presenze/{meeting}/chiudi", {}),
    ("staff", "/gestione/candidature/{application}/rifiuta", {"reason": "Non è un ente del Terzo Settore."}),
    ("staff", "/gestione/calendario/incontri/{meeting}/annulla", {}),
    ("staff", "/esci", {}),
]


def _signed_in_user(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def _fill(text: str, world) -> str:
    return text.format(meeting=world.meeting, application=world.application,
                       entity_email=world.entity["email"])


@pytest.mark.parametrize("token", ["missing", "other-session"])
def test_post_without_the_sessions_token_is_refused(app, world, token):
    clients = {}
    wrong = []
    for role, path, body in CASES:
        if role not in clients:
            clients[role] = app.test_client()
            sign_in_as(clients[role], app, world, role)
        client = clients[role]
        user_before = _signed_in_user(client)
        if body == "application form":
            data = application_form(app)
        else:
            data = {key: _fill(value, world) for key, value in body.items()}
        if token == "other-session":
            data["csrf_token"] = csrf_from(app.test_client(), "/accedi")
        with app.app_context():
            before = snapshot()

        response = client.post(_fill(path, world), data=data)

        with app.app_context():
            changed = changed_tables(before, snapshot())
        with client.session_transaction() as session:
            lang = session.get("lang")
        if (response.status_code, changed, _signed_in_user(client), lang) != (400, [], user_before, None):
            wrong.append(f"{role} POST {path}: {response.status_code}, changed {changed}, "
                         f"signed in as {_signed_in_user(client)} (was {user_before}), language {lang}")
        elif CSRF_MESSAGE not in response.get_data(as_text=True):
            wrong.append(f"{role} POST {path}: no message about the expired form")
    assert not wrong, "\n".join(wrong)


def test_a_fetch_with_a_wrong_csrf_header_is_refused(app, client, world):
    """The register's offline queue posts with an X-CSRFToken header: a wrong one is refused like a form."""
    sign_in_as(client, app, world, "facilitator")
    with app.app_context():
        before = snapshot()
    response = client.post(
        f"/presenze/{world.meeting}/segna", data={"kind": "individual", "person_name": "Persona Nuova"},
        headers={"Accept": "application/json", "X-CSRFToken": "not-the-token"},
    )
    assert response.status_code == 400
    # "csrf": the queue fetches a fresh token and sends the mark again, instead of dropping it
    assert response.get_json() == {"error": CSRF_MESSAGE, "status": 400, "csrf": True}
    with app.app_context():
        assert changed_tables(before, snapshot()) == []


def test_the_same_post_with_the_token_goes_through(app, client, world):
    """The control for the tests above: the forms they send work once the token is there."""
    sign_in_as(client, app, world, "staff")
    response = client.post(f"/gestione/calendario/incontri/{world.meeting}/annulla",
                           data={"csrf_token": csrf_from(client, "/"), "reason": "La sala non è disponibile."})
    assert response.status_code == 303
    with app.app_context():
        from scheduler.calendar.models import Meeting, MeetingStatus
        from scheduler.extensions import db

        assert db.session.get(Meeting, world.meeting).status is MeetingStatus.CANCELLED
