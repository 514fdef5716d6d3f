"""The outbox worker: claims due messages, delivers them, records every attempt.

Several workers on several machines may run at once. A row is claimed (status `sending`, `claimed_by`) in its
own committed transaction before anything is sent, so two workers never hold the same row; on PostgreSQL the
claim is `SELECT ... FOR UPDATE SKIP LOCKED`, elsewhere a conditional UPDATE whose row count says who won.

While a worker holds a batch, a heartbeat thread with its own connection refreshes `claimed_at` of its rows
every `STALE_CLAIM / HEARTBEATS_PER_STALE`; a claim whose heartbeat is older than `STALE_CLAIM` belongs to a
worker that died (`kill -9`, a lost machine) and the next worker to look takes it over. The heartbeat runs
beside the sending thread, not between messages, because one SMTP command may block for `MAIL_TIMEOUT` and a
slow server could otherwise let a live worker's claim go stale. A worker whose heartbeat cannot reach the
database stops sending before its claim can look dead (`SEND_WHILE_FRESH`), and never sends a row the
heartbeat saw another worker take.

Every outcome is committed as soon as it is known, one transaction per message: a worker killed at any moment
loses at most the one message the server accepted but the worker had not yet recorded, which goes again with
the same Message-ID (mail clients show it once). Logs carry ids and counts, never addresses.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import timedelta
from types import FrameType

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session, scoped_session

from scheduler.extensions import db
from scheduler.mailing.delivery import (
    MessageBuildError,
    SmtpFailure,
    TimedConnection,
    build_message,
    describe_error,
    is_connection_error,
    sender_address,
    stored_files,
    write_eml,
)
from scheduler.mailing.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from scheduler.mailing.preferences import bounces_of, forget_bounces, record_bounce
from scheduler.timeutil import utcnow

log = logging.getLogger(__name__)

#: A `sending` row whose heartbeat is older than this belongs to a worker that died; another one takes it.
#: With the heartbeat every 10 s, a worker killed at any instant is taken over 40-50 s later (plus the poll
#: interval of the worker that takes it, 2 s by default), and a live worker loses its claim only if five
#: heartbeats in a row fail. `MAIL_STALE_CLAIM` in the app's config (seconds; `flask worker` sets it from
#: its environment or `--stale-claim`) overrides it. Every worker sharing an outbox must use the same value,
#: and their machines' clocks must agree within a few seconds (NTP): claims carry wall-clock times.
STALE_CLAIM = timedelta(seconds=50)
#: Heartbeats per STALE_CLAIM: every 10 s by default.
HEARTBEATS_PER_STALE = 5
#: A worker sends the next message only while its last successful heartbeat is younger than this fraction of
#: STALE_CLAIM: the other half is the margin for the message in flight and for clocks of different machines.
SEND_WHILE_FRESH = 0.5
#: How long the end of a batch waits for a heartbeat that is talking to the database (it is a daemon thread:
#: one stuck on a dead connection never keeps the process alive, and it touches only this batch's rows).
HEARTBEAT_JOIN_SECONDS = 5.0
#: The key in `app.extensions` where features register work to run on every worker loop (reminders...).
PERIODIC_KEY = "tavoli_periodic"
#: Recorded when a claim is taken over: the previous worker may or may not have handed the message over.
INTERRUPTED = "Invio interrotto: il processo di consegna si è fermato prima di registrare l'esito."
#: PostgreSQL: COMMIT returns without waiting for the WAL to reach the disk, for one transaction or for the
#: connection a batch records its deliveries on (why that is safe here: `_relaxed_commit`).
RELAXED_COMMIT = sa.text("SET LOCAL synchronous_commit = off")
RELAXED_CONNECTION = sa.text("SET synchronous_commit = off")


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


def stale_claim() -> timedelta:
    """How old a claim's heartbeat may grow before the claim is taken over: MAIL_STALE_CLAIM or STALE_CLAIM."""
    seconds = current_app.config.get("MAIL_STALE_CLAIM")
    return timedelta(seconds=float(seconds)) if seconds else STALE_CLAIM


def _due(now, stale: timedelta, status: OutboxStatus | None = None) -> sa.ColumnElement[bool]:
    pending = sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
    dead = sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - stale)
    if status is OutboxStatus.PENDING:
        return pending
    if status is OutboxStatus.SENDING:
        return dead
    return sa.or_(pending, dead)


def claim_batch(worker_id: str, limit: int = 50) -> list[int]:
    """Claim up to `limit` due messages for `worker_id` and commit; returns the ids this worker now holds."""
    return _claim(worker_id, limit)[0]


def _take(candidates: sa.Select, worker_id: str, now, stale: timedelta, status: OutboxStatus) -> dict[int, tuple]:
    """Mark the candidate rows as this worker's; returns those it won, with their previous status and holder."""
    won: dict[int, tuple] = {}
    if db.session.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming right now, or whose heartbeat is being written, are skipped, not
        # waited for; a row whose heartbeat committed meanwhile is re-checked by FOR UPDATE and left alone.
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
    # SQLite has no row locks: each UPDATE re-checks that the row is still due (a heartbeat may have refreshed
    # it since the SELECT); rowcount 0 = lost race.
    for r in db.session.execute(candidates).all():
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == r.id, _due(now, stale, status))
            .values(status=OutboxStatus.SENDING, claimed_by=worker_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            won[r.id] = (r.status, r.claimed_by)
    return won


def _claim(worker_id: str, limit: int) -> tuple[list[int], int]:
    """The claimed ids, and how many stale claims were closed as failed instead (attempts exhausted)."""
    now = utcnow()
    stale = stale_claim()
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
            .where(_due(now, stale, status)).order_by(order, OutboxMessage.id).limit(room)
        )
        claimed.update(_take(candidates, worker_id, now, stale, status))
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


def _relaxed_commit(executor: sa.Connection | scoped_session[Session]) -> None:
    """On PostgreSQL, let the current transaction's COMMIT return before its WAL is flushed to disk.

    Status commits are one per message (and one per heartbeat), and a disk flush on each is the largest part
    of the bookkeeping: measured in-process against a local SMTP server and PostgreSQL 15 on a local disk, 96
    messages a second with the flush, 140 without (the same messages over bare smtplib: 345; the previous
    worker, committing twenty at a time with the flush: 168; medians of five runs on a busy machine).
    With `synchronous_commit = off` the commit is still atomic and in the server's memory at once, so a worker
    that dies right after it loses nothing: the crash this feature is about. Only a crash of the database
    server itself can lose the last fraction of a second of such commits (at most about three times
    `wal_writer_delay`, 200 ms by default), and what it loses is the record, not the mail: those messages go
    again with the same Message-ID, as after any crash.
    Claims keep the server's default, and so does everything else the application writes. SQLite needs
    nothing here: the app runs it in WAL mode with `synchronous=NORMAL`, the same trade-off (a killed
    process loses no commit, a power cut may lose the last ones).
    """
    dialect = executor.dialect if isinstance(executor, sa.Connection) else executor.get_bind().dialect
    if dialect.name == "postgresql":
        executor.execute(RELAXED_COMMIT)


def _shares_database(engine: sa.Engine) -> bool:
    """False for an in-memory SQLite database: no other worker can see its rows, so nobody can take a claim
    over, and a second connection (the heartbeat's) would open a different, empty database."""
    return not (engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"))


class Heartbeat:
    """Keeps a batch's claims fresh while the worker delivers it, from a thread with its own connection.

    `fresh()` and `holds()` are what the sending thread asks before each message: whether the claim is
    certainly still alive in the others' eyes, and whether the row is still this worker's.
    """

    def __init__(self, engine: sa.Engine, worker_id: str, ids: list[int], stale: timedelta, since: float) -> None:
        self.engine = engine
        self.worker_id = worker_id
        self.ids = list(ids)
        self.stale = stale.total_seconds()
        self.interval = self.stale / HEARTBEATS_PER_STALE
        #: time.monotonic() when the last successful heartbeat (or the claim) began.
        self.last_beat = since
        #: Rows of the batch that are no longer this worker's (taken over, or requeued by staff).
        self.lost: frozenset[int] = frozenset()
        self.enabled = _shares_database(engine)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {worker_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(HEARTBEAT_JOIN_SECONDS)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def beat(self) -> bool:
        """Refresh `claimed_at` of the batch's rows this worker still holds; False when the database failed."""
        started = time.monotonic()
        try:
            lost = self._refresh()
        except Exception as error:  # the database is restarting or unreachable: the sender will stop in time
            log.warning("worker %s: heartbeat failed (%s)", self.worker_id, type(error).__name__)
            return False
        self.last_beat = started
        if lost - self.lost:
            log.warning("worker %s: no longer holds outbox ids %s", self.worker_id, sorted(lost - self.lost))
        self.lost = frozenset(lost)
        return True

    def _refresh(self) -> set[int]:
        """One short transaction: the UPDATE, then which rows of the batch are held by someone else now."""
        mine = sa.and_(
            OutboxMessage.id.in_(self.ids),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == self.worker_id,
        )
        with self.engine.begin() as connection:
            _relaxed_commit(connection)
            if connection.dialect.name == "postgresql":
                # A row locked now is being recorded by the sending thread or taken by a worker that found it
                # stale: skipping it means the heartbeat never waits on a row lock nor deadlocks with them.
                mine = OutboxMessage.id.in_(sa.select(OutboxMessage.id).where(mine).with_for_update(skip_locked=True))
            connection.execute(sa.update(OutboxMessage).where(mine).values(claimed_at=utcnow()))
            return set(connection.scalars(
                sa.select(OutboxMessage.id).where(
                    OutboxMessage.id.in_(self.ids), OutboxMessage.claimed_by.is_distinct_from(self.worker_id)
                )
            ))

    def fresh(self) -> bool:
        """True while no other worker can find this batch's claims stale, with a margin for one message."""
        if not self.enabled:
            return True
        return time.monotonic() - self.last_beat < self.stale * SEND_WHILE_FRESH

    def holds(self, message_id: int) -> bool:
        return message_id not in self.lost


@dataclass
class Batch:
    """One claimed batch being delivered: who delivers it, its heartbeat, and what it did so far."""

    worker_id: str
    stats: DeliveryStats
    heartbeat: Heartbeat
    ledger: Ledger
    #: Addresses of the batch flagged as bounced: a delivery clears the flag (one query per batch).
    bounced: set[str] = field(default_factory=set)

    def sendable(self, items: list[Built]) -> Iterator[tuple[int, Built]]:
        """The items to send, in order, with their index; one another worker holds is skipped.

        A worker whose heartbeat has not reached the database for a while gives the untried rows back and
        stops, before another worker could think it dead and send them too.
        """
        for index, item in enumerate(items):
            if not self.heartbeat.fresh():
                _release([other.id for other in items[index:]], self)
                return
            if not self.heartbeat.holds(item.id):
                log.warning("outbox %s: taken over by another worker, not sent", item.id)
                continue
            yield index, item


_OUTBOX = OutboxMessage.__table__
_ATTEMPTS = DeliveryAttempt.__table__
#: A delivery's two statements, built once (they run for every message) and run through Core: no ORM state.
_MARK_SENT = (
    sa.update(_OUTBOX)
    .where(_OUTBOX.c.id == sa.bindparam("row_id"))
    .values(status=OutboxStatus.SENT, sent_at=sa.bindparam("sent_now"), last_error=None,
            attempts=_OUTBOX.c.attempts + 1)
)
_ADD_ATTEMPT = sa.insert(_ATTEMPTS)
#: PostgreSQL: both as one statement (a data-modifying WITH), atomic like any statement, so in autocommit a
#: delivery costs a single round trip; a row deleted meanwhile (an erasure) gets no attempt row.
_SENT = _MARK_SENT.returning(_OUTBOX.c.id, _OUTBOX.c.sent_at).cte("sent")
_MARK_SENT_WITH_ATTEMPT = sa.insert(_ATTEMPTS).from_select(
    ["message_id", "at", "worker", "succeeded"],
    sa.select(_SENT.c.id, _SENT.c.sent_at, sa.bindparam("worker", type_=sa.String), sa.true()),
)


class Ledger:
    """Where a batch's deliveries are written, each the moment the server accepted it, on a connection of its own.

    One transaction per message is the point (a worker killed at any instant loses at most the message in
    flight), so it must be cheap: on PostgreSQL one statement in autocommit, with `synchronous_commit = off`
    for this connection (see `_relaxed_commit` for why that is safe here), given back with RESET; elsewhere
    the two statements in one short transaction (SQLite, in WAL mode, commits without waiting for the disk).
    Its own connection also keeps these commits out of the session, whose objects each commit would expire.
    """

    def __init__(self, engine: sa.Engine, worker_id: str) -> None:
        self.worker_id = worker_id
        self.postgres = engine.dialect.name == "postgresql"
        self.connection = engine.connect()
        if self.postgres:
            self.connection = self.connection.execution_options(isolation_level="AUTOCOMMIT")
            self.connection.execute(RELAXED_CONNECTION)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.postgres:
                self.connection.execute(sa.text("RESET synchronous_commit"))
        except sa.exc.SQLAlchemyError:
            self.connection.invalidate()  # never back to the pool with the setting
        finally:
            self.connection.close()

    def sent(self, message_id: int) -> None:
        now = utcnow()
        if self.postgres:
            self.connection.execute(
                _MARK_SENT_WITH_ATTEMPT, {"row_id": message_id, "sent_now": now, "worker": self.worker_id}
            )
            return
        with self.connection.begin():
            if self.connection.execute(_MARK_SENT, {"row_id": message_id, "sent_now": now}).rowcount:
                self.connection.execute(_ADD_ATTEMPT, {"message_id": message_id, "at": now,
                                                       "worker": self.worker_id, "succeeded": True, "error": None})


def _record_sent(item: Built, batch: Batch) -> None:
    """Commit one accepted message at once: a worker killed after this commit never sends it again."""
    batch.ledger.sent(item.id)
    batch.stats.sent += 1
    log.info("outbox %s sent", item.id)
    address = item.to_address.strip().lower()
    if address in batch.bounced:  # rare: the address was flagged; the delivery above is committed first
        forget_bounces([address])
        db.session.commit()
        batch.bounced.discard(address)


def _record_failure(message_id: int, worker_id: str, failure: SmtpFailure, stats: DeliveryStats) -> None:
    """One failed try: back to the queue with exponential backoff, or `failed` when it cannot succeed."""
    now = utcnow()
    _relaxed_commit(db.session)
    row = db.session.get(OutboxMessage, message_id)
    if row is None:  # deleted meanwhile (an erasure request): nothing to record
        db.session.commit()
        return
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


def _release(ids: list[int], batch: Batch) -> None:
    """Hand untried rows back to the queue, due now, without counting an attempt (rows another worker took
    meanwhile are left to it)."""
    released = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.claimed_by == batch.worker_id,
            OutboxMessage.status == OutboxStatus.SENDING,
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    batch.stats.deferred += released
    log.warning("outbox: heartbeat late; %d untried messages released: ids %s", released, ids)


@dataclass(frozen=True)
class Built:
    """A claimed row ready to go: its bytes, and what recording the outcome needs (the row is detached)."""

    row: OutboxMessage
    raw: bytes
    id: int
    to_address: str


def _build_all(rows: list[OutboxMessage], worker_id: str, stats: DeliveryStats) -> list[Built]:
    """The bytes of every row of the batch, before the first is sent; a row that cannot be an e-mail fails."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    files = stored_files(rows)  # an announcement's attachment, read once for all its messages in the batch
    built = []
    for row in rows:
        try:
            built.append(Built(row, build_message(row, sender, files), row.id, row.to_address))
        except MessageBuildError as error:
            failure = SmtpFailure(f"Messaggio non valido: {error}", "build", True)
            _record_failure(row.id, worker_id, failure, stats)
    # Detached, the rows are no longer expired by every commit (one per message) nor reloaded: what is still
    # needed of them (ids, addresses, the .eml name) was loaded with them.
    for row in rows:
        db.session.expunge(row)
    return built


def _deliver_to_files(built: list[Built], batch: Batch) -> None:
    directory = current_app.config["MAIL_FILE_DIR"]
    for _index, item in batch.sendable(built):
        try:
            write_eml(directory, item.row, item.raw)
        except OSError as error:
            _record_failure(item.id, batch.worker_id, describe_error(error), batch.stats)
        else:
            _record_sent(item, batch)


def _deliver_by_smtp(built: list[Built], batch: Batch) -> None:
    """One SMTP connection for the batch; if the connection goes, every row not yet sent goes back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker_id, stats = batch.worker_id, batch.stats
    envelope_from = sender_address(app.config["MAIL_DEFAULT_SENDER"]).addr_spec
    connection = TimedConnection(app)
    try:
        connection.open()
    except OSError as error:  # smtplib's errors are OSErrors too
        failure = describe_error(error)
        failure = SmtpFailure(failure.error, failure.kind, permanent=False)
        log.warning("outbox: cannot reach the SMTP server (%s); %d deferred", failure.kind, len(built))
        for item in built:
            if batch.heartbeat.holds(item.id):
                _record_failure(item.id, worker_id, failure, stats)
        return
    try:
        for index, item in batch.sendable(built):
            try:
                connection.send_bytes(item.raw, envelope_from, item.to_address)
            except OSError as error:
                failure = describe_error(error)
                _record_failure(item.id, worker_id, failure, stats)
                host = connection.host
                if is_connection_error(error) or host is None or getattr(host, "sock", None) is None:
                    rest = [other.id for other in built[index + 1 :] if batch.heartbeat.holds(other.id)]
                    if rest:
                        log.warning("outbox: SMTP connection lost (%s); %d more", failure.kind, len(rest))
                    lost = SmtpFailure(failure.error, failure.kind, permanent=False)
                    for other in rest:
                        _record_failure(other, worker_id, lost, stats)
                    return
            except Exception as error:  # a bug or an odd address: this row waits, the batch goes on
                log.error("outbox %s: unexpected %s while sending", item.id, type(error).__name__)
                _record_failure(item.id, worker_id, describe_error(error), stats)
            else:
                _record_sent(item, batch)
    finally:
        connection.close()


def deliver_due(worker_id: str, limit: int = 100) -> DeliveryStats:
    """Claim one batch of due messages and deliver it (SMTP if MAIL_SERVER is set, else .eml files)."""
    stats = DeliveryStats()
    since = time.monotonic()  # before the claim: its claimed_at is no younger than this
    ids, stats.failed = _claim(worker_id, limit)
    stats.claimed = len(ids) + stats.failed
    if not ids:
        return stats
    with (
        Heartbeat(db.engine, worker_id, ids, stale_claim(), since) as heartbeat,
        Ledger(db.engine, worker_id) as ledger,
    ):
        rows = list(
            db.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker_id)
                .order_by(OutboxMessage.id)
                .execution_options(populate_existing=True)
            )
        )
        batch = Batch(worker_id, stats, heartbeat, ledger, set(bounces_of(row.to_address for row in rows)))
        built = _build_all(rows, worker_id, stats)
        if built and current_app.config.get("MAIL_SERVER"):
            _deliver_by_smtp(built, batch)
        elif built:
            _deliver_to_files(built, batch)
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
