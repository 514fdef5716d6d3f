"""Staff and facilitators who forgot the password choose a new one from a link sent by e-mail.

The link is signed, not stored: it names the account and its present state, so it works once (setting the
password changes the state), for PASSWORD_RESET_TTL. The request page answers the same for every address, and
entities (who have no password) get nothing. Mail is read as the loopback SMTP server received it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from auth_helpers import ENTITY_EMAIL, STAFF_EMAIL, STAFF_PASSWORD, set_active
from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from scheduler.auth import services
from scheduler.auth.models import Role, User
from scheduler.auth.services import MAX_LINK_REQUESTS_PER_HOUR, PASSWORD_RESET_SALT, PASSWORD_RESET_TOPIC
from scheduler.extensions import db
from scheduler.logredact import PLACEHOLDER, redact
from scheduler.mailing.models import OutboxMessage
from scheduler.mailing.worker import deliver_all_due
from tests.a11y.test_axe_pages import Auditor
from tests.conftest import is_postgres
from tests.factories import csrf_from, text_of

FACILITATOR_EMAIL = "facilitatrice@example.org"
OLD_PASSWORD = "password-di-prova-1"
NEW_PASSWORD = "una-nuova-password-lunga"
FORGOT = "/accedi/password-dimenticata"
SENT = ("Se l'indirizzo corrisponde a un account del personale o di un facilitatore, ti abbiamo inviato un "
        "collegamento per scegliere una nuova password. Il collegamento vale 30 minuti e si usa una sola volta.")
LINK = re.compile(r"http://tavoli\.test(/accedi/password/([A-Za-z0-9_.\-]+))")
CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')
TOO_MANY = "Troppi tentativi in poco tempo. Attendi qualche minuto e riprova."


@pytest.fixture
def facilitator(make_user, crema) -> int:
    return make_user(FACILITATOR_EMAIL, role=Role.FACILITATOR, password=OLD_PASSWORD)


def _ask(client, email: str, environ: dict | None = None):
    """The "Password dimenticata?" form, filled in and sent."""
    return client.post(FORGOT, data={"email": email, "csrf_token": csrf_from(client, FORGOT)},
                       environ_overrides=environ or {})


def _password_sign_in(app: Flask, email: str, password: str):
    client = app.test_client()
    response = client.post("/accedi", data={"email": email, "password": password,
                                            "csrf_token": csrf_from(client, "/accedi")})
    return client, response


def _received(app: Flask, smtp_server, count: int) -> list[EmailMessage]:
    """What the worker delivers now to the loopback SMTP server (all messages received so far)."""
    with app.app_context():
        deliver_all_due("test-worker")
    messages = smtp_server.wait_for(count)
    assert len(messages) == count, [m["Subject"] for m in messages]
    return messages


def _link_in(message: EmailMessage) -> tuple[str, str]:
    """The path of the reset link in a received mail, and its token; the HTML part carries the same link."""
    plain = message.get_body(("plain",)).get_content()
    match = LINK.search(plain)
    assert match, plain
    assert match.group(0) in message.get_body(("html",)).get_content()
    return match.group(1), match.group(2)


def _account(app: Flask, user_id: int) -> tuple:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.password_hash, user.session_version, user.last_login_at


def _reset_mails(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.topic == PASSWORD_RESET_TOPIC))


def _choose(client, path: str, password: str, confirmation: str | None = None):
    """The new-password form of the link's page, filled in and sent."""
    token = csrf_from(client, path)
    return client.post(path, data={"password": password, "confirmation": confirmation or password,
                                   "csrf_token": token})


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


# --- the whole way, as a facilitator lives it -------------------------------------------------------------


def test_the_sign_in_page_leads_to_the_request_form(client):
    page = text_of(client.get("/accedi"))
    assert f'href="{FORGOT}">Password dimenticata?</a>' in page

    form = client.get(FORGOT)

    assert form.status_code == 200
    page = text_of(form)
    assert "no-store" in form.headers["Cache-Control"]
    assert '<label for="email"' in page and 'id="email"' in page and 'autocomplete="username"' in page
    assert 'name="csrf_token"' in page


def test_a_facilitator_chooses_a_new_password_from_the_mail(smtp_app_config, smtp_server, app, facilitator):
    elsewhere, _ = _password_sign_in(app, FACILITATOR_EMAIL, OLD_PASSWORD)  # a session left open on a PC
    assert elsewhere.get("/presenze").status_code == 200
    client = app.test_client()

    answer = _ask(client, FACILITATOR_EMAIL)

    assert answer.status_code == 200
    assert SENT in text_of(answer)
    assert not _signed_in(client)
    (mail,) = _received(app, smtp_server, 1)
    assert smtp_server.envelopes[0][1] == [FACILITATOR_EMAIL]
    assert mail["Subject"] == "Scegli una nuova password"
    plain = mail.get_body(("plain",)).get_content()
    assert "vale 30 minuti (fino alle " in plain and "si può usare una sola volta" in plain
    assert "Se non l'hai chiesto tu, ignora questo messaggio: la password resta quella di prima." in plain
    path, _token = _link_in(mail)

    # opening the link (a mail scanner does too) changes nothing and signs nobody in
    before = _account(app, facilitator)
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200
        assert "no-store" in page.headers["Cache-Control"]
    text = text_of(page)
    assert "Scegli una nuova password" in text and FACILITATOR_EMAIL in text
    assert '<label for="new-password"' in text and '<label for="new-password-confirmation"' in text
    assert 'autocomplete="new-password"' in text
    assert _account(app, facilitator) == before
    assert not _signed_in(client)

    response = _choose(client, path, NEW_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/presenze"
    landing = client.get("/presenze")
    assert landing.status_code == 200
    assert "Password cambiata." in text_of(landing)
    # the session left open elsewhere is closed; the old password no longer works, the new one does
    assert elsewhere.get("/presenze").status_code == 302
    assert _password_sign_in(app, FACILITATOR_EMAIL, OLD_PASSWORD)[1].status_code == 401
    assert _password_sign_in(app, FACILITATOR_EMAIL, NEW_PASSWORD)[1].status_code == 302


def test_staff_get_a_link_too_and_land_on_their_dashboard(smtp_app_config, smtp_server, app, make_user, crema):
    make_user(STAFF_EMAIL, role=Role.STAFF, password=STAFF_PASSWORD)
    _ask(app.test_client(), STAFF_EMAIL)
    (mail,) = _received(app, smtp_server, 1)
    path, _token = _link_in(mail)
    client = app.test_client()

    response = _choose(client, path, NEW_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/gestione"
    assert _password_sign_in(app, STAFF_EMAIL, NEW_PASSWORD)[1].status_code == 302


# --- the link works once, for 30 minutes ------------------------------------------------------------------


def test_the_link_works_once(smtp_app_config, smtp_server, app, facilitator):
    _ask(app.test_client(), FACILITATOR_EMAIL)
    path, _token = _link_in(_received(app, smtp_server, 1)[0])
    assert _choose(app.test_client(), path, NEW_PASSWORD).status_code == 302
    after_first = _account(app, facilitator)
    someone = app.test_client()

    again = someone.get(path)

    assert again.status_code == 400
    page = text_of(again)
    assert "Questo collegamento non vale più: è già stato usato" in page
    assert f'href="{FORGOT}"' in page and "Chiedi un nuovo collegamento" in page
    # a form kept open from before does not work either
    posted = someone.post(path, data={"password": "unaltra-password-lunga", "confirmation": "unaltra-password-lunga",
                                      "csrf_token": csrf_from(someone, FORGOT)})
    assert posted.status_code == 400
    assert "non vale più" in text_of(posted)
    assert _account(app, facilitator) == after_first
    assert not _signed_in(someone)


def test_a_link_asked_before_the_office_changed_the_password_no_longer_works(smtp_app_config, smtp_server, app,
                                                                                facilitator):
    _ask(app.test_client(), FACILITATOR_EMAIL)
    path, _token = _link_in(_received(app, smtp_server, 1)[0])
    with app.app_context():
        services.set_password(db.session.get(User, facilitator))  # `flask users password`
        db.session.commit()

    assert app.test_client().get(path).status_code == 400


def test_a_retired_facilitator_cannot_use_a_link_asked_before(smtp_app_config, smtp_server, app, facilitator):
    _ask(app.test_client(), FACILITATOR_EMAIL)
    path, _token = _link_in(_received(app, smtp_server, 1)[0])
    set_active(app, facilitator, False)

    client = app.test_client()
    assert client.get(path).status_code == 400
    assert not _signed_in(client)


@pytest.mark.postgres_only
def test_two_uses_at_once_change_the_password_once(app, database_url, facilitator):
    """The second use waits for the first's row lock, then finds the account changed: one password wins."""
    if not is_postgres(database_url):
        pytest.skip("needs PostgreSQL (row locks): set TEST_DATABASE_URL")
    with app.app_context():
        token = services.issue_password_reset_token(db.session.get(User, facilitator))
    first_holds_the_lock = threading.Event()
    outcome: dict[str, str] = {}

    def first() -> None:
        with app.app_context():
            services.reset_password(token, "prima-password-lunga", "prima-password-lunga")
            first_holds_the_lock.set()
            time.sleep(0.5)  # the second use is waiting meanwhile
            db.session.commit()

    def second() -> None:
        first_holds_the_lock.wait(10)
        with app.app_context():
            try:
                services.reset_password(token, "seconda-password-lunga", "seconda-password-lunga")
                db.session.commit()
                outcome["second"] = "changed"
            except services.LinkUsed:
                db.session.rollback()
                outcome["second"] = "refused"

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert outcome == {"second": "refused"}
    assert _password_sign_in(app, FACILITATOR_EMAIL, "prima-password-lunga")[1].status_code == 302
    assert _password_sign_in(app, FACILITATOR_EMAIL, "seconda-password-lunga")[1].status_code == 401


@pytest.fixture
def clock(monkeypatch, app: Flask) -> dict:
    """Reset links signed and checked as if `clock["later"]` seconds had passed (only theirs: sessions and
    CSRF tokens keep the real time)."""
    shift = {"later": 0}

    class Later(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) + shift["later"]

    def serializer() -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=PASSWORD_RESET_SALT, signer=Later)

    monkeypatch.setattr(services, "_reset_serializer", serializer)
    return shift


def test_the_link_expires_after_30_minutes(smtp_app_config, smtp_server, app, facilitator, clock):
    _ask(app.test_client(), FACILITATOR_EMAIL)
    path, _token = _link_in(_received(app, smtp_server, 1)[0])
    before = _account(app, facilitator)
    client = app.test_client()
    csrf = csrf_from(client, FORGOT)

    clock["later"] = 29 * 60
    assert client.get(path).status_code == 200
    clock["later"] = 31 * 60
    expired = client.get(path)

    assert expired.status_code == 400
    assert "Il collegamento è scaduto: vale 30 minuti. Chiedine uno nuovo." in text_of(expired)
    posted = client.post(path, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD,
                                     "csrf_token": csrf})
    assert posted.status_code == 400
    assert "scaduto" in text_of(posted)
    assert _account(app, facilitator) == before
    assert _password_sign_in(app, FACILITATOR_EMAIL, OLD_PASSWORD)[1].status_code == 302


@pytest.mark.parametrize("token", [
    "not-a-real-token",
    "x" * 500,
    # signed, but with another key (another installation) or for something else (a sign-in link's salt)
    URLSafeTimedSerializer("another-key", salt=PASSWORD_RESET_SALT).dumps([1, "0" * 32]),
    URLSafeTimedSerializer("test-secret-key", salt="login").dumps([1, "0" * 32]),
])
def test_a_link_that_is_not_ours_is_refused(app, client, facilitator, token):
    response = client.get(f"/accedi/password/{token}")

    assert response.status_code == 400
    page = text_of(response)
    assert "Il collegamento non è valido." in page
    assert f'href="{FORGOT}"' in page


# --- no account enumeration, no mail bombing ---------------------------------------------------------------


def _normalized(response, address: str) -> tuple[int, str]:
    return response.status_code, CSRF.sub(r"\1\2", response.get_data(as_text=True)).replace(address, "ADDRESS")


def test_every_address_gets_the_same_page_and_only_password_accounts_a_mail(smtp_app_config, smtp_server, app,
                                                                           facilitator, make_entity_user,
                                                                           make_user):
    make_entity_user(ENTITY_EMAIL)
    retired = make_user("ritirata@example.org", role=Role.FACILITATOR, password=OLD_PASSWORD)
    set_active(app, retired, False)
    addresses = [FACILITATOR_EMAIL, "nessuno@example.org", ENTITY_EMAIL, "ritirata@example.org"]

    pages = {address: _normalized(_ask(app.test_client(), address), address) for address in addresses}

    assert set(pages.values()) == {pages[FACILITATOR_EMAIL]}
    assert pages[FACILITATOR_EMAIL][0] == 200
    assert SENT in pages[FACILITATOR_EMAIL][1].replace("&#39;", "'")
    assert _reset_mails(app) == 1
    _received(app, smtp_server, 1)
    time.sleep(0.2)  # nothing else arrives
    assert [rcpt for _sender, rcpt in smtp_server.envelopes] == [[FACILITATOR_EMAIL]]


def test_an_address_that_is_not_one_is_said_next_to_the_field(app, client, crema):
    response = _ask(client, "non-è-un-indirizzo")

    assert response.status_code == 400
    assert re.search(r'id="email-error"[^>]*>\s*Scrivi un indirizzo e-mail valido', text_of(response))
    assert 'aria-describedby="email-error"' in text_of(response)
    assert 'value="non-è-un-indirizzo"' in text_of(response)
    assert _reset_mails(app) == 0


def test_one_mailbox_gets_at_most_five_links_an_hour(app, facilitator, caplog):
    caplog.set_level(logging.INFO, logger="scheduler.auth.services")
    for n in range(MAX_LINK_REQUESTS_PER_HOUR + 2):
        response = _ask(app.test_client(), FACILITATOR_EMAIL, {"REMOTE_ADDR": f"192.0.2.{n + 1}"})
        assert response.status_code == 200
        assert SENT in text_of(response)

    assert _reset_mails(app) == MAX_LINK_REQUESTS_PER_HOUR == 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"password reset requests over the hourly limit for user id={facilitator}"] * 2
    assert not [r for r in caplog.records if FACILITATOR_EMAIL in r.getMessage()]


@pytest.fixture
def limited(app_config: dict) -> None:
    app_config["LOGIN_RATE_LIMIT"] = "3 per minute"


def test_requests_from_one_ip_are_rate_limited(limited, app, facilitator):
    client = app.test_client()
    attacker = {"REMOTE_ADDR": "203.0.113.7"}
    assert [_ask(client, f"tentativo{n}@example.org", attacker).status_code for n in range(3)] == [200] * 3

    response = _ask(client, FACILITATOR_EMAIL, attacker)

    assert response.status_code == 429
    assert TOO_MANY in text_of(response)
    assert _reset_mails(app) == 0
    assert _ask(app.test_client(), FACILITATOR_EMAIL, {"REMOTE_ADDR": "198.51.100.20"}).status_code == 200


# --- the new password's rules -----------------------------------------------------------------------------


def test_two_different_passwords_are_said_next_to_the_field(smtp_app_config, smtp_server, app, facilitator):
    _ask(app.test_client(), FACILITATOR_EMAIL)
    path, _token = _link_in(_received(app, smtp_server, 1)[0])
    before = _account(app, facilitator)
    client = app.test_client()

    response = _choose(client, path, NEW_PASSWORD, "una-nuova-password-lunghissima")

    assert response.status_code == 400
    page = text_of(response)
    assert re.search(r'id="new-password-confirmation-error"[^>]*>\s*Le due password non coincidono\.', page)
    assert 'aria-describedby="new-password-confirmation-error"' in page
    assert NEW_PASSWORD not in page  # a password is never written back into a page
    assert _account(app, facilitator) == before
    assert not _signed_in(client)
    # a refused try does not use the link up
    assert _choose(client, path, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(("typed", "message"), [
    ("corta", "La password deve avere almeno 12 caratteri."),
    ("x" * 201, "La password è troppo lunga."),
])
def test_a_password_against_the_rules_is_said_next_to_the_field(smtp_app_config, smtp_server, app, facilitator,
                                                                typed, message):
    _ask(app.test_client(), FACILITATOR_EMAIL)
    path, _token = _link_in(_received(app, smtp_server, 1)[0])
    before = _account(app, facilitator)
    client = app.test_client()

    response = _choose(client, path, typed)

    assert response.status_code == 400
    page = text_of(response)
    assert re.search(r'id="new-password-error"[^>]*>\s*' + re.escape(message), page), page
    assert 'aria-describedby="new-password-help new-password-error"' in page
    assert _account(app, facilitator) == before
    assert _password_sign_in(app, FACILITATOR_EMAIL, OLD_PASSWORD)[1].status_code == 302


# --- the link is a secret ---------------------------------------------------------------------------------


def test_staff_never_read_the_link_in_the_outbox(smtp_app_config, smtp_server, app, facilitator, staff):
    _ask(app.test_client(), FACILITATOR_EMAIL)
    path, token = _link_in(_received(app, smtp_server, 1)[0])
    with app.app_context():
        message_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == PASSWORD_RESET_TOPIC))

    for page in ("/gestione/posta", f"/gestione/posta/{message_id}", f"/gestione/posta/{message_id}.eml"):
        response = staff.get(page)
        assert response.status_code == 200, page
        assert token not in response.get_data(as_text=True), page
    detail = text_of(staff.get(f"/gestione/posta/{message_id}"))
    assert "/accedi/password/[riservato]" in detail
    assert "Collegamento per scegliere una nuova password" in text_of(staff.get("/gestione/posta"))
    # the link still works for its owner
    assert app.test_client().get(path).status_code == 200


def test_the_link_is_redacted_in_request_logs():
    token = URLSafeTimedSerializer("k", salt=PASSWORD_RESET_SALT).dumps([7, "f" * 32])

    assert redact(f"GET /accedi/password/{token} HTTP/1.1") == f"GET /accedi/password/{PLACEHOLDER} HTTP/1.1"
    assert token not in redact(f"POST /accedi%2Fpassword%2F{token} HTTP/1.1")
    assert redact(f"POST {FORGOT} HTTP/1.1") == f"POST {FORGOT} HTTP/1.1"


# --- in a real browser ------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_in_the_browser_the_pages_are_accessible(smtp_app_config, smtp_server, live_server, page, app, facilitator):
    """The way from the sign-in page to the registers, by clicks and typing, each page passing axe's WCAG 2.1 AA."""
    audit = Auditor(page, live_server.url)
    audit.visit("/accedi", "Accedi")
    with page.expect_navigation():
        page.get_by_role("link", name="Password dimenticata?").click()
    audit.check(FORGOT, "Password dimenticata")
    page.get_by_label("Indirizzo e-mail").fill(FACILITATOR_EMAIL)
    with page.expect_navigation():
        page.get_by_role("button", name="Ricevi il collegamento").click()
    audit.check(f"{FORGOT} (sent)", "Controlla la posta")
    assert SENT in page.locator("main").inner_text()
    (mail,) = _received(app, smtp_server, 1)
    link = re.search(r"http://127\.0\.0\.1:\d+/accedi/password/\S+", mail.get_body(("plain",)).get_content()).group(0)

    assert page.goto(link).status == 200
    audit.check("reset form", "Scegli una nuova password")
    page.get_by_label("Nuova password", exact=False).first.fill(NEW_PASSWORD)
    page.get_by_label("Ripeti la nuova password").fill("una-password-diversa")
    with page.expect_navigation():
        page.get_by_role("button", name="Salva la nuova password").click()
    audit.check("reset form (with errors)", "Scegli una nuova password")
    assert "Le due password non coincidono." in page.locator("#new-password-confirmation-error").inner_text()
    page.get_by_label("Nuova password", exact=False).first.fill(NEW_PASSWORD)
    page.get_by_label("Ripeti la nuova password").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Salva la nuova password").click()
    assert page.url == live_server.url + "/presenze"
    assert "Password cambiata." in page.content()

    assert page.goto(link).status == 400
    audit.check("used link", "Non è possibile cambiare la password")
    audit.assert_clean()
