"""`flask demo` also makes a sample facilitator, following one sample table, and prints how to sign in as the
staff account is printed; run again, it shows the same password and changes nothing."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calls.models import Phase, Track
from scheduler.demo import FACILITATOR_KEY_FILE, SAMPLE_FACILITATOR
from scheduler.extensions import db
from tests.factories import csrf_from

EMAIL = SAMPLE_FACILITATOR[0]
LINE = re.compile(r"Accesso del facilitatore di esempio: (\S+) / (\S+)  \((\S+)\), tavolo «([^»]+)»")


@pytest.fixture
def instance(app, tmp_path, monkeypatch) -> Path:
    """The instance folder of the run, a temporary one (the password is kept there)."""
    app.instance_path = str(tmp_path)
    for name in ("HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def demo(runner) -> re.Match:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    line = LINE.search(result.output)
    assert line, result.output
    return line


def signs_in(app, password: str) -> bool:
    client = app.test_client()
    response = client.post("/accedi", data={"email": EMAIL, "password": password,
                                            "csrf_token": csrf_from(client, "/accedi")})
    return response.status_code == 302 and response.headers["Location"] == "/presenze"


def test_demo_makes_a_facilitator_of_a_sample_table_and_prints_the_sign_in(runner, app, crema, instance):
    first = demo(runner)
    email, password, address, table = first.groups()
    assert email == EMAIL
    assert address == "http://127.0.0.1:5000/accedi"
    kept = instance / FACILITATOR_KEY_FILE
    assert kept.read_text().strip() == password
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
        assert user.role is Role.FACILITATOR and user.active and "(esempio)" in user.full_name
        assert [t.name for t in user.tracks] == [table]
        track = user.tracks[0]
        assert track.phase is Phase.IMPLEMENTATION
        first_implementation = db.session.scalar(
            sa.select(Track).where(Track.phase == Phase.IMPLEMENTATION).order_by(Track.position, Track.id))
        assert track.id == first_implementation.id

    # the printed credentials open the facilitator's registers, with the sample table's coming meetings
    assert signs_in(app, password)
    client = app.test_client()
    client.post("/accedi", data={"email": EMAIL, "password": password, "csrf_token": csrf_from(client, "/accedi")})
    assert table in client.get("/presenze").get_data(as_text=True)

    # again: the same account, password and table, nothing added
    second = demo(runner)
    assert second.groups() == first.groups()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == Role.FACILITATOR)) == 1
        assert len(db.session.scalar(sa.select(User).where(User.email == EMAIL)).tracks) == 1
    assert signs_in(app, password)


def test_a_lost_password_file_gives_a_new_password_that_works(runner, app, crema, instance):
    old = demo(runner).group(2)
    (instance / FACILITATOR_KEY_FILE).unlink()
    new = demo(runner).group(2)
    assert new != old
    assert (instance / FACILITATOR_KEY_FILE).read_text().strip() == new
    assert signs_in(app, new) and not signs_in(app, old)


def test_the_address_of_another_account_is_left_alone(runner, app, crema, instance, make_user):
    make_user(EMAIL, role=Role.STAFF)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0
    assert "Facilitatore di esempio non creato" in result.output and not LINE.search(result.output)
    with app.app_context():
        assert db.session.scalar(sa.select(User.role).where(User.email == EMAIL)) is Role.STAFF
    assert not (instance / FACILITATOR_KEY_FILE).exists()


def test_the_demo_says_where_the_sample_entities_sign_in_link_is(runner, app, crema, instance):
    output = runner.invoke(args=["demo"]).output
    assert "ilponte@example.org" in output
    assert app.config["MAIL_FILE_DIR"] in output
