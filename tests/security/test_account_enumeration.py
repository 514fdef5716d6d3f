"""The sign-in forms answer the same whether or not an address has an account, so they cannot be used to find
out who works at the office or which entities applied."""

from __future__ import annotations

import re

import pytest

from scheduler.auth.models import Role
from tests.factories import csrf_from, make_entity
from tests.security.conftest import STAFF_EMAIL

TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def _page(response) -> tuple[int, str]:
    """Status and page, without the parts that differ on every answer (the CSRF token)."""
    return response.status_code, TOKEN.sub(r"\1\2", response.get_data(as_text=True))


def _password(client, email: str, password: str):
    return client.post("/accedi", data={"email": email, "password": password,
                                        "csrf_token": csrf_from(client, "/accedi")})


def _link(client, email: str):
    return client.post("/accedi/link", data={"email": email, "csrf_token": csrf_from(client, "/accedi")})


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(app, make_user, crema):
    make_user(STAFF_EMAIL, role=Role.STAFF)
    entity = make_entity(app)
    answers = {
        "wrong password": _page(_password(app.test_client(), STAFF_EMAIL, "password-sbagliata")),
        "unknown address": _page(_password(app.test_client(), "nessuno@example.org", "password-sbagliata")),
        # an entity has no password: the form does not say so
        "entity address": _page(_password(app.test_client(), entity["email"], "password-sbagliata")),
    }
    addresses = [STAFF_EMAIL, "nessuno@example.org", entity["email"]]
    pages = {name: (status, page.replace(address, "ADDRESS"))
             for (name, (status, page)), address in zip(answers.items(), addresses, strict=True)}
    assert set(pages.values()) == {pages["wrong password"]}
    assert pages["wrong password"][0] == 401


@pytest.mark.parametrize("who", ["staff", "unknown", "inactive entity"])
def test_a_link_request_gets_the_same_answer_as_for_an_entity(app, make_user, crema, who):
    from scheduler.auth.models import User
    from scheduler.extensions import db

    entity = make_entity(app)
    other = make_entity(app)
    make_user(STAFF_EMAIL, role=Role.STAFF)
    with app.app_context():
        db.session.get(User, other["user"]).active = False
        db.session.commit()
    address = {"staff": STAFF_EMAIL, "unknown": "nessuno@example.org", "inactive entity": other["email"]}[who]

    expected = _page(_link(app.test_client(), entity["email"]))
    got = _page(_link(app.test_client(), address))

    assert got[0] == expected[0] == 200
    assert got[1].replace(address, "ADDRESS") == expected[1].replace(entity["email"], "ADDRESS")

