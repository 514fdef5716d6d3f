"""Sign-in by password and requests for a sign-in link are rate limited (LOGIN_RATE_LIMIT, per client IP);
links are also capped per mailbox, whatever the IP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role
from scheduler.auth.services import LOGIN_LINK_TOPIC, MAX_LINK_REQUESTS_PER_HOUR
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from tests.factories import csrf_from, make_entity
from tests.security.conftest import PASSWORD, PROJECT_DIR, STAFF_EMAIL

LIMIT = 3
TOO_MANY = "Troppi tentativi in poco tempo. Attendi qualche minuto e riprova."
ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
SOMEONE_ELSE = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture
def app_config(app_config):
    app_config["LOGIN_RATE_LIMIT"] = f"{LIMIT} per minute"
    return app_config


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _password(client, email: str, password: str, environ: dict):
    token = csrf_from(client, "/accedi")
    return client.post("/accedi", data={"email": email, "password": password, "csrf_token": token},
                       environ_overrides=environ)


def _link(client, email: str, environ: dict):
    token = csrf_from(client, "/accedi")
    return client.post("/accedi/link", data={"email": email, "csrf_token": token}, environ_overrides=environ)


def _link_mails(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.to_address == email, OutboxMessage.topic == LOGIN_LINK_TOPIC))


def test_password_sign_in_is_refused_after_the_limit_even_with_the_right_password(app, client, make_user):
    make_user(STAFF_EMAIL, role=Role.STAFF)
    statuses = [_password(client, STAFF_EMAIL, "tentativo-sbagliato", ATTACKER).status_code for _ in range(LIMIT)]
    assert statuses == [401] * LIMIT

    response = _password(client, STAFF_EMAIL, PASSWORD, ATTACKER)

    assert response.status_code == 429
    assert TOO_MANY in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert not _signed_in(client)
    # the page itself is still shown
    assert client.get("/accedi", environ_overrides=ATTACKER).status_code == 200


def test_password_limit_counts_per_ip_not_per_address(app, client, make_user):
    make_user(STAFF_EMAIL, role=Role.STAFF)
    for n in range(LIMIT):
        assert _password(client, f"tentativo{n}@example.org", "x" * 12, ATTACKER).status_code == 401
    # another address from the same IP is limited too
    assert _password(client, STAFF_EMAIL, PASSWORD, ATTACKER).status_code == 429
    # the same address from another IP is not
    other = app.test_client()
    assert _password(other, STAFF_EMAIL, PASSWORD, SOMEONE_ELSE).status_code == 302
    assert _signed_in(other)


def test_link_requests_are_refused_after_the_limit(app, client, crema):
    entity = make_entity(app)
    statuses = [_link(client, entity["email"], ATTACKER).status_code for _ in range(LIMIT)]
    assert statuses == [200] * LIMIT
    assert _link_mails(app, entity["email"]) == LIMIT

    response = _link(client, entity["email"], ATTACKER)

    assert response.status_code == 429
    assert TOO_MANY in response.get_data(as_text=True)
    assert _link_mails(app, entity["email"]) == LIMIT
    # another visitor asks for a link as usual
    assert _link(app.test_client(), entity["email"], SOMEONE_ELSE).status_code == 200


def test_one_mailbox_gets_a_capped_number_of_links_from_any_number_of_ips(app, crema):
    """Changing IP does not flood an inbox: beyond the hourly cap the answer is the same, and no mail is written."""
    entity = make_entity(app)
    for n in range(MAX_LINK_REQUESTS_PER_HOUR + 3):
        response = _link(app.test_client(), entity["email"], {"REMOTE_ADDR": f"192.0.2.{n + 1}"})
        assert response.status_code == 200
    assert _link_mails(app, entity["email"]) == MAX_LINK_REQUESTS_PER_HOUR


def test_the_limits_of_the_two_forms_are_counted_apart(app, client, make_user, crema):
    make_user(STAFF_EMAIL, role=Role.STAFF)
    for _ in range(LIMIT):
        _password(client, STAFF_EMAIL, "tentativo-sbagliato", ATTACKER)
    assert _password(client, STAFF_EMAIL, "tentativo-sbagliato", ATTACKER).status_code == 429
    assert _link(client, "nessuno@example.org", ATTACKER).status_code == 200


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1).ping())
    except Exception:
        return False


CHILD = """
import json, sys
from scheduler import create_app
config = json.loads(sys.argv[1])
app = create_app(config)
client = app.test_client()
page = client.get("/accedi").get_data(as_text=True)
import re
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
data = {"email": "nessuno@example.org", "password": "tentativo-sbagliato", "csrf_token": token}
print(json.dumps([client.post("/accedi", data=data).status_code for _ in range(2)]))
"""


@pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_with_redis_the_count_is_shared_by_every_web_process(app_config, database_url, _schema):
    """Two processes of one installation share the limit through RATELIMIT_STORAGE_URI."""
    from scheduler import create_app

    config = {**app_config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
              "RATELIMIT_KEY_PREFIX": f"tavoli-test-{uuid.uuid4().hex}"}
    here = create_app(config)
    client = here.test_client()
    token = csrf_from(client, "/accedi")
    data = {"email": "nessuno@example.org", "password": "tentativo-sbagliato", "csrf_token": token}
    assert [client.post("/accedi", data=data).status_code for _ in range(LIMIT - 1)] == [401] * (LIMIT - 1)

    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(config)], capture_output=True, text=True, cwd=PROJECT_DIR,
        env={**os.environ, "LOG_LEVEL": "WARNING"}, timeout=60, check=True,
    )

    assert json.loads(child.stdout.strip().splitlines()[-1]) == [401, 429]


def test_behind_the_reverse_proxy_each_visitor_has_its_own_limit(app_config, _schema):
    """Production runs gunicorn on 127.0.0.1 behind a TLS proxy (README): the client's IP is X-Forwarded-For."""
    from scheduler import create_app

    app = create_app({**app_config, "CONFIG_NAME": "production", "SECRET_KEY": "s3cret-" * 6,
                      "LOGIN_RATE_LIMIT": f"{LIMIT} per minute"})
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}

    def attempt(client, visitor: str):
        page = client.get("/accedi", base_url="https://tavoli.test", environ_overrides=via_proxy,
                          headers={"X-Forwarded-For": visitor, "X-Forwarded-Proto": "https"})
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
        return client.post(
            "/accedi", base_url="https://tavoli.test", environ_overrides=via_proxy,
            data={"email": "nessuno@example.org", "password": "tentativo-sbagliato", "csrf_token": token},
            headers={"X-Forwarded-For": visitor, "X-Forwarded-Proto": "https",
                     "Referer": "https://tavoli.test/accedi"},
        ).status_code

    attacker = app.test_client()
    assert [attempt(attacker, "203.0.113.7") for _ in range(LIMIT + 1)] == [401] * LIMIT + [429]
    assert attempt(app.test_client(), "198.51.100.20") == 401
