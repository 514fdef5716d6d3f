"""One-time sign-in links by e-mail for entity users."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from auth_helpers import ENTITY_EMAIL, csrf_from, outbox, set_active

from scheduler.auth.models import LoginToken, User
from scheduler.extensions import db

SENT = (
    "Se l'indirizzo è registrato, riceverai a breve un'e-mail con il collegamento per accedere. "
    "Il collegamento vale 30 minuti e si può usare una sola volta."
)
LINK_RE = re.compile(r"http://tavoli\.test/accedi/link/([A-Za-z0-9_-]+)")


def ask_for_link(client, email: str, next_path: str | None = None):
    token = csrf_from(client.get("/accedi").get_data(as_text=True))
    data = {"email": email, "csrf_token": token}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/accedi/link", data=data)


def link_token(app) -> str:
    messages = outbox(app)
    assert len(messages) == 1
    match = LINK_RE.search(messages[0].body_text)
    assert match, messages[0].body_text
    return match.group(1)


def use_link(client, raw: str):
    page = client.get(f"/accedi/link/{raw}").get_data(as_text=True)
    return client.post(f"/accedi/link/{raw}", data={"csrf_token": csrf_from(page)})


def without_csrf(page: str) -> str:
    return re.sub(r'name="csrf_token"([^>]*)value="[^"]+"', r'name="csrf_token"\1value=""', page)


def test_known_entity_address_gets_one_email_with_the_link(app, client, make_entity_user):
    make_entity_user()

    response = ask_for_link(client, ENTITY_EMAIL.upper())

    assert response.status_code == 200
    assert SENT in response.get_data(as_text=True)
    [message] = outbox(app)
    assert message.to_address == ENTITY_EMAIL
    assert message.subject == "Il tuo collegamento per accedere"
    assert message.topic == "login-link"
    assert LINK_RE.search(message.body_text)
    assert LINK_RE.search(message.body_html)
    assert "30 minuti" in message.body_text
    assert "se non hai chiesto tu l'accesso ignora questo messaggio" in message.body_text.lower()
    # The expiry is written in Italian, e.g. "fino alle 10:45 di mercoledì 15 maggio 2024".
    assert re.search(r"fino alle \d{1,2}:\d\d di \w+ \d{1,2} \w+ \d{4}", message.body_text)


def test_unknown_address_gets_the_same_answer_and_no_email(app, client, make_entity_user):
    make_entity_user()
    known = ask_for_link(client, ENTITY_EMAIL)
    unknown = ask_for_link(client, "nessuno@ente-esempio.it")

    assert unknown.status_code == known.status_code == 200
    assert without_csrf(unknown.get_data(as_text=True)) == without_csrf(known.get_data(as_text=True))
    assert len(outbox(app)) == 1


@pytest.mark.parametrize("who", ["staff", "inactive"])
def test_no_link_for_staff_or_inactive_users(app, client, make_user, make_entity_user, who):
    if who == "staff":
        make_user(ENTITY_EMAIL)
    else:
        make_entity_user(active=False)
    response = ask_for_link(client, ENTITY_EMAIL)
    assert response.status_code == 200
    assert SENT in response.get_data(as_text=True)
    assert outbox(app) == []


def test_malformed_address_gets_a_message_next_to_the_field(app, client):
    response = ask_for_link(client, "non-un-indirizzo")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="link-email-error"' in page
    assert "Scrivi un indirizzo e-mail valido" in page
    assert 'value="non-un-indirizzo"' in page
    assert outbox(app) == []


def test_opening_the_link_does_not_use_it(app, client, make_entity_user):
    make_entity_user()
    ask_for_link(client, ENTITY_EMAIL)
    raw = link_token(app)

    for _ in range(3):  # a mail scanner, then the person
        response = client.get(f"/accedi/link/{raw}")
        assert response.status_code == 200
        assert "Accedi" in response.get_data(as_text=True)

    with app.app_context():
        assert db.session.scalar(sa.select(LoginToken.used_at)) is None
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_the_button_signs_in_once(app, client, make_entity_user):
    user_id = make_entity_user()
    ask_for_link(client, ENTITY_EMAIL, next_path="/calendario")
    raw = link_token(app)

    response = use_link(client, raw)

    assert response.status_code == 302
    assert response.headers["Location"] == "/calendario"
    with client.session_transaction() as session:
        assert session["_user_id"] == f"{user_id}:1"
    assert "Esci" in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user_id).last_login_at is not None

    other = app.test_client()
    again = other.get(f"/accedi/link/{raw}")
    assert again.status_code == 400
    assert "Questo collegamento è già stato usato. Chiedine uno nuovo." in again.get_data(as_text=True)
    page = client.get("/accedi").get_data(as_text=True)
    response = client.post(f"/accedi/link/{raw}", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 400
    assert "già stato usato" in response.get_data(as_text=True)
    assert 'href="/accedi"' in response.get_data(as_text=True)


def test_link_without_a_safe_next_goes_to_the_reserved_area(app, client, make_entity_user):
    make_entity_user()
    ask_for_link(client, ENTITY_EMAIL, next_path="https://evil.example/")
    response = use_link(client, link_token(app))
    assert response.headers["Location"] == "/area-riservata"


def test_expired_link_is_refused(app, client, make_entity_user, monkeypatch):
    make_entity_user()
    ask_for_link(client, ENTITY_EMAIL)
    raw = link_token(app)
    page = client.get(f"/accedi/link/{raw}").get_data(as_text=True)

    monkeypatch.setattr("scheduler.timeutil.clock", lambda: datetime.now(UTC) + timedelta(minutes=31))

    response = client.post(f"/accedi/link/{raw}", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 400
    assert "Il collegamento è scaduto" in response.get_data(as_text=True)
    assert client.get(f"/accedi/link/{raw}").status_code == 400
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_link_of_a_deactivated_user_is_refused(app, client, make_entity_user):
    user_id = make_entity_user()
    ask_for_link(client, ENTITY_EMAIL)
    raw = link_token(app)
    set_active(app, user_id, False)
    assert use_link(client, raw).status_code == 400


@pytest.mark.parametrize("raw", ["sconosciuto", "x" * 500])
def test_unknown_token_is_refused(client, raw):
    response = client.get(f"/accedi/link/{raw}")
    assert response.status_code == 400
    assert "Il collegamento non è valido" in response.get_data(as_text=True)


def test_only_the_hash_of_the_token_is_stored(app, client, make_entity_user):
    make_entity_user()
    ask_for_link(client, ENTITY_EMAIL)
    raw = link_token(app)
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT * FROM login_tokens")).mappings().all()
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in rows[0].values())


def test_using_the_link_needs_a_csrf_token(app, client, make_entity_user):
    make_entity_user()
    ask_for_link(client, ENTITY_EMAIL)
    raw = link_token(app)
    assert client.post(f"/accedi/link/{raw}").status_code == 400
    assert client.get(f"/accedi/link/{raw}").status_code == 200  # still usable


def test_requests_are_rate_limited(app, client, make_entity_user):
    token = csrf_from(client.get("/accedi").get_data(as_text=True))
    data = {"email": "nessuno@ente-esempio.it", "csrf_token": token}
    statuses = [client.post("/accedi/link", data=data).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


def test_one_address_gets_at_most_five_links_an_hour(app, client, make_entity_user):
    make_entity_user()
    for _ in range(7):
        assert ask_for_link(client, ENTITY_EMAIL).status_code == 200
    assert len(outbox(app)) == 5


def test_issue_login_token_for_other_features(app, make_entity_user):
    """The invite e-mail puts a longer-lived link to the RSVP; it is one-time like the others."""
    from scheduler.auth import services

    user_id = make_entity_user()
    with app.app_context():
        raw = services.issue_login_token(db.session.get(User, user_id), "/incontri/3", ttl=timedelta(days=20))
        db.session.commit()
        assert services.login_link_url(raw) == f"http://tavoli.test/accedi/link/{raw}"
    with app.app_context():
        user, next_path, _entity = services.consume_login_link(raw)
        db.session.commit()
        assert (user.id, next_path) == (user_id, "/incontri/3")
    with app.app_context(), pytest.raises(services.LinkUsed):
        services.consume_login_link(raw)


def test_two_simultaneous_clicks_sign_in_once(app, make_entity_user):
    from scheduler.auth import services

    user_id = make_entity_user()
    with app.app_context():
        raw = services.issue_login_token(db.session.get(User, user_id))
        db.session.commit()

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        with app.app_context():
            barrier.wait()
            try:
                services.consume_login_link(raw)
                db.session.commit()
                outcomes.append("signed-in")
            except services.LinkUsed:
                db.session.rollback()
                outcomes.append("used")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["signed-in", "used"]


def test_links_in_other_emails_do_not_count_towards_the_hourly_cap(app, client, make_entity_user):
    from scheduler.auth import services

    user_id = make_entity_user()
    with app.app_context():
        user = db.session.get(User, user_id)
        for _ in range(6):  # e.g. six invitations sent at once
            services.issue_login_token(user, "/incontri/1", ttl=timedelta(days=30))
        db.session.commit()
    ask_for_link(client, ENTITY_EMAIL)
    assert len(outbox(app)) == 1
