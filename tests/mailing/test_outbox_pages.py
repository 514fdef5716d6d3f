"""The staff pages of the outbox: list, one message, retry, .eml download, and who may see them."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from outbox_helpers import INVITE, RECIPIENT, SUBJECT, csrf_from, load, move_clock, queue, sign_in

from scheduler.auth.models import Role
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.mailing.worker import deliver_due
from scheduler.timeutil import utcnow


@pytest.fixture
def staff(client, make_user) -> int:
    user_id = make_user("ufficio.piano@comune.crema.cr.it", role=Role.STAFF)
    sign_in(client, user_id)
    return user_id


def _fail(app, message_id: int, error: str = "550 5.1.1 Mailbox unavailable", attempts: int = 1) -> None:
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        row.status = OutboxStatus.FAILED
        row.attempts = attempts
        row.last_error = error
        db.session.commit()


URLS = ["/gestione/posta", "/gestione/posta/{id}", "/gestione/posta/{id}.eml"]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_are_sent_to_sign_in(app, client, url):
    message_id = queue(app)

    response = client.get(url.format(id=message_id))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accedi")


@pytest.mark.parametrize("url", URLS)
def test_facilitators_are_forbidden(app, client, make_user, url):
    message_id = queue(app)
    sign_in(client, make_user("facilitatore@example.org", role=Role.FACILITATOR))

    response = client.get(url.format(id=message_id))

    assert response.status_code == 403
    assert RECIPIENT not in response.get_data(as_text=True)


def test_facilitator_cannot_retry(app, client, make_user):
    message_id = queue(app)
    _fail(app, message_id)
    sign_in(client, make_user("facilitatore@example.org", role=Role.FACILITATOR))
    token = csrf_from(client.get("/").get_data(as_text=True))

    response = client.post(f"/gestione/posta/{message_id}/riprova", data={"csrf_token": token})

    assert response.status_code == 403
    assert load(app, message_id).status is OutboxStatus.FAILED


def test_staff_sees_the_outbox_newest_first_with_italian_states(app, client, staff):
    sent = queue(app, subject="Ricevuta della candidatura", topic="receipt")
    with app.app_context():
        deliver_due("worker-1")
    failed = queue(app, subject="Invito all'incontro", topic="invite", to="rifiutato@ente-esempio.it")
    _fail(app, failed)
    queue(app, subject="Nuova sede dell'incontro", topic="venue")

    response = client.get("/gestione/posta")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Posta in uscita" in page
    assert page.index("Nuova sede dell&#39;incontro") < page.index("Invito all&#39;incontro")
    assert page.index("Invito all&#39;incontro") < page.index("Ricevuta della candidatura")
    for label in ("In coda", "Inviato", "Non recapitato"):
        assert f'">{label}</span>' in page
    assert "550 5.1.1 Mailbox unavailable" in page
    assert "rifiutato@ente-esempio.it" in page
    assert f'href="/gestione/posta/{sent}"' in page


def test_staff_filters_by_state(app, client, staff):
    queue(app, subject="Arrivato")
    with app.app_context():
        deliver_due("worker-1")
    failed = queue(app, subject="Respinto")
    _fail(app, failed)

    page = client.get("/gestione/posta?stato=failed").get_data(as_text=True)

    assert "Respinto" in page
    assert "Arrivato" not in page


def test_outbox_is_paginated_by_fifty(app, client, staff):
    with app.app_context():
        from scheduler.calls.ambiti import default_ambito
        from scheduler.mailing.services import enqueue

        for n in range(51):
            enqueue(to=f"ente{n}@ente-esempio.it", subject=f"Messaggio numero {n:02d}", text="Testo",
                    ambito=default_ambito())
        db.session.commit()

    first = client.get("/gestione/posta").get_data(as_text=True)
    second = client.get("/gestione/posta?pagina=2").get_data(as_text=True)

    assert first.count("Messaggio numero") == 50
    assert "Messaggio numero 50" in first
    assert second.count("Messaggio numero") == 1
    assert "Messaggio numero 00" in second
    assert 'href="/gestione/posta?pagina=2"' in first


def test_staff_reads_one_message_with_html_kept_out_of_the_page(app, client, staff):
    message_id = queue(
        app,
        ics=INVITE,
        ics_method="REQUEST",
        html='<p>Ciao</p><script>alert("x")</script>',
        text="Buongiorno,\nvi aspettiamo.\n",
    )
    with app.app_context():
        deliver_due("worker-1")
    row = load(app, message_id)

    response = client.get(f"/gestione/posta/{message_id}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert SUBJECT in page  # the decoded Subject header
    assert row.message_id.strip("<>") in page
    assert "Buongiorno,\nvi aspettiamo." in page
    assert '<script>alert("x")</script>' not in page
    assert "<iframe sandbox srcdoc=\"&lt;p&gt;Ciao&lt;/p&gt;&lt;script&gt;" in page
    assert "METHOD:REQUEST" in page
    assert "Consegnato" in page  # the delivery attempt
    assert "Riprova l'invio" not in page  # only failed messages can be retried
    assert f'href="/gestione/posta/{message_id}.eml"' in page  # file delivery in tests


def test_eml_download_is_the_message_as_built(app, client, staff):
    message_id = queue(app, ics=INVITE, ics_method="REQUEST")
    row = load(app, message_id)

    response = client.get(f"/gestione/posta/{message_id}.eml")

    assert response.status_code == 200
    assert response.mimetype == "message/rfc822"
    assert "attachment" in response.headers["Content-Disposition"]
    mail = message_from_bytes(response.data, policy=policy.default)
    assert mail["Message-ID"] == row.message_id
    assert mail["Subject"] == SUBJECT


def test_unknown_message_is_404(client, staff):
    assert client.get("/gestione/posta/999999").status_code == 404


def test_retry_without_csrf_token_is_refused(app, client, staff):
    message_id = queue(app)
    _fail(app, message_id)

    response = client.post(f"/gestione/posta/{message_id}/riprova")

    assert response.status_code == 400
    assert load(app, message_id).status is OutboxStatus.FAILED


def test_retry_only_applies_to_failed_messages(app, client, staff):
    message_id = queue(app)
    token = csrf_from(client.get(f"/gestione/posta/{message_id}").get_data(as_text=True))

    response = client.post(f"/gestione/posta/{message_id}/riprova", data={"csrf_token": token},
                           follow_redirects=True)

    assert "Si possono rimettere in coda solo i messaggi non recapitati." in response.get_data(as_text=True)
    assert load(app, message_id).status is OutboxStatus.PENDING


def test_max_attempts_then_staff_retry_then_delivered(smtp_app, smtp_server, client, staff, monkeypatch):
    smtp_app.config["MAIL_MAX_ATTEMPTS"] = 2
    message_id = queue(smtp_app)
    smtp_server.stop()
    with smtp_app.app_context():
        deliver_due("worker-1")
    move_clock(monkeypatch, timedelta(minutes=5))
    with smtp_app.app_context():
        deliver_due("worker-1")
    assert load(smtp_app, message_id).status is OutboxStatus.FAILED

    page = client.get(f"/gestione/posta/{message_id}").get_data(as_text=True)
    assert "Non recapitato" in page
    assert "ConnectionRefusedError" in page
    assert "Riprova l'invio" in page

    response = client.post(
        f"/gestione/posta/{message_id}/riprova", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )

    assert response.status_code == 200
    assert "Il messaggio è di nuovo in coda." in response.get_data(as_text=True)
    row = load(smtp_app, message_id)
    assert row.status is OutboxStatus.PENDING
    assert row.attempts == 2
    assert len(row.delivery_attempts) == 2  # the history is kept
    assert row.next_attempt_at <= utcnow()

    smtp_server.start()
    with smtp_app.app_context():
        assert deliver_due("worker-1").sent == 1
    [mail] = smtp_server.wait_for(1)
    assert mail["Message-ID"] == row.message_id
    assert load(smtp_app, message_id).status is OutboxStatus.SENT
