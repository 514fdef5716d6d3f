"""The heartbeat keeps a live worker's claims fresh; every accepted message is recorded before the next goes."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from outbox_helpers import load, queue

from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.mailing.services import requeue
from scheduler.mailing.worker import (
    HEARTBEATS_PER_STALE,
    INTERRUPTED,
    SEND_WHILE_FRESH,
    STALE_CLAIM,
    Heartbeat,
    claim_batch,
    deliver_due,
)
from scheduler.timeutil import utcnow


def test_the_defaults_take_a_dead_worker_over_within_a_minute():
    heartbeat = STALE_CLAIM / HEARTBEATS_PER_STALE
    assert timedelta(seconds=10) <= heartbeat <= timedelta(seconds=15)
    assert timedelta(seconds=45) <= STALE_CLAIM <= timedelta(seconds=60)
    # killed just after a heartbeat, found by a worker polling every 2 s (the CLI's default interval)
    assert STALE_CLAIM + timedelta(seconds=2) <= timedelta(seconds=60)
    # one failed heartbeat does not stop a live worker: it may send while two heartbeats are missing
    assert 2 * heartbeat <= STALE_CLAIM * SEND_WHILE_FRESH


def test_a_heartbeat_refreshes_the_rows_still_held_and_notices_the_others(app):
    ids = [queue(app, to=f"ente{n}@ente-esempio.it") for n in range(3)]
    held, taken, requeued = ids
    long_ago = utcnow() - timedelta(seconds=30)
    with app.app_context():
        assert claim_batch("worker-a", limit=3) == ids
        db.session.execute(sa.update(OutboxMessage).values(claimed_at=long_ago))
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == taken).values(claimed_by="worker-b"))
        requeue(db.session.get(OutboxMessage, requeued))
        db.session.commit()
        heartbeat = Heartbeat(db.engine, "worker-a", ids, STALE_CLAIM, since=time.monotonic() - 40)
        assert not heartbeat.fresh()  # 40 s without a heartbeat: more than half of STALE_CLAIM

        assert heartbeat.beat()

    assert heartbeat.fresh()
    assert load(app, held).claimed_at > long_ago + timedelta(seconds=25)
    assert load(app, taken).claimed_at == long_ago  # another worker's row is left alone
    assert heartbeat.holds(held)
    assert not heartbeat.holds(taken)
    assert not heartbeat.holds(requeued)


def _slow(smtp_server, seconds: float) -> None:
    keep = smtp_server.handle_DATA

    async def slow(server, session, envelope):
        await asyncio.sleep(seconds)
        return await keep(server, session, envelope)

    smtp_server.handle_DATA = slow


def test_a_live_worker_keeps_its_claim_however_slow_the_server(smtp_app, smtp_server):
    """The batch lasts 2.5 times MAIL_STALE_CLAIM; another worker, asking all along, never takes it over."""
    smtp_app.config["MAIL_STALE_CLAIM"] = 1.5
    ids = [queue(smtp_app, to=f"ente{n}@ente-esempio.it") for n in range(10)]
    _slow(smtp_server, 0.4)

    def deliver() -> None:
        with smtp_app.app_context():
            deliver_due("worker-a")

    worker = threading.Thread(target=deliver)
    worker.start()
    smtp_server.wait_for(1)  # worker-a holds the batch

    stolen = []
    while worker.is_alive():
        with smtp_app.app_context():
            stolen += claim_batch("worker-b", limit=100)
        time.sleep(0.05)
    worker.join()

    assert stolen == []
    mails = smtp_server.wait_for(10)
    assert sorted(m["Message-ID"] for m in mails) == sorted(load(smtp_app, i).message_id for i in ids)
    rows = [load(smtp_app, i) for i in ids]
    assert {(r.status, r.attempts, r.claimed_by) for r in rows} == {(OutboxStatus.SENT, 1, "worker-a")}
    assert all(a.error != INTERRUPTED for r in rows for a in r.delivery_attempts)


def test_a_row_another_worker_took_is_not_sent(smtp_app, smtp_server):
    smtp_app.config["MAIL_STALE_CLAIM"] = 2.0  # a heartbeat every 0.4 s
    first, second, third = (queue(smtp_app, to=f"ente{n}@ente-esempio.it") for n in range(3))
    keep = smtp_server.handle_DATA

    async def take_the_third_meanwhile(server, session, envelope):
        if envelope.rcpt_tos == ["ente0@ente-esempio.it"]:
            with smtp_app.app_context():  # as a worker that (wrongly) found the claim stale would
                db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == third)
                                   .values(claimed_by="worker-b", claimed_at=utcnow()))
                db.session.commit()
            await asyncio.sleep(1.0)  # two heartbeats
        return await keep(server, session, envelope)

    smtp_server.handle_DATA = take_the_third_meanwhile

    with smtp_app.app_context():
        stats = deliver_due("worker-a")

    assert stats.sent == 2
    time.sleep(0.2)
    assert [rcpts for _, rcpts in smtp_server.envelopes] == [["ente0@ente-esempio.it"], ["ente1@ente-esempio.it"]]
    row = load(smtp_app, third)
    assert (row.status, row.claimed_by, row.attempts, row.delivery_attempts) == (
        OutboxStatus.SENDING, "worker-b", 0, [])
    assert {load(smtp_app, i).status for i in (first, second)} == {OutboxStatus.SENT}


def test_each_accepted_message_is_recorded_before_the_next_is_sent(smtp_app, smtp_server):
    """A worker killed at any moment has recorded every message but the one in flight."""
    ids = [queue(smtp_app, to=f"ente{n}@ente-esempio.it") for n in range(5)]
    keep = smtp_server.handle_DATA
    recorded_before: list[int] = []

    async def count_sent(server, session, envelope):
        with smtp_app.app_context():
            recorded_before.append(db.session.scalar(
                sa.select(sa.func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENT)
            ))
        return await keep(server, session, envelope)

    smtp_server.handle_DATA = count_sent

    with smtp_app.app_context():
        assert deliver_due("worker-a").sent == 5

    assert recorded_before == [0, 1, 2, 3, 4]
    assert {load(smtp_app, i).status for i in ids} == {OutboxStatus.SENT}
