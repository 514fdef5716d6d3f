"""What the outside test did: real worker processes, a slow SMTP server, `kill -9` in the middle of a batch.

Each worker is `python -m flask --app scheduler worker` on the test database (SQLite file or PostgreSQL) with
MAIL_STALE_CLAIM of a few seconds instead of the production minute, so the takeover is measured in seconds.
The SMTP server queues each message and only then waits before answering 250, the worst case for a kill:
a worker killed during that wait has handed the message over without recording it, the one duplicate the
SMTP conversation cannot avoid.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from scheduler.extensions import db
from scheduler.mailing.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from scheduler.mailing.services import enqueue
from scheduler.mailing.worker import HEARTBEATS_PER_STALE, INTERRUPTED
from scheduler.timeutil import utcnow
from tests.conftest import PROJECT_DIR, free_port

#: MAIL_STALE_CLAIM of the workers under test, in seconds: a heartbeat every 0.6 s.
STALE = 3.0
#: The server's pause between queueing a message and answering 250.
DELAY = 0.05
#: More than one batch (a worker claims 100 at a time).
MESSAGES = 120
#: The worker's poll interval when nothing is due, in seconds.
POLL = 0.2
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class SlowServer:
    """aiosmtpd on loopback that keeps, for every message it queued, when and which Message-ID."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[str] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        match = MESSAGE_ID.search(envelope.original_content.split(b"\r\n\r\n", 1)[0])
        self.received.append(match.group(1).decode() if match else "?")
        await asyncio.sleep(DELAY)  # a kill now: queued here, never recorded by the worker
        return "250 OK"

    def wait_for(self, condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    server = SlowServer()
    server.controller.start()
    yield server
    server.controller.stop()


class Workers:
    """Worker processes started by the test; whatever is left is stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, database_url: str, port: int, folder: Path) -> None:
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.environment = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("MAIL_", "REPLY_IMAP_", "TAVOLI_", "FLASK_", "DATABASE_URL", "SECRET_KEY"))
        }
        self.environment.update({
            "TAVOLI_CONFIG": "development", "DATABASE_URL": database_url, "TAVOLI_INSTANCE_PATH": str(folder),
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port), "MAIL_TIMEOUT": "5",
            "MAIL_STALE_CLAIM": str(STALE), "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
        })

    def start(self, name: str) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "scheduler", "worker", "--interval", str(POLL)],
                cwd=PROJECT_DIR, env=self.environment, stdout=log, stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
                         for path in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(app, database_url: str, slow_server: SlowServer, tmp_path: Path) -> Iterator[Workers]:
    """Started after `app`, so stopped before its teardown empties the tables."""
    started = Workers(database_url, slow_server.port, tmp_path)
    yield started
    started.stop()


def _queue_many(app, count: int) -> dict[int, str]:
    """`count` messages to as many addresses; their ids and Message-IDs."""
    with app.app_context():
        rows = [enqueue(to=f"ente{n}@ente-esempio.it", subject=f"Messaggio {n}", text="Buongiorno.\n", topic="invite")
                for n in range(count)]
        db.session.commit()
        return {row.id: row.message_id for row in rows}


def _rows(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def _interrupted(app) -> list[DeliveryAttempt]:
    with app.app_context():
        attempts = list(db.session.scalars(sa.select(DeliveryAttempt).where(DeliveryAttempt.error == INTERRUPTED)))
        db.session.expunge_all()
        return attempts


def _all_sent(app, ids) -> bool:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == OutboxStatus.SENT)
        ) == len(ids)


def test_a_worker_killed_mid_batch_is_taken_over_in_seconds_with_at_most_one_duplicate(
    app, slow_server: SlowServer, workers: Workers
):
    messages = _queue_many(app, MESSAGES)
    first = workers.start("first")
    assert slow_server.wait_for(lambda: len(slow_server.received) >= 15, timeout=60), workers.logs()

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = utcnow()
    time.sleep(0.3)  # the server finishes with the message in flight

    received_before = set(slow_server.received)
    rows = _rows(app)
    held = {r.id for r in rows if r.status is OutboxStatus.SENDING}
    [dead_worker] = {r.claimed_by for r in rows if r.claimed_by}
    recorded = {messages[r.id] for r in rows if r.status is OutboxStatus.SENT}
    assert held, "the kill did not land in the middle of a batch"
    assert recorded <= received_before
    assert len(received_before - recorded) <= 1  # every message the server took is recorded, but the one in flight

    workers.start("second")
    everything = set(messages.values())
    assert slow_server.wait_for(lambda: set(slow_server.received) >= everything, timeout=STALE + 60), workers.logs()
    assert slow_server.wait_for(lambda: _all_sent(app, messages), timeout=10), workers.logs()
    time.sleep(DELAY * 4)  # nothing else arrives

    counts = Counter(slow_server.received)
    duplicated = {message_id for message_id, count in counts.items() if count > 1}
    assert set(counts) == everything
    assert len(duplicated) <= 1, f"sent twice: {duplicated}"
    assert all(counts[m] == 2 for m in duplicated)
    interrupted = _interrupted(app)
    assert {a.message_id for a in interrupted} == held  # the dead worker's rows, and only those, taken over
    assert {a.worker for a in interrupted} == {dead_worker}
    assert duplicated <= {messages[i] for i in held}  # the one in flight, if any
    taken_over_after = (min(a.at for a in interrupted) - killed_at).total_seconds()
    # the claim dies STALE seconds after the last heartbeat (at most one heartbeat before the kill); the second
    # worker needs its start (a couple of seconds here) and perhaps a batch of pending messages first
    assert STALE - STALE / HEARTBEATS_PER_STALE - 0.5 <= taken_over_after <= STALE + 8, taken_over_after
    final = _rows(app)
    assert {r.status for r in final} == {OutboxStatus.SENT}
    assert {r.attempts for r in final if r.id in held} == {2}  # the interrupted try, then the real one


def test_two_live_workers_through_a_slow_server_send_everything_once(app, slow_server: SlowServer, workers: Workers):
    """The first batch lasts longer than MAIL_STALE_CLAIM: only the heartbeat keeps the other worker off it."""
    messages = _queue_many(app, MESSAGES + 30)
    processes = [workers.start("one"), workers.start("two")]
    batch_seconds = 100 * DELAY
    assert batch_seconds > STALE

    assert slow_server.wait_for(lambda: set(slow_server.received) >= set(messages.values()), timeout=90), \
        workers.logs()
    assert slow_server.wait_for(lambda: _all_sent(app, messages), timeout=10), workers.logs()
    time.sleep(STALE)  # a wrongful takeover would resend now
    for process in processes:
        process.send_signal(signal.SIGTERM)
    assert [process.wait(timeout=20) for process in processes] == [0, 0], workers.logs()

    counts = Counter(slow_server.received)
    assert set(counts) == set(messages.values())
    assert max(counts.values()) == 1
    assert _interrupted(app) == []
    rows = _rows(app)
    assert {r.attempts for r in rows} == {1}
    assert len({r.claimed_by for r in rows}) == 2  # both worked
