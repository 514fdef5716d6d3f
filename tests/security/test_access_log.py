"""Request logs without the secrets of URLs.

gunicorn is started for real with deploy/gunicorn.conf.py (as `make serve` and the systemd unit run it), sent a
private feed, a sign-in link, an unsubscribe link, a check-in code and a referer carrying a sign-in link, and
its log files are read. The werkzeug dev server (`make run`) is checked through its log records, and every route
of the app with a text argument is either redacted by scheduler/logredact.py or known to be public.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import pytest
from flask import Flask
from werkzeug.routing.converters import NumberConverter

from scheduler.logredact import PLACEHOLDER, redact, redact_atoms
from tests.conftest import free_port
from tests.security.conftest import PROJECT_DIR, World

GUNICORN = Path(sys.executable).parent / "gunicorn"
CONFIG_FILE = PROJECT_DIR / "deploy" / "gunicorn.conf.py"
#: Routes with a text argument whose value is public (an area's code, a report's name, an asset's file).
PUBLIC_ARGUMENTS = {("calendar.feed_area", "code"), ("reports.export_csv", "section"),
                    ("reports.export_xlsx", "section"), ("site.assets", "filename"), ("site.vendor", "name"),
                    ("static", "filename"),
                    ("registry.confirm_participation", "slug")}
#: Arguments public wherever they appear: a call's slug names its public pages (/avvisi/<slug>/...).
PUBLIC_NAMES = {"call_slug"}
SAMPLE_SECRET = "S3cr3t_Value-x.y~z"


def _get(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> int:
    assert url.startswith("http://127.0.0.1:")
    request = Request(url, headers=headers or {}, data=data)  # noqa: S310 (loopback)
    try:
        with urlopen(request, timeout=20) as response:  # noqa: S310 (loopback)
            return response.status
    except HTTPError as error:
        return error.code


@contextmanager
def gunicorn(app: Flask, database_url: str, logs: Path) -> Iterator[str]:
    """gunicorn with the project's config on a free port and the test database; stopped by its own pid."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TAVOLI_CONFIG", "SECRET_KEY", "DATABASE_URL", "BASE_URL")}
    environment.update({
        "TAVOLI_CONFIG": "production", "SECRET_KEY": app.config["SECRET_KEY"], "DATABASE_URL": database_url,
        "BASE_URL": f"http://127.0.0.1:{port}", "SESSION_COOKIE_SECURE": "false", "PROXY_FIX_X_FOR": "0",
        "RATELIMIT_STORAGE_URI": "memory://", "TAVOLI_INSTANCE_PATH": str(logs / "instance"), "LOG_LEVEL": "DEBUG",
    })
    command = [str(GUNICORN), "--config", str(CONFIG_FILE), "--bind", f"127.0.0.1:{port}", "--workers", "1",
               "--access-logfile", str(logs / "access.log"), "--error-logfile", str(logs / "error.log"),
               "--log-level", "debug", "scheduler:create_app()"]
    with (logs / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=environment,
                                   stdout=stderr, stderr=stderr)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, (logs / "stderr.log").read_text() + (logs / "error.log").read_text()
                try:
                    if _get(base + "/health") == 200:
                        break
                except (URLError, ConnectionError):
                    pass
                assert time.monotonic() < deadline, "gunicorn did not answer /health within 60 s"
                time.sleep(0.2)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_gunicorn_writes_no_secret_of_a_url_in_its_logs(app, world: World, database_url, tmp_path):
    secrets = {
        "feed": world.feed_token, "sign-in": world.login_token, "unsubscribe": world.unsubscribe_token,
        "check-in": world.checkin_code,
    }
    with gunicorn(app, database_url, tmp_path) as base:
        statuses = {
            "feed": _get(f"{base}/feed/{world.feed_token}.ics"),
            "sign-in": _get(f"{base}/accedi/link/{world.login_token}"),
            "unsubscribe": _get(f"{base}/email/disiscrizione/{world.unsubscribe_token}"),
            "check-in": _get(f"{base}/presenze/{world.meeting}/codice/{world.checkin_code}"),
            # a page opened from the sign-in page sends it as Referer; a login redirect carries it in `next`
            "referer": _get(f"{base}/privacy", {"Referer": f"{base}/accedi/link/{world.login_token}"}),
            "next": _get(f"{base}/accedi?next=%2Ffeed%2F{world.feed_token}.ics"),
            # RFC 8058 one-click unsubscribe: a POST to the same link
            "one-click": _get(f"{base}/email/disiscrizione/{world.unsubscribe_token}",
                              data=b"List-Unsubscribe=One-Click"),
        }
        access = tmp_path / "access.log"
        deadline = time.monotonic() + 10  # each line is written once its answer has been sent
        while len(access.read_text().splitlines()) < len(statuses) + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert set(statuses.values()) == {200}, statuses

    logged = access.read_text()
    every_log = logged + (tmp_path / "error.log").read_text() + (tmp_path / "stderr.log").read_text()
    for what, secret in secrets.items():
        assert secret not in every_log, f"the {what} token is in the logs"
    # the requests are still logged, with the placeholder where the secret was
    assert f'"GET /feed/{PLACEHOLDER}.ics HTTP/1.1" 200' in logged
    assert f'"GET /accedi/link/{PLACEHOLDER} HTTP/1.1" 200' in logged
    assert f'"GET /email/disiscrizione/{PLACEHOLDER} HTTP/1.1" 200' in logged
    assert f'"POST /email/disiscrizione/{PLACEHOLDER} HTTP/1.1" 200' in logged
    assert f'"GET /presenze/{world.meeting}/codice/{PLACEHOLDER} HTTP/1.1" 200' in logged
    assert '"GET /privacy HTTP/1.1" 200' in logged and f'/accedi/link/{PLACEHOLDER}"' in logged
    assert f'"GET /accedi?next=/feed/{PLACEHOLDER}.ics HTTP/1.1" 200' in logged
    assert '"GET /health HTTP/1.1" 200' in logged
    # at debug level gunicorn's error log quotes every path too
    assert f"GET /feed/{PLACEHOLDER}.ics" in (tmp_path / "error.log").read_text()


def test_the_dev_server_logs_request_lines_without_their_secrets(app, world: World, live_server, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    assert _get(f"{live_server.url}/feed/{world.feed_token}.ics") == 200
    assert _get(f"{live_server.url}/accedi/link/{world.login_token}") == 200

    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any(f"GET /feed/{PLACEHOLDER}.ics HTTP/1.1" in line for line in lines), lines
    assert any(f"GET /accedi/link/{PLACEHOLDER} HTTP/1.1" in line for line in lines), lines
    assert not [line for line in lines if world.feed_token in line or world.login_token in line]


def test_every_route_with_a_text_argument_is_redacted_or_public(app):
    """A new route that takes a token in its path fails here until logredact.SECRET_ROUTES has its shape."""
    adapter = app.url_map.bind("tavoli.test")
    checked = []
    for rule in app.url_map.iter_rules():
        texts = [name for name, converter in rule._converters.items() if not isinstance(converter, NumberConverter)]
        for name in texts:
            if (rule.endpoint, name) in PUBLIC_ARGUMENTS or name in PUBLIC_NAMES:
                continue
            values = {arg: 7 if arg not in texts else (SAMPLE_SECRET if arg == name else "a") for arg in rule.arguments}
            path = adapter.build(rule.endpoint, values, method=next(iter(rule.methods - {"HEAD", "OPTIONS"})))
            line = redact(f"GET {path} HTTP/1.1")
            assert SAMPLE_SECRET not in line, f"{rule.rule}: <{name}> is not redacted in the logs"
            checked.append(rule.rule)
    assert {"/accedi/link/<token>", "/feed/<token>.ics", "/email/disiscrizione/<token>"} <= set(checked)


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /accedi%2Flink%2FSECRET HTTP/1.1", f"GET /accedi/link/{PLACEHOLDER} HTTP/1.1"),
    ("GET /%61ccedi/link/SECRET HTTP/1.1", f"GET /accedi/link/{PLACEHOLDER} HTTP/1.1"),
    ("GET /ACCEDI/LINK/SECRET HTTP/1.1", f"GET /ACCEDI/LINK/{PLACEHOLDER} HTTP/1.1"),
    ("GET /feed/SECRET HTTP/1.1", f"GET /feed/{PLACEHOLDER} HTTP/1.1"),
    ("GET /incontri/3/risposta/SECRET.sig?x=1 HTTP/1.1", f"GET /incontri/3/risposta/{PLACEHOLDER}?x=1 HTTP/1.1"),
    ("GET /contatti/conferma/SECRET HTTP/1.1", f"GET /contatti/conferma/{PLACEHOLDER} HTTP/1.1"),
    ("GET /x?token=SECRET&area=A&feed_token=SECRET HTTP/1.1",
     f"GET /x?token={PLACEHOLDER}&area=A&feed_token={PLACEHOLDER} HTTP/1.1"),
    ("GET /calendario/A.ics?area=B HTTP/1.1", "GET /calendario/A.ics?area=B HTTP/1.1"),
    ("unhandled error on GET /accedi/link/SECRET", f"unhandled error on GET /accedi/link/{PLACEHOLDER}"),
])
def test_redact(text, expected):
    assert redact(text) == expected


def test_credentials_in_headers_are_never_logged():
    atoms = redact_atoms({"{cookie}i": "session=SECRET", "{Authorization}i": "Basic SECRET", "s": 200,
                          "f": "https://tavoli.test/feed/SECRET.ics", "{user-agent}i": "curl/8"})
    assert atoms == {"{cookie}i": PLACEHOLDER, "{Authorization}i": PLACEHOLDER, "s": 200,
                     "f": f"https://tavoli.test/feed/{PLACEHOLDER}.ics", "{user-agent}i": "curl/8"}
