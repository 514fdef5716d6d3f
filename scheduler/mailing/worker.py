"""The outbox worker: claims due messages, delivers them, records every attempt.

Several workers on several machines may run at once. A row is claimed (status `sending`, `claimed_by`) in its
own committed transaction before anything is sent, so two workers never hold the same row; on PostgreSQL the
claim is `SELECT ... FOR UPDATE SKIP LOCKED`, elsewhere a conditional UPDATE whose row count says who won.
A failure is committed as soon as it is known; messages the server accepted are committed in small groups
(`SENT_GROUP`, and always before a failure is recorded or the batch ends), since one transaction per message
costs more than the SMTP dialogue. A worker that dies loses at most the rows it was holding: those are taken
over when their claim grows old, and a message sent just before the crash goes again with the same
Message-ID, which mail clients show once. Logs carry ids and counts, never addresses.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta
from types import FrameType

import sqlalchemy as sa
from flask import Flask, current_app

from scheduler.extensions import db
from scheduler.mailing.delivery import (
    MessageBuildError,
    SmtpFailure,
    TimedConnection,
    build_message,
    describe_error,
    is_connection_error,
    sender_address,
    write_eml,
)
from scheduler.mailing.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from scheduler.mailing.preferences import bounces_of, forget_bounces, record_bounce
from scheduler.timeutil import utcnow

log = logging.getLogger(__name__)

#: A `sending` row whose claim is older than this belongs to a worker that died; another one takes it.
STALE_CLAIM = timedelta(minutes=10)
#: The key in `app.extensions` where features register work to run on every worker loop (reminders...).
PERIODIC_KEY = "tavoli_periodic"
#: Recorded when a claim is taken over: the previous worker may or may not have handed the message over.
INTERRUPTED = "Invio interrotto: il processo di consegna si è fermato prima di registrare l'esito."
#: Messages the server accepted are committed together, this many at a time at most.
SENT_GROUP = 20


@dataclass
class DeliveryStats:
    """What one run did, for the CLI summary and the logs."""

    claimed: int = 0
    sent: int = 0
    #: Back to `pending`, to be tried again later.
    deferred: int = 0
    failed: int = 0

    def __add__(self, other: DeliveryStats) -> DeliveryStats:
        return DeliveryStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def new_worker_id() -> str:
    """Host, process and a random suffix: tells staff which machine held a row, unique across restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _due(now, status: OutboxStatus | None = None) -> sa.ColumnElement[bool]:
    pending = sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
    stale = sa.and_(
        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - STALE_CLAIM
    )
    if status is OutboxStatus.PENDING:
        return pending
    if status is OutboxStatus.SENDING:
        return stale
    return sa.or_(pending, stale)


def claim_batch(worker_id: str, limit: int = 50) -> list[int]:
    """Claim up to `limit` due messages for `worker_id` and commit; returns the ids this worker now holds."""
    return _claim(worker_id, limit)[0]


def _take(candidates: sa.Select, worker_id: str, now, status: OutboxStatus) -> dict[int, tuple]:
    """Mark the candidate rows as this worker's; returns those it won, with their previous status and holder."""
    won: dict[int, tuple] = {}
    if db.session.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming right now are skipped, not waited for.
        for r in db.session.execute(candidates.with_for_update(skip_locked=True)):
            won[r.id] = (r.status, r.claimed_by)
        if won:
            db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(list(won)))
                .values(status=OutboxStatus.SENDING, claimed_by=worker_id, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
        return won
    # SQLite has no row locks: each UPDATE re-checks that the row is still due; rowcount 0 = lost race.
    for r in db.session.execute(candidates).all():
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == r.id, _due(now, status))
            .values(status=OutboxStatus.SENDING, claimed_by=worker_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            won[r.id] = (r.status, r.claimed_by)
    return won


def _claim(worker_id: str, limit: int) -> tuple[list[int], int]:
    """The claimed ids, and how many stale claims were closed as failed instead (attempts exhausted)."""
    now = utcnow()
    claimed: dict[int, tuple[OutboxStatus, str | None]] = {}
    # Stale claims first, then due messages: two queries, each an ordered scan of the (status, next attempt)
    # index, where one query with OR would sort every pending row on every claim.
    for status, order in ((OutboxStatus.SENDING, OutboxMessage.claimed_at),
                          (OutboxStatus.PENDING, OutboxMessage.next_attempt_at)):
        room = limit - len(claimed)
        if room <= 0:
            break
        candidates = (
            sa.select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.claimed_by)
            .where(_due(now, status)).order_by(order, OutboxMessage.id).limit(room)
        )
        claimed.update(_take(candidates, worker_id, now, status))
    # A claim taken over from a dead worker counts as an interrupted attempt, so a message that kills
    # workers stops after MAIL_MAX_ATTEMPTS instead of looping forever.
    closed = 0
    taken_over = {i: by for i, (status, by) in claimed.items() if status is OutboxStatus.SENDING}
    if taken_over:
        log.warning("outbox: taking over %d stale claims: ids %s", len(taken_over), sorted(taken_over))
        rows = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.id.in_(list(taken_over)))
            .execution_options(populate_existing=True)
        )
        for row in rows:
            row.attempts += 1
            row.last_error = INTERRUPTED
            db.session.add(
                DeliveryAttempt(message=row, at=now, worker=taken_over[row.id] or "", error=INTERRUPTED)
            )
            if row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
                row.status = OutboxStatus.FAILED
                del claimed[row.id]
                closed += 1
    db.session.commit()
    return sorted(claimed), closed


def _retry_delay(attempts: int) -> timedelta:
    config = current_app.config
    seconds = min(config["MAIL_RETRY_BASE"] * 2 ** max(attempts - 1, 0), config["MAIL_RETRY_MAX_DELAY"])
    return timedelta(seconds=seconds)


class SentGroup:
    """Messages the server accepted, written to the database together: one UPDATE, one INSERT, one commit.

    `flush()` runs before any failure is recorded and when the batch ends, so the order of outcomes in the
    database is the order in which they happened.
    """

    def __init__(self, worker_id: str, stats: DeliveryStats, rows: list[OutboxMessage]) -> None:
        self.worker_id = worker_id
        self.stats = stats
        self.ids: list[int] = []
        #: Addresses of the batch flagged as bounced: a delivery clears the flag (one query per batch).
        self.bounced = set(bounces_of(row.to_address for row in rows))
        self.cleared: set[str] = set()

    def add(self, item: Built) -> None:
        self.ids.append(item.id)
        address = item.to_address.strip().lower()
        if address in self.bounced:
            self.cleared.add(address)
        if len(self.ids) >= SENT_GROUP:
            self.flush()

    def flush(self) -> None:
        if not self.ids:
            return
        now = utcnow()
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(self.ids))
            .values(status=OutboxStatus.SENT, sent_at=now, last_error=None, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            sa.insert(DeliveryAttempt),
            [{"message_id": i, "at": now, "worker": self.worker_id, "succeeded": True} for i in self.ids],
        )
        if self.cleared:
            forget_bounces(self.cleared)
            self.bounced -= self.cleared
            self.cleared = set()
        db.session.commit()
        self.stats.sent += len(self.ids)
        log.info("outbox %s sent", ", ".join(map(str, self.ids)))
        self.ids = []


def _record_failure(row: OutboxMessage, worker_id: str, failure: SmtpFailure, stats: DeliveryStats) -> None:
    """One failed try: back to the queue with exponential backoff, or `failed` when it cannot succeed."""
    now = utcnow()
    row.attempts += 1
    row.last_error = failure.error
    db.session.add(
        DeliveryAttempt(message=row, at=now, worker=worker_id, succeeded=False, error=failure.error)
    )
    if failure.permanent or row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        row.status = OutboxStatus.FAILED
        stats.failed += 1
        if failure.permanent:
            record_bounce(row.to_address, failure.error)
        log.warning("outbox %s failed for good after %d attempts (%s)", row.id, row.attempts, failure.kind)
    else:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + _retry_delay(row.attempts)
        row.claimed_by = None
        row.claimed_at = None
        stats.deferred += 1
        log.info("outbox %s deferred after attempt %d (%s)", row.id, row.attempts, failure.kind)
    db.session.commit()


def _release(ids: list[int], worker_id: str, stats: DeliveryStats) -> None:
    """Hand untried rows back to the queue, due now, without counting an attempt."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.claimed_by == worker_id,
            OutboxMessage.status == OutboxStatus.SENDING,
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    stats.deferred += len(ids)
    log.warning("outbox: batch ran long; %d messages released: ids %s", len(ids), ids)


@dataclass(frozen=True)
class Built:
    """A claimed row ready to go: its bytes, and what recording the outcome needs without reloading it
    (committing a group of outcomes expires the ORM's copies of the rows)."""

    row: OutboxMessage
    raw: bytes
    id: int
    to_address: str


def _build_all(rows: list[OutboxMessage], worker_id: str, stats: DeliveryStats) -> list[Built]:
    """The bytes of every row of the batch, before the first is sent; a row that cannot be an e-mail fails."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    built = []
    for row in rows:
        try:
            built.append(Built(row, build_message(row, sender), row.id, row.to_address))
        except MessageBuildError as error:
            _record_failure(row, worker_id, SmtpFailure(f"Messaggio non valido: {error}", "build", True), stats)
    return built


def _deliver_to_files(rows: list[OutboxMessage], worker_id: str, stats: DeliveryStats) -> None:
    directory = current_app.config["MAIL_FILE_DIR"]
    sent = SentGroup(worker_id, stats, rows)
    try:
        for item in _build_all(rows, worker_id, stats):
            try:
                write_eml(directory, item.row, item.raw)
            except OSError as error:
                sent.flush()
                _record_failure(item.row, worker_id, describe_error(error), stats)
            else:
                sent.add(item)
    finally:
        sent.flush()


def _deliver_by_smtp(rows: list[OutboxMessage], worker_id: str, stats: DeliveryStats) -> None:
    """One SMTP connection for the batch; if the connection goes, every row not yet sent goes back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    envelope_from = sender_address(app.config["MAIL_DEFAULT_SENDER"]).addr_spec
    claimed_at = min((row.claimed_at for row in rows if row.claimed_at is not None), default=None)
    built = _build_all(rows, worker_id, stats)
    if not built:
        return
    connection = TimedConnection(app)
    try:
        connection.open()
    except OSError as error:  # smtplib's errors are OSErrors too
        failure = describe_error(error)
        failure = SmtpFailure(failure.error, failure.kind, permanent=False)
        log.warning("outbox: cannot reach the SMTP server (%s); %d deferred", failure.kind, len(built))
        for item in built:
            _record_failure(item.row, worker_id, failure, stats)
        return
    sent = SentGroup(worker_id, stats, rows)
    try:
        for index, item in enumerate(built):
            if claimed_at is None or utcnow() - claimed_at > STALE_CLAIM / 2:
                # A slow server ate the time: give the rest back before another worker thinks we died.
                sent.flush()
                _release([other.id for other in built[index:]], worker_id, stats)
                return
            try:
                connection.send_bytes(item.raw, envelope_from, item.to_address)
            except OSError as error:
                sent.flush()
                failure = describe_error(error)
                _record_failure(item.row, worker_id, failure, stats)
                host = connection.host
                if is_connection_error(error) or host is None or getattr(host, "sock", None) is None:
                    rest = [other.row for other in built[index + 1 :]]
                    if rest:
                        log.warning("outbox: SMTP connection lost (%s); %d more", failure.kind, len(rest))
                    lost = SmtpFailure(failure.error, failure.kind, permanent=False)
                    for other in rest:
                        _record_failure(other, worker_id, lost, stats)
                    return
            except Exception as error:  # a bug or an odd address: this row waits, the batch goes on
                sent.flush()
                log.error("outbox %s: unexpected %s while sending", item.id, type(error).__name__)
                _record_failure(item.row, worker_id, describe_error(error), stats)
            else:
                sent.add(item)
    finally:
        sent.flush()
        connection.close()


def deliver_due(worker_id: str, limit: int = 100) -> DeliveryStats:
    """Claim one batch of due messages and deliver it (SMTP if MAIL_SERVER is set, else .eml files)."""
    stats = DeliveryStats()
    ids, stats.failed = _claim(worker_id, limit)
    stats.claimed = len(ids) + stats.failed
    if not ids:
        return stats
    rows = list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker_id)
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )
    if current_app.config.get("MAIL_SERVER"):
        _deliver_by_smtp(rows, worker_id, stats)
    else:
        _deliver_to_files(rows, worker_id, stats)
    return stats


def deliver_all_due(worker_id: str, limit: int = 100, stop: threading.Event | None = None) -> DeliveryStats:
    """Batches until nothing due is left (a short batch means the queue was drained) or `stop` is set.

    Checking `stop` between batches lets SIGTERM end a worker within one batch even with a long queue.
    """
    total = DeliveryStats()
    while True:
        stats = deliver_due(worker_id, limit)
        total += stats
        if stats.claimed < limit or (stop is not None and stop.is_set()):
            return total


def run_periodic(app: Flask) -> None:
    """Run the hooks other features registered (reminders...); one failing never stops the worker."""
    for hook in list(app.extensions.get(PERIODIC_KEY, [])):
        try:
            hook()
        except Exception:
            db.session.rollback()
            log.exception("periodic task %s failed", getattr(hook, "__qualname__", hook))


def register_periodic(app: Flask, hook: Callable[[], object]) -> None:
    """Have the worker call `hook()` once per loop, inside the app context."""
    app.extensions.setdefault(PERIODIC_KEY, []).append(hook)


def run_worker(
    app: Flask,
    once: bool = False,
    interval: float = 2.0,
    *,
    worker_id: str | None = None,
    stop: threading.Event | None = None,
) -> DeliveryStats:
    """Loop: periodic hooks, deliver what is due, wait `interval` seconds; until SIGINT/SIGTERM or `stop`.

    With `once`, one iteration whose errors propagate (the CLI's exit code tells cron what happened);
    otherwise an iteration that fails (database restarting...) is logged and the loop goes on.
    """
    worker_id = worker_id or new_worker_id()
    stop = stop or threading.Event()
    total = DeliveryStats()
    previous: dict[int, object] = {}

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("worker %s: signal %d, stopping after the current batch", worker_id, signum)
        stop.set()

    if not once and threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, _stop)
    log.info("worker %s started", worker_id)
    failures = 0
    try:
        while not stop.is_set():
            wait = interval
            try:
                with app.app_context():
                    run_periodic(app)
                    stats = deliver_all_due(worker_id, stop=stop)
                total += stats
                failures = 0
                if stats.claimed:
                    log.info(
                        "worker %s: sent %d, deferred %d, failed %d",
                        worker_id, stats.sent, stats.deferred, stats.failed,
                    )
            except Exception:
                if once:
                    raise
                failures += 1
                wait = min(interval * 2**failures, 60.0)  # the database is restarting: do not flood the log
                log.exception("worker %s: iteration failed; retrying in %.0f s", worker_id, wait)
            if once:
                break
            stop.wait(wait)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        log.info("worker %s stopped", worker_id)
    return total
