"""Sessions: a new one at every sign-in (no fixation), none after sign-out, private pages never cached."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.factories import csrf_from, sign_in_with_link
from tests.security.conftest import PASSWORD, ROLES, STAFF_EMAIL, sign_in_as
from tests.security.route_matrix import LOGIN, MATRIX
from tests.security.test_route_matrix import routes, url_of

STAFF_PAGE = "/gestione/candidature"
ENTITY_PAGE = "/area-riservata"


def _goes_to_sign_in(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/accedi"


def _with_cookie(app, value: str):
    """A new browser that only has this session cookie (e.g. stolen, or planted before the victim signed in)."""
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def test_password_sign_in_replaces_a_planted_session(app, client, world):
    client.get("/accedi")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    planted = client.get_cookie("session").value

    sign_in_as(client, app, world, "staff")

    assert client.get_cookie("session").value != planted
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get(STAFF_PAGE).status_code == 200
    # whoever kept the cookie from before the sign-in is not signed in
    assert _goes_to_sign_in(_with_cookie(app, planted).get(STAFF_PAGE))


def test_link_sign_in_replaces_a_planted_session(app, client, world):
    client.get("/accedi")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    planted = client.get_cookie("session").value

    assert sign_in_with_link(client, app, world.users["entity"]).status_code == 302

    assert client.get_cookie("session").value != planted
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get(ENTITY_PAGE).status_code == 200
    assert _goes_to_sign_in(_with_cookie(app, planted).get(ENTITY_PAGE))


def test_the_session_cookie_is_http_only_and_same_site(app, client, world):
    client.get("/accedi")
    response = client.post("/accedi", data={"email": STAFF_EMAIL, "password": PASSWORD,
                                            "csrf_token": csrf_from(client, "/accedi")})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(("role", "page"), [("staff", STAFF_PAGE), ("facilitator", "/presenze"),
                                            ("entity", ENTITY_PAGE)])
def test_after_sign_out_private_pages_send_to_sign_in(app, client, world, role, page):
    sign_in_as(client, app, world, role)
    assert client.get(page).status_code == 200

    response = client.post("/esci", data={"csrf_token": csrf_from(client, "/")})

    assert response.status_code == 302
    response = client.get(page)
    assert _goes_to_sign_in(response)
    assert "next=" in response.headers["Location"]
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_a_copy_of_the_cookie_stops_working_at_sign_out(app, client, world):
    sign_in_as(client, app, world, "staff")
    copied = client.get_cookie("session").value
    assert client.post("/esci", data={"csrf_token": csrf_from(client, "/")}).status_code == 302

    assert _goes_to_sign_in(_with_cookie(app, copied).get(STAFF_PAGE))


def _private_pages(app, role: str) -> list[tuple[str, str]]:
    """GET routes that need signing in (anonymous visitors are sent to sign in) and that `role` may open."""
    column = ROLES.index(role)
    return [(endpoint, method) for endpoint, method in routes(app)
            if method == "GET" and (endpoint, method) in MATRIX
            and MATRIX[(endpoint, method)][0] == LOGIN and MATRIX[(endpoint, method)][column] == 200]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_private_pages_are_not_stored_by_the_browser(app, client, world, role):
    """After sign-out, the back button must not show a page from the cache: every private answer is no-store."""
    sign_in_as(client, app, world, role)
    pages = [*_private_pages(app, role), ("auth.login", "GET"), ("attendance.by_code", "GET")]
    assert len(pages) > 2
    cached = []
    for endpoint, _method in pages:
        url = url_of(app, world, endpoint)
        response = client.get(url)
        assert response.status_code == 200, url
        if "no-store" not in response.headers.get("Cache-Control", ""):
            cached.append(f"{url} ({endpoint}): Cache-Control {response.headers.get('Cache-Control')!r}")
    assert not cached, f"as {role}, private answers a browser may keep:\n" + "\n".join(cached)


def _set(app, user_id: int, **values) -> None:
    from scheduler.auth.models import User
    from scheduler.extensions import db

    with app.app_context():
        user = db.session.get(User, user_id)
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


def test_a_deactivated_account_is_signed_out_at_its_next_request(app, client, world):
    sign_in_as(client, app, world, "staff")
    _set(app, world.users["staff"], active=False)
    assert _goes_to_sign_in(client.get(STAFF_PAGE))


def test_a_password_change_ends_the_other_sessions(app, client, world):
    from scheduler.auth.models import User
    from scheduler.auth.services import set_password
    from scheduler.extensions import db

    sign_in_as(client, app, world, "staff")
    with app.app_context():
        set_password(db.session.get(User, world.users["staff"]), "una-password-nuova-2")
        db.session.commit()
    assert _goes_to_sign_in(client.get(STAFF_PAGE))
    response = client.post("/accedi", data={"email": STAFF_EMAIL, "password": PASSWORD,
                                            "csrf_token": csrf_from(client, "/accedi")})
    assert response.status_code == 401


def test_a_session_left_unused_for_its_lifetime_ends(app, client, world, monkeypatch):
    import time

    sign_in_as(client, app, world, "staff")
    lifetime = app.permanent_session_lifetime.total_seconds()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + lifetime - 600)
    assert client.get(STAFF_PAGE).status_code == 200  # each answer renews the cookie
    monkeypatch.setattr(time, "time", lambda: now + 2 * lifetime - 1200)
    assert client.get(STAFF_PAGE).status_code == 200
    monkeypatch.setattr(time, "time", lambda: now + 3 * lifetime)
    assert _goes_to_sign_in(client.get(STAFF_PAGE))
