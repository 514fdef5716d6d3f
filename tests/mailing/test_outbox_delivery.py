"""The worker delivering the outbox to a real SMTP server on loopback, or to files."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from outbox_helpers import INVITE, RECIPIENT, RECIPIENT_NAME, SUBJECT, load, move_clock, queue, set_clock

from scheduler.mailing.models import OutboxStatus
from scheduler.mailing.worker import Heartbeat, deliver_all_due, deliver_due
from scheduler.timeutil import utcnow

REFUSED = "non-esiste@ente-esempio.it"
LATER = "casella-piena@ente-esempio.it"


def _deliver(app, worker: str = "worker-1"):
    with app.app_context():
        return deliver_due(worker)


def test_message_arrives_with_its_headers_and_the_row_says_sent(smtp_app, smtp_server):
    message_id = queue(smtp_app, ics=INVITE, ics_method="REQUEST")

    stats = _deliver(smtp_app)

    assert (stats.claimed, stats.sent, stats.deferred, stats.failed) == (1, 1, 0, 0)
    [mail] = smtp_server.wait_for(1)
    row = load(smtp_app, message_id)
    assert mail["Subject"] == SUBJECT
    assert mail["To"].addresses[0].display_name == RECIPIENT_NAME
    assert mail["To"].addresses[0].addr_spec == RECIPIENT
    assert str(mail["From"]) == "Ufficio di Piano <noreply@tavoli.localhost>"
    assert mail["Message-ID"] == row.message_id
    assert smtp_server.envelopes == [("noreply@tavoli.localhost", [RECIPIENT])]
    calendar = mail.get_payload()[0].get_payload()[2]
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"

    assert row.status is OutboxStatus.SENT
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.last_error is None
    [attempt] = row.delivery_attempts
    assert attempt.succeeded and attempt.error is None and attempt.worker == "worker-1"


def test_one_connection_carries_a_whole_batch(smtp_app, smtp_server):
    ids = [queue(smtp_app, to=f"ente{n}@ente-esempio.it") for n in range(3)]

    stats = _deliver(smtp_app)

    assert stats.sent == 3
    assert len(smtp_server.wait_for(3)) == 3
    assert {load(smtp_app, i).status for i in ids} == {OutboxStatus.SENT}


def test_server_down_keeps_the_message_and_retries_later_exactly_once(smtp_app, smtp_server, monkeypatch):
    message_id = queue(smtp_app)
    smtp_server.stop()

    stats = _deliver(smtp_app)

    assert (stats.sent, stats.deferred, stats.failed) == (0, 1, 0)
    row = load(smtp_app, message_id)
    assert row.status is OutboxStatus.PENDING
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > utcnow()
    assert row.claimed_by is None
    [attempt] = row.delivery_attempts
    assert not attempt.succeeded and attempt.error == row.last_error

    smtp_server.start()  # same port
    assert _deliver(smtp_app).claimed == 0  # not due yet: backoff

    move_clock(monkeypatch, timedelta(seconds=5))  # past MAIL_RETRY_BASE (1 s in tests)
    assert _deliver(smtp_app).sent == 1
    assert _deliver(smtp_app).claimed == 0
    time.sleep(0.2)

    [mail] = smtp_server.wait_for(1)
    row = load(smtp_app, message_id)
    assert mail["Message-ID"] == row.message_id
    assert row.status is OutboxStatus.SENT
    assert row.attempts == 2
    assert [a.succeeded for a in row.delivery_attempts] == [False, True]


def test_connection_failure_sends_the_whole_batch_back_none_lost(smtp_app, smtp_server):
    ids = [queue(smtp_app, to=f"ente{n}@ente-esempio.it") for n in range(4)]
    smtp_server.stop()

    stats = _deliver(smtp_app)

    assert (stats.claimed, stats.deferred) == (4, 4)
    rows = [load(smtp_app, i) for i in ids]
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert all(r.attempts == 1 and r.last_error for r in rows)


def test_server_closing_mid_batch_sends_the_rest_back(smtp_app, smtp_server):
    ids = [queue(smtp_app, to=f"ente{n}@ente-esempio.it") for n in range(3)]
    keep = smtp_server.handle_DATA

    async def close_on_second(server, session, envelope):
        if envelope.rcpt_tos == ["ente1@ente-esempio.it"]:
            return "421 4.3.2 Service shutting down"
        return await keep(server, session, envelope)

    smtp_server.handle_DATA = close_on_second

    stats = _deliver(smtp_app)

    assert (stats.sent, stats.deferred, stats.failed) == (1, 2, 0)
    assert len(smtp_server.wait_for(1)) == 1
    first, second, third = (load(smtp_app, i) for i in ids)
    assert first.status is OutboxStatus.SENT
    assert second.status is third.status is OutboxStatus.PENDING
    assert second.last_error == third.last_error == "421 4.3.2 Service shutting down"


def test_a_worker_whose_heartbeat_fails_hands_back_what_it_has_not_tried(smtp_app, smtp_server, monkeypatch):
    """The heartbeat cannot reach the database: the worker stops before its claim could look dead to others."""
    smtp_app.config["MAIL_STALE_CLAIM"] = 2.0  # heartbeat every 0.4 s; send only within 1 s of the last
    ids = [queue(smtp_app, to=f"ente{n}@ente-esempio.it") for n in range(3)]
    keep = smtp_server.handle_DATA

    def unreachable(self: Heartbeat) -> set[int]:
        raise sa.exc.OperationalError("UPDATE outbox_messages", {}, ConnectionRefusedError())

    async def slow_first(server, session, envelope):
        if envelope.rcpt_tos == ["ente0@ente-esempio.it"]:
            await asyncio.sleep(1.6)  # longer than the heartbeat may be missing
        return await keep(server, session, envelope)

    monkeypatch.setattr(Heartbeat, "_refresh", unreachable)
    smtp_server.handle_DATA = slow_first

    stats = _deliver(smtp_app)

    assert (stats.sent, stats.deferred) == (1, 2)
    first, *rest = (load(smtp_app, i) for i in ids)
    assert first.status is OutboxStatus.SENT
    assert all(r.status is OutboxStatus.PENDING and r.attempts == 0 and r.claimed_by is None for r in rest)
    assert _deliver(smtp_app).sent == 2  # due again at once
    assert len(smtp_server.wait_for(3)) == 3


def test_backoff_doubles_and_is_capped(smtp_app, smtp_server, monkeypatch):
    smtp_app.config.update(MAIL_RETRY_BASE=60, MAIL_RETRY_MAX_DELAY=150, MAIL_MAX_ATTEMPTS=10)
    message_id = queue(smtp_app)
    smtp_server.stop()

    delays = []
    now = move_clock(monkeypatch, timedelta(seconds=1))
    for _ in range(3):
        _deliver(smtp_app)
        row = load(smtp_app, message_id)
        delays.append((row.next_attempt_at - now).total_seconds())
        now = set_clock(monkeypatch, row.next_attempt_at)

    assert delays == [60, 120, 150]


def test_after_max_attempts_the_message_is_failed(app_config, smtp_app, smtp_server, monkeypatch):
    smtp_app.config["MAIL_MAX_ATTEMPTS"] = 2
    message_id = queue(smtp_app)
    smtp_server.stop()

    _deliver(smtp_app)
    move_clock(monkeypatch, timedelta(minutes=5))
    stats = _deliver(smtp_app)

    assert stats.failed == 1
    row = load(smtp_app, message_id)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 2
    assert len(row.delivery_attempts) == 2
    move_clock(monkeypatch, timedelta(days=1))
    assert _deliver(smtp_app).claimed == 0  # failed messages stay put until staff retries


async def _refuse_some(server, session, envelope, address, rcpt_options):
    """aiosmtpd's RCPT hook: some mailboxes are refused, for good or for now, as a real MTA would."""
    if address == REFUSED:
        return "550 5.1.1 Mailbox unavailable"
    if address == LATER:
        return "452 4.2.2 Mailbox full, try later"
    envelope.rcpt_tos.append(address)
    return "250 OK"


@pytest.fixture
def refusing_server(smtp_server):
    """The loopback server with that RCPT hook (aiosmtpd looks hooks up on its handler for each command)."""
    smtp_server.handle_RCPT = _refuse_some
    return smtp_server


def test_refused_recipient_bounces_at_once_and_the_batch_goes_on(smtp_app, refusing_server):
    refused = queue(smtp_app, to=REFUSED)
    later = queue(smtp_app, to=LATER)
    fine = queue(smtp_app)

    stats = _deliver(smtp_app)

    assert (stats.sent, stats.deferred, stats.failed) == (1, 1, 1)
    [mail] = refusing_server.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == RECIPIENT

    row = load(smtp_app, refused)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 1
    assert row.last_error == "550 5.1.1 Mailbox unavailable"
    assert row.delivery_attempts[0].error == "550 5.1.1 Mailbox unavailable"

    row = load(smtp_app, later)
    assert row.status is OutboxStatus.PENDING
    assert row.last_error == "452 4.2.2 Mailbox full, try later"

    assert load(smtp_app, fine).status is OutboxStatus.SENT


def test_addresses_and_bodies_never_reach_the_log(smtp_app, refusing_server, caplog):
    caplog.set_level("DEBUG", logger="scheduler")
    queue(smtp_app, to=REFUSED)
    queue(smtp_app, text="Testo riservato del messaggio")

    _deliver(smtp_app)

    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("scheduler"))
    assert "sent" in ours and "failed" in ours
    assert REFUSED not in ours
    assert RECIPIENT not in ours
    assert "riservato" not in ours


def test_a_row_that_cannot_be_built_fails_without_blocking_the_others(smtp_app, smtp_server):
    broken = queue(smtp_app, headers={"X-Nota": "a\r\nBcc: spia@example.org"})
    fine = queue(smtp_app)

    stats = _deliver(smtp_app)

    assert (stats.sent, stats.failed) == (1, 1)
    assert len(smtp_server.wait_for(1)) == 1
    row = load(smtp_app, broken)
    assert row.status is OutboxStatus.FAILED
    assert row.last_error.startswith("Messaggio non valido")
    assert load(smtp_app, fine).status is OutboxStatus.SENT


def test_without_mail_server_each_message_becomes_an_eml_file(app, tmp_path):
    message_id = queue(app, ics=INVITE, ics_method="REQUEST")

    stats = _deliver(app)

    assert stats.sent == 1
    [path] = list(Path(app.config["MAIL_FILE_DIR"]).iterdir())
    assert re.fullmatch(rf"\d{{8}}-\d{{6}}-{message_id}\.eml", path.name)
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    row = load(app, message_id)
    assert mail["Message-ID"] == row.message_id
    assert mail["Subject"] == SUBJECT
    assert mail.get_content_type() == "multipart/mixed"
    assert mail.get_payload()[1].get_filename() == "invito.ics"
    assert row.status is OutboxStatus.SENT
    assert [a.succeeded for a in row.delivery_attempts] == [True]


def test_deliver_all_due_drains_the_queue_in_batches(app):
    ids = [queue(app, to=f"ente{n}@ente-esempio.it") for n in range(7)]

    with app.app_context():
        stats = deliver_all_due("worker-1", limit=3)

    assert (stats.claimed, stats.sent) == (7, 7)
    assert len(list(Path(app.config["MAIL_FILE_DIR"]).iterdir())) == 7
    assert {load(app, i).status for i in ids} == {OutboxStatus.SENT}


def test_messages_not_yet_due_wait(app):
    message_id = queue(app)
    with app.app_context():
        from scheduler.extensions import db
        from scheduler.mailing.models import OutboxMessage

        db.session.get(OutboxMessage, message_id).next_attempt_at = utcnow() + timedelta(minutes=1)
        db.session.commit()

    assert _deliver(app).claimed == 0
    assert load(app, message_id).status is OutboxStatus.PENDING
