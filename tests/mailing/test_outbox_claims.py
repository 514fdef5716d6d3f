"""Several workers share the outbox: a row is claimed by one of them only, and dead claims are taken over."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from outbox_helpers import load, queue

from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.mailing.worker import STALE_CLAIM, claim_batch, deliver_all_due
from scheduler.timeutil import utcnow


def test_two_claims_in_a_row_take_disjoint_rows(app):
    ids = [queue(app, to=f"ente{n}@ente-esempio.it") for n in range(5)]

    with app.app_context():
        first = claim_batch("worker-a", limit=3)
        second = claim_batch("worker-b", limit=3)
        third = claim_batch("worker-c", limit=3)

    assert len(first) == 3
    assert len(second) == 2
    assert third == []
    assert set(first).isdisjoint(second)
    assert set(first) | set(second) == set(ids)
    assert {load(app, i).claimed_by for i in first} == {"worker-a"}
    assert {load(app, i).status for i in ids} == {OutboxStatus.SENDING}


def _claimed_at(app, message_id: int, ago: timedelta, by: str = "worker-dead") -> None:
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        row.status = OutboxStatus.SENDING
        row.claimed_by = by
        row.claimed_at = utcnow() - ago
        db.session.commit()


def test_a_claim_whose_heartbeat_is_older_than_stale_claim_is_taken_over_and_counted(app):
    stale = queue(app)
    fresh = queue(app)
    _claimed_at(app, stale, STALE_CLAIM + timedelta(seconds=1))
    _claimed_at(app, fresh, STALE_CLAIM - timedelta(seconds=5), by="worker-alive")

    with app.app_context():
        stats = deliver_all_due("worker-new")

    assert stats.sent == 1
    row = load(app, stale)
    assert row.status is OutboxStatus.SENT
    assert row.claimed_by == "worker-new"
    assert row.attempts == 2  # the interrupted try, then this one
    interrupted, delivered = row.delivery_attempts
    assert not interrupted.succeeded and interrupted.worker == "worker-dead"
    assert "interrotto" in interrupted.error
    assert delivered.succeeded and delivered.worker == "worker-new"

    row = load(app, fresh)
    assert row.status is OutboxStatus.SENDING
    assert row.claimed_by == "worker-alive"


def test_a_message_that_keeps_killing_workers_ends_failed(app):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    message_id = queue(app)
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        row.attempts = 2
        db.session.commit()
    _claimed_at(app, message_id, STALE_CLAIM * 2)

    with app.app_context():
        stats = deliver_all_due("worker-new")

    assert (stats.sent, stats.failed) == (0, 1)
    row = load(app, message_id)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 3


def _run_workers(app, count: int, limit: int) -> list[BaseException]:
    """Start `count` workers at the same instant, each in its own app context (own session, connection)."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                deliver_all_due(f"worker-{n}", limit=limit)
        except BaseException as error:  # reported by the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return errors


def test_concurrent_workers_never_send_a_row_twice(smtp_app, smtp_server, database_url):
    """Four workers race for 40 messages: PostgreSQL shares them out (SKIP LOCKED), SQLite serialises."""
    ids = [queue(smtp_app, to=f"ente{n}@ente-esempio.it") for n in range(40)]

    errors = _run_workers(smtp_app, count=4, limit=3)

    assert errors == []
    mails = smtp_server.wait_for(40)
    assert len(mails) == 40
    assert len({m["Message-ID"] for m in mails}) == 40
    rows = [load(smtp_app, i) for i in ids]
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert {r.attempts for r in rows} == {1}
    if database_url.startswith("postgresql"):
        assert len({r.claimed_by for r in rows}) > 1  # the load was shared


@pytest.mark.postgres_only
def test_skip_locked_passes_over_rows_another_transaction_holds(app):
    ids = [queue(app, to=f"ente{n}@ente-esempio.it") for n in range(5)]
    claimed: list[int] = []

    with app.app_context(), db.engine.connect() as other:
        locked = other.scalars(
            sa.select(OutboxMessage.id).order_by(OutboxMessage.id).limit(2).with_for_update()
        ).all()

        def claim() -> None:
            with app.app_context():
                claimed.extend(claim_batch("worker-b", limit=10))

        thread = threading.Thread(target=claim)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the claim waited for locked rows instead of skipping them"
        other.rollback()

    assert sorted(claimed) == sorted(set(ids) - set(locked))
