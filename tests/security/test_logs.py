"""No personal data in the logs: a whole season of one entity, through a real HTTP server and a real SMTP server,
logged at DEBUG, leaves no e-mail address, codice fiscale or person's name in any log record."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest
import sqlalchemy as sa

from config import ProductionConfig
from scheduler.attendance.models import Attendance
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.registry.models import Application, ApplicationStatus, Contact
from tests.factories import make_entity, make_meeting
from tests.security.conftest import (
    CONTACT_EMAIL,
    CONTACT_NAME,
    ENTITY_CF,
    FACILITATOR_EMAIL,
    LEGAL_EMAIL,
    LEGAL_NAME,
    PASSWORD,
    PERSONAL_CF,
    PROJECT_DIR,
    STAFF_EMAIL,
    application_form,
)

COMING = "Serena Castelli"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PERSON_CF = re.compile(r"\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b", re.I)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
#: The SMTP server of the test, not the app: it logs the envelopes it receives.
NOT_THE_APP = ("mail.log", "aiosmtpd")


@pytest.fixture
def app_config(app_config, smtp_app_config):
    # the engine options of production: an operator who turns SQL logging on must not get values either
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(ProductionConfig.SQLALCHEMY_ENGINE_OPTIONS)
    return app_config


class Browser:
    """A visitor with its own cookies, talking HTTP to the live server (so werkzeug logs every request)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def open(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        url = path if path.startswith("http") else self.base_url + path
        assert url.startswith("http://127.0.0.1:")
        body = urlencode(data, doseq=True).encode() if data is not None else None
        request = Request(url, data=body, method="POST" if data is not None else "GET")  # noqa: S310 (loopback)
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.geturl(), response.read().decode()
        except HTTPError as error:
            return error.code, error.geturl(), error.read().decode()

    def token(self, path: str) -> str:
        return CSRF.search(self.open(path)[2]).group(1)

    def post(self, path: str, data: dict, token_from: str = "/") -> tuple[int, str, str]:
        return self.open(path, {**data, "csrf_token": self.token(token_from)})


def _link_in_mail(app, to: str) -> str:
    with app.app_context():
        body = db.session.scalar(sa.select(OutboxMessage.body_text).where(OutboxMessage.to_address == to)
                                 .order_by(OutboxMessage.id.desc()))
    return re.search(r"(http://\S+/accedi/link/\S+)", body).group(1)


def _deliver(runner) -> None:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def test_a_full_season_leaves_no_personal_data_in_the_logs(app, live_server, runner, smtp_server, make_user,
                                                           crema, caplog):
    # SQL at INFO (statements and their parameters, as `echo=True` gives); at DEBUG SQLAlchemy also logs every
    # row it reads, whatever the options: an operator never gets that from LOG_LEVEL (see the next test)
    for name in ("", "werkzeug", "scheduler", "flask_limiter", "sqlalchemy.engine", "sqlalchemy.pool"):
        caplog.set_level(logging.DEBUG if not name.startswith("sqlalchemy") else logging.INFO, logger=name or None)
    meeting_id = make_meeting(app, area="A", venue=True)
    make_user(STAFF_EMAIL)
    facilitator_id = make_user(FACILITATOR_EMAIL, role=Role.FACILITATOR)
    with app.app_context():
        track = db.session.get(Meeting, meeting_id).track
        track.facilitators.append(db.session.get(User, facilitator_id))
        db.session.commit()
    server = live_server.url

    # the entity applies through the form and confirms its address from the e-mail
    entity = Browser(server)
    status, url, _page = entity.post("/candidatura", application_form(app), token_from="/candidatura")
    assert (status, url) == (200, f"{server}/candidatura/inviata")
    _deliver(runner)
    link = _link_in_mail(app, CONTACT_EMAIL)
    status, url, page = entity.post(link, {}, token_from=link)
    assert status == 200 and url == f"{server}/area-riservata", page
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        assert application.status is ApplicationStatus.SUBMITTED

    # the staff admit it
    staff = Browser(server)
    assert staff.post("/accedi", {"email": STAFF_EMAIL, "password": PASSWORD}, token_from="/accedi")[0] == 200
    assert staff.open(f"/gestione/candidature/{application.id}")[0] == 200
    assert staff.post(f"/gestione/candidature/{application.id}/ammetti", {})[0] == 200

    # the entity says who is coming to the meeting
    status, _url, page = entity.post(f"/incontri/{meeting_id}/adesione", {
        "attending": "yes", "person_name": [CONTACT_NAME, COMING], "person_role": ["Coordinatore", ""]})
    assert status == 200, page
    with app.app_context():
        rsvp = db.session.scalar(sa.select(Rsvp))
        assert rsvp.status is RsvpStatus.YES

    # the facilitator checks them in; staff look at the register, the outbox and the reports
    facilitator = Browser(server)
    assert facilitator.post("/accedi", {"email": FACILITATOR_EMAIL, "password": PASSWORD},
                            token_from="/accedi")[0] == 200
    for name in (CONTACT_NAME, COMING):
        status, _url, page = facilitator.post(f"/presenze/{meeting_id}/segna",
                                              {"kind": "rsvp", "rsvp_id": rsvp.id, "person_name": name})
        assert status == 200, page
    for path in ("/gestione/posta", "/gestione/partecipazione", f"/presenze/{meeting_id}",
                 f"/gestione/presenze/{meeting_id}", "/area-riservata/dati.json"):
        browser = entity if path.startswith("/area-riservata") else staff
        assert browser.open(path)[0] == 200, path

    # the worker delivers everything to the SMTP server
    _deliver(runner)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 2
        statuses = set(db.session.scalars(sa.select(OutboxMessage.status)))
        assert statuses == {OutboxStatus.SENT}
    recipients = {address for _sender, rcpts in smtp_server.envelopes for address in rcpts}
    assert {CONTACT_EMAIL, LEGAL_EMAIL} <= recipients

    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    lines = [formatter.format(record) for record in caplog.records if not record.name.startswith(NOT_THE_APP)]
    # the capture works: requests, SQL and the worker were all logged
    assert any(line.startswith("werkzeug ") and "POST /candidatura" in line for line in lines)
    assert any(line.startswith("sqlalchemy.engine") and "INSERT INTO organizations" in line for line in lines)
    assert any(line.startswith("scheduler.mailing.worker") and " sent " in line for line in lines)

    personal = [CONTACT_NAME, LEGAL_NAME, COMING, ENTITY_CF, PERSONAL_CF, *CONTACT_NAME.split(), *LEGAL_NAME.split(),
                *COMING.split()]
    leaks = [line for line in lines
             if EMAIL.search(line) or PERSON_CF.search(line) or any(value in line for value in personal)]
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks[:20])


PRODUCTION_CHILD = """
import json, re, sys
from scheduler import create_app
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due

args = json.loads(sys.argv[1])
app = create_app()
client = app.test_client()
site = "https://tavoli.example.it"
headers = {"Referer": site + "/accedi"}


def token(path):
    page = client.get(path, base_url=site).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


statuses = [
    client.post("/accedi", base_url=site, headers=headers, data={
        "email": args["staff"], "password": args["password"], "csrf_token": token("/accedi")}).status_code,
    client.get("/gestione/candidature", base_url=site).status_code,
    client.get("/gestione/candidature/%d" % args["application"], base_url=site).status_code,
    client.post("/accedi/link", base_url=site, headers=headers, data={
        "email": args["entity"], "csrf_token": token("/accedi")}).status_code,
]
with app.app_context():
    deliver_all_due("worker-test")
    db.session.commit()
print(json.dumps(statuses))
"""


def test_production_at_log_level_debug_logs_no_personal_data(app, crema, make_user, database_url, tmp_path):
    """As deployed: TAVOLI_CONFIG=production and LOG_LEVEL=DEBUG, logging to stderr as the app configures it."""
    entity = make_entity(app, "Associazione Il Faro")
    make_user(STAFF_EMAIL)
    with app.app_context():
        names = list(db.session.scalars(sa.select(Contact.full_name)))
        cf = db.session.scalar(sa.select(Application).where(Application.id == entity["application"])
                               ).organization.codice_fiscale
    environment = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "TAVOLI_CONFIG")}
    environment.update({"TAVOLI_CONFIG": "production", "SECRET_KEY": "a-long-random-production-secret-" * 2,
                        "DATABASE_URL": database_url, "TAVOLI_INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "DEBUG"})
    args = {"staff": STAFF_EMAIL, "password": PASSWORD, "entity": entity["email"],
            "application": entity["application"]}

    child = subprocess.run([sys.executable, "-c", PRODUCTION_CHILD, json.dumps(args)], capture_output=True,
                           text=True, cwd=PROJECT_DIR, env=environment, timeout=60, check=False)

    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout.strip().splitlines()[-1]) == [302, 200, 200, 200]
    logged = child.stderr
    assert "INFO scheduler.mailing.worker: outbox 1 sent" in logged
    leaks = [line for line in logged.splitlines()
             if EMAIL.search(line) or cf in line or any(name in line for name in names)]
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks[:20])
