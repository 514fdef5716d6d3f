"""The sign-in rules called directly, as other features and the CLI call them."""

from __future__ import annotations

import pytest

from scheduler.auth import services
from scheduler.auth.models import Role

pytestmark = pytest.mark.usefixtures("ambito")  # staff accounts belong to an Ambito


def test_create_staff_generates_a_strong_password(ctx):
    user, password = services.create_staff(" Mario.Rossi@Comune.Crema.CR.it ", full_name=" Mario Rossi ")
    assert user.email == "mario.rossi@comune.crema.cr.it"
    assert user.role is Role.STAFF
    assert user.full_name == "Mario Rossi"
    assert password is not None and len(password) >= 20
    assert password not in (user.password_hash or "")
    assert services.authenticate("mario.rossi@comune.crema.cr.it", password) is user


def test_create_staff_with_a_given_password_returns_none(ctx):
    user, password = services.create_staff("f@example.org", Role.FACILITATOR, "dodici-caratteri")
    assert password is None
    assert services.authenticate("f@example.org", "dodici-caratteri") is user


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"email": "non-valido"}, services.InvalidEmail),
        ({"email": "a@b"}, services.InvalidEmail),
        ({"email": "x@example.org", "password": "undici-car"}, services.PasswordTooShort),
        ({"email": "x@example.org", "password": "p" * 201}, services.PasswordTooLong),
        ({"email": "x@example.org", "role": Role.ENTITY}, services.InvalidRole),
    ],
)
def test_create_staff_refuses_bad_input(ctx, kwargs, error):
    with pytest.raises(error) as info:
        services.create_staff(**kwargs)
    assert str(info.value)  # an Italian sentence the CLI can print


def test_create_staff_refuses_a_duplicate(ctx):
    services.create_staff("dup@example.org")
    with pytest.raises(services.UserExists, match="Esiste già"):
        services.create_staff("DUP@example.org")


def test_unknown_address_still_checks_a_hash(ctx, monkeypatch):
    """Same work whether or not the address exists, so timing does not reveal who has an account."""
    checked: list[str] = []
    real = services.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", spy)
    with pytest.raises(services.InvalidCredentials):
        services.authenticate("nessuno@example.org", "qualcosa-di-lungo")
    assert len(checked) == 1


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/incontri/3?x=1", "/incontri/3?x=1"),
        (None, None),
        ("", None),
        ("incontri", None),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("/a\r\nSet-Cookie: x", None),
        ("/" + "a" * 400, None),
    ],
)
def test_safe_next_path(target, expected):
    assert services.safe_next_path(target) == expected
