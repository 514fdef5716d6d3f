"""Password sign-in for staff and facilitators, sign-out, sessions, CSRF and the rate limit."""

from __future__ import annotations

import pytest
from auth_helpers import STAFF_EMAIL, STAFF_PASSWORD, csrf_from, set_active

from scheduler.auth.models import Role, User
from scheduler.extensions import db

WRONG = "E-mail o password non corretti."


def test_login_page_offers_both_ways_in(client):
    response = client.get("/accedi")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Personale e facilitatori" in page
    assert "Enti del Terzo Settore" in page
    assert "Ricevi un collegamento per accedere" in page
    assert 'autocomplete="username"' in page
    assert 'autocomplete="current-password"' in page
    password_input = next(tag for tag in page.split("<input") if 'name="password"' in tag)
    assert 'type="password"' in password_input
    assert 'action="/accedi/link"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_staff_signs_in_and_sees_their_name(app, client, auth, make_user):
    user_id = make_user(STAFF_EMAIL)
    with app.app_context():
        db.session.get(User, user_id).full_name = "Maria Rossi"
        db.session.commit()

    response = auth.login(STAFF_EMAIL, STAFF_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/gestione"
    page = client.get("/gestione").get_data(as_text=True)
    assert "Maria Rossi" in page
    assert "Esci" in page
    assert "Accesso effettuato." in page
    with app.app_context():
        assert db.session.get(User, user_id).last_login_at is not None


def test_email_is_case_insensitive_and_trimmed(client, auth, make_user):
    make_user(STAFF_EMAIL)
    assert auth.login("  Staff@Example.ORG ", STAFF_PASSWORD).status_code == 302


def test_facilitator_signs_in_with_a_password(client, auth, make_user):
    make_user("facilitatore@example.org", role=Role.FACILITATOR)
    assert auth.login("facilitatore@example.org", STAFF_PASSWORD).status_code == 302
    assert "facilitatore@example.org" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_keeping_the_email(client, auth, make_user):
    make_user(STAFF_EMAIL)

    response = auth.login(STAFF_EMAIL, "non-e-la-password")

    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert WRONG in page
    assert f'value="{STAFF_EMAIL}"' in page
    assert "non-e-la-password" not in page
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert "Esci" not in client.get("/").get_data(as_text=True)


def test_unknown_email_gets_the_same_message(client, auth, make_user):
    make_user(STAFF_EMAIL)
    response = auth.login("nessuno@example.org", STAFF_PASSWORD)
    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)


def test_entity_users_cannot_use_the_password_form(client, auth, make_entity_user):
    make_entity_user("ente@example.org")
    response = auth.login("ente@example.org", "")
    assert response.status_code == 400
    response = auth.login("ente@example.org", STAFF_PASSWORD)
    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)


def test_inactive_user_is_refused(app, client, auth, make_user):
    user_id = make_user(STAFF_EMAIL)
    set_active(app, user_id, False)

    response = auth.login(STAFF_EMAIL, STAFF_PASSWORD)

    assert response.status_code == 403
    assert "disattivato" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_deactivating_a_user_ends_their_session(app, client, auth, make_user):
    user_id = make_user(STAFF_EMAIL)
    auth.login(STAFF_EMAIL, STAFF_PASSWORD)
    set_active(app, user_id, False)
    assert "Esci" not in client.get("/").get_data(as_text=True)


def test_empty_fields_get_messages_next_to_them(client):
    token = csrf_from(client.get("/accedi").get_data(as_text=True))
    response = client.post("/accedi", data={"email": "", "password": "", "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="email-error"' in page
    assert "Scrivi il tuo indirizzo e-mail." in page
    assert "Scrivi la password." in page


def test_huge_values_are_a_form_error_not_a_crash(client, auth, make_user):
    make_user(STAFF_EMAIL)
    token = csrf_from(client.get("/accedi").get_data(as_text=True))
    response = client.post(
        "/accedi", data={"email": "a" * 100_000, "password": "b" * 1_000_000, "csrf_token": token}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "L'indirizzo e-mail è troppo lungo." in page
    assert "La password è troppo lunga." in page


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/calendario?area=A", "/calendario?area=A"),
        # an unsafe next is ignored: staff land on their dashboard
        ("https://evil.example/", "/gestione"),
        ("//evil.example/", "/gestione"),
        ("/\\evil.example/", "/gestione"),
        ("javascript:alert(1)", "/gestione"),
    ],
)
def test_next_is_followed_only_when_local(client, make_user, next_value, expected):
    make_user(STAFF_EMAIL)
    page = client.get("/accedi", query_string={"next": next_value}).get_data(as_text=True)
    response = client.post(
        "/accedi",
        data={
            "email": STAFF_EMAIL,
            "password": STAFF_PASSWORD,
            "next": next_value,
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_next_from_the_query_string_is_carried_by_the_forms(client):
    page = client.get("/accedi?next=/calendario").get_data(as_text=True)
    assert page.count('value="/calendario"') == 2
    page = client.get("/accedi?next=https://evil.example/").get_data(as_text=True)
    assert page.count('name="next" type="hidden" value=""') == 2


def test_post_without_csrf_token_is_refused(client, make_user):
    make_user(STAFF_EMAIL)
    client.get("/accedi")
    response = client.post("/accedi", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_eleventh_attempt_in_a_minute_is_rate_limited(client, make_user):
    make_user(STAFF_EMAIL)
    token = csrf_from(client.get("/accedi").get_data(as_text=True))
    data = {"email": STAFF_EMAIL, "password": "tentativo-sbagliato", "csrf_token": token}
    statuses = [client.post("/accedi", data=data).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    assert "Troppi tentativi" in client.post("/accedi", data=data).get_data(as_text=True)
    # Reading the page is not limited.
    assert client.get("/accedi").status_code == 200


def test_sign_in_starts_a_new_session(client, auth, make_user):
    make_user(STAFF_EMAIL)
    client.get("/accedi")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
        session["lang"] = "en"
    cookie_before = client.get_cookie("session").value

    auth.login(STAFF_EMAIL, STAFF_PASSWORD)

    assert client.get_cookie("session").value != cookie_before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["_user_id"].endswith(":1")


def test_logout_clears_the_session(client, auth, make_user):
    make_user(STAFF_EMAIL)
    auth.login(STAFF_EMAIL, STAFF_PASSWORD)

    response = auth.logout()

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Sei uscito." in page
    assert "Esci" not in page
    assert 'href="/accedi"' in page
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_logout_needs_a_csrf_token(client, auth, make_user):
    make_user(STAFF_EMAIL)
    auth.login(STAFF_EMAIL, STAFF_PASSWORD)
    assert client.post("/esci").status_code == 400
    assert "Esci" in client.get("/").get_data(as_text=True)


def test_logout_everywhere_ends_other_sessions(app, auth, client, make_user):
    from scheduler.auth.services import logout_everywhere

    user_id = make_user(STAFF_EMAIL)
    auth.login(STAFF_EMAIL, STAFF_PASSWORD)
    with app.app_context():
        logout_everywhere(db.session.get(User, user_id))
        db.session.commit()
    assert "Esci" not in client.get("/").get_data(as_text=True)


def test_signed_in_user_sees_a_note_on_the_login_page(auth, client, make_user):
    make_user(STAFF_EMAIL)
    auth.login(STAFF_EMAIL, STAFF_PASSWORD)
    assert "Hai già effettuato l'accesso" in client.get("/accedi").get_data(as_text=True)
