"""`flask users create-staff`, `set-password` and `list`."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.extensions import db

pytestmark = pytest.mark.usefixtures("ambito")  # staff accounts belong to an Ambito


def password_in(output: str) -> str:
    match = re.search(r"^Password: (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def users(app) -> list[tuple[str, Role]]:
    with app.app_context():
        return [(u.email, u.role) for u in db.session.scalars(sa.select(User).order_by(User.email))]


def test_generated_password_works_for_signing_in(app, runner, auth):
    result = runner.invoke(
        args=["users", "create-staff", "Nuovo@Example.org", "--generate", "--name", "Anna Bianchi"]
    )

    assert result.exit_code == 0, result.output
    password = password_in(result.output)
    assert len(password) >= 12
    assert result.output.count(password) == 1
    assert users(app) == [("nuovo@example.org", Role.STAFF)]
    assert auth.login("nuovo@example.org", password).status_code == 302
    assert "Anna Bianchi" in auth.client.get("/").get_data(as_text=True)


def test_no_terminal_and_no_password_generates_one(app, runner):
    result = runner.invoke(args=["users", "create-staff", "a@example.org", "--role", "facilitator"])
    assert result.exit_code == 0, result.output
    password_in(result.output)
    assert users(app) == [("a@example.org", Role.FACILITATOR)]


def test_password_from_stdin(app, runner, auth):
    result = runner.invoke(
        args=["users", "create-staff", "b@example.org", "--password-stdin"], input="una-password-lunga\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output
    assert auth.login("b@example.org", "una-password-lunga").status_code == 302


def test_short_password_is_refused(app, runner):
    result = runner.invoke(
        args=["users", "create-staff", "c@example.org", "--password-stdin"], input="corta\n"
    )
    assert result.exit_code == 1
    assert "almeno 12 caratteri" in result.output
    assert "Traceback" not in result.output
    assert users(app) == []


def test_duplicate_email_is_refused(app, runner, make_user):
    make_user("staff@example.org")
    result = runner.invoke(args=["users", "create-staff", "STAFF@example.org", "--generate"])
    assert result.exit_code == 1
    assert "Esiste già un utente" in result.output
    assert "Password:" not in result.output


def test_if_missing_leaves_an_existing_user_alone(app, runner, make_user):
    make_user("staff@example.org")
    result = runner.invoke(args=["users", "create-staff", "staff@example.org", "--if-missing"])
    assert result.exit_code == 0
    assert "esiste già" in result.output
    assert "Password:" not in result.output
    assert users(app) == [("staff@example.org", Role.STAFF)]


def test_if_missing_creates_a_missing_user(app, runner):
    result = runner.invoke(args=["users", "create-staff", "d@example.org", "--if-missing"])
    assert result.exit_code == 0
    password_in(result.output)


def test_invalid_email_is_refused(app, runner):
    result = runner.invoke(args=["users", "create-staff", "non-un-indirizzo", "--generate"])
    assert result.exit_code == 1
    assert "non è valido" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert users(app) == []


def test_generate_and_stdin_together_are_refused(runner):
    result = runner.invoke(args=["users", "create-staff", "e@example.org", "--generate", "--password-stdin"])
    assert result.exit_code == 2


def test_set_password_ends_old_sessions(app, runner, auth, make_user):
    make_user("staff@example.org")
    auth.login("staff@example.org", "password-di-prova-1")

    result = runner.invoke(args=["users", "set-password", "staff@example.org", "--generate"])

    assert result.exit_code == 0, result.output
    password = password_in(result.output)
    assert "Esci" not in auth.client.get("/").get_data(as_text=True)
    assert auth.login("staff@example.org", "password-di-prova-1").status_code == 401
    assert auth.login("staff@example.org", password).status_code == 302


def test_set_password_of_unknown_user(runner):
    result = runner.invoke(args=["users", "set-password", "nessuno@example.org", "--generate"])
    assert result.exit_code == 1
    assert "Nessun utente" in result.output


def test_list_shows_email_and_role(app, runner, make_user):
    make_user("staff@example.org")
    make_user("facilitatore@example.org", role=Role.FACILITATOR)
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert re.match(r"^facilitatore@example\.org\s+facilitator$", lines[1]) or re.match(
        r"^facilitatore@example\.org\s+facilitator$", lines[0]
    )
    assert any(re.match(r"^staff@example\.org\s+staff$", line) for line in lines)


def test_list_when_empty(runner):
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert "Nessun utente." in result.output


def test_at_a_terminal_the_password_is_asked_twice(app, runner, auth, monkeypatch):
    monkeypatch.setattr("scheduler.auth.cli._stdin_is_terminal", lambda: True)
    result = runner.invoke(
        args=["users", "create-staff", "f@example.org"], input="password-digitata\npassword-digitata\n"
    )
    assert result.exit_code == 0, result.output
    assert "password-digitata" not in result.output
    assert "Password:" in result.output  # the prompt, not a generated password
    assert auth.login("f@example.org", "password-digitata").status_code == 302
