"""Fixtures shared by the whole suite.

The suite runs on SQLite (a WAL file in a temporary folder) or, with TEST_DATABASE_URL, on PostgreSQL. The
schema is built once per run by the real migrations (`flask db upgrade`), and every test starts from empty
tables.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from scheduler import create_app, normalise_database_url
from scheduler.extensions import db
from tests.imap_server import imap_mailbox, imap_server  # noqa: F401  (a real IMAP server, for calendar replies)

PROJECT_DIR = Path(__file__).resolve().parent.parent
CALL_FILE = PROJECT_DIR / "scheduler" / "calls" / "crema-2025-2027.toml"
ON_CI = os.environ.get("CI", "").lower() == "true"


def _ensure_postgres_database(url: str) -> None:
    """Create the test database when the server answers but the database is missing."""
    engine_url = sa.engine.make_url(normalise_database_url(url))
    admin = sa.create_engine(engine_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": engine_url.database})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{engine_url.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _ensure_postgres_database(url)
        return normalise_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'tavoli-test.sqlite3'}"


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Build the schema once with the real migrations, from an empty database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        with db.engine.begin() as conn:
            if is_postgres(database_url):
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
            else:
                for (name,) in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type='table'")).all():
                    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
        upgrade(directory=str(PROJECT_DIR / "migrations"))
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(sa.text(f'DELETE FROM "{name}"'))


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict:
    """Settings of the app under test; a test may change them before asking for `app`."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        "BASE_URL": "http://tavoli.test",
        "MAIL_RETRY_BASE": 1,
    }


@pytest.fixture
def app(_schema: None, app_config: dict) -> Iterator[Flask]:
    app = create_app(app_config)
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An application context for tests that read or write the database directly."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def crema(app: Flask) -> str:
    """The Crema call, loaded from its file as `flask calls load` would. Returns its slug."""
    from scheduler.calls.loader import load_call, parse_call_file

    with app.app_context():
        call, _ = load_call(parse_call_file(CALL_FILE))
        db.session.commit()
        return call.slug


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp_server() -> Iterator[SMTPSink]:
    sink = SMTPSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_app_config(app_config: dict, smtp_server: SMTPSink) -> dict:
    """App settings that deliver mail to the loopback SMTP server."""
    app_config.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_TIMEOUT": 5})
    return app_config


class AuthActions:
    """Sign in and out through the real pages, as a person would."""

    def __init__(self, client) -> None:
        self.client = client

    def csrf_token(self, path: str = "/accedi") -> str:
        import re

        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str = "staff@example.org", password: str = "password-di-prova-1"):
        return self.client.post(
            "/accedi",
            data={"email": email, "password": password, "csrf_token": self.csrf_token()},
        )

    def logout(self):
        return self.client.post("/esci", data={"csrf_token": self.csrf_token("/")})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


def _first_ambito():
    """The Ambito the Crema call file would create (a staff account needs one, also before any call is loaded)."""
    from scheduler.calls.ambiti import create_ambito

    return create_ambito("crema", name="Ambito territoriale di Crema", lead_municipality="Comune di Crema",
                         office_name="Ufficio di Piano", office_email="ufficiodipiano@example.org")


@pytest.fixture
def ambito(app: Flask) -> int:
    """The installation's first (default) Ambito, with no call loaded: its id."""
    with app.app_context():
        created = _first_ambito()
        db.session.commit()
        return created.id


@pytest.fixture
def make_user(app: Flask):
    """Create a user in one line: make_user("a@b.it", role=Role.STAFF, password="...")."""
    from werkzeug.security import generate_password_hash

    from scheduler.auth.models import Role, User
    from scheduler.calls.ambiti import default_ambito
    from scheduler.registry.models import Organization

    def _make(email: str = "staff@example.org", *, role: Role = Role.STAFF,
              password: str | None = "password-di-prova-1", organization_id: int | None = None) -> int:
        with app.app_context():
            user = User(
                email=email.lower(),
                role=role,
                password_hash=generate_password_hash(password) if password else None,
                organizations=[db.session.get(Organization, organization_id)] if organization_id else [],
                ambito=(default_ambito() or _first_ambito()) if role in (Role.STAFF, Role.FACILITATOR) else None,
            )
            db.session.add(user)
            db.session.commit()
            return user.id

    return _make


@pytest.fixture
def staff(client, auth, make_user, crema):
    """The test client signed in as the office (staff@example.org), the Crema call loaded."""
    from scheduler.auth.models import Role

    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", "password-di-prova-1")
    return client


class LiveServer:
    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    app.config["BASE_URL"] = "http://127.0.0.1"
    server = LiveServer(app)
    app.config["BASE_URL"] = server.url
    server.start()
    yield server
    server.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; required on CI, skipped elsewhere when missing."""
    if not Path(CHROMIUM).exists():
        if ON_CI:
            pytest.fail("Chromium is required on CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="it-IT", timezone_id="Europe/Rome")
    page = context.new_page()
    yield page
    context.close()
