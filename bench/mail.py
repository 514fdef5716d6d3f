"""Mail: how long staff wait when a venue change concerns 300 entities, and how fast the worker delivers.

The venue change is the real staff request (POST of the meeting form to gunicorn); it only writes the 300
updated invitations to the outbox, so it should answer in well under half a second. `make bench` runs the
venue notice (bench/notice.py) between the two. The worker then delivers what is pending with
`deliver_all_due` to a local aiosmtpd that discards what it receives, and the same messages, already built,
are sent again with bare smtplib over one connection: the worker's bookkeeping (claims, one commit per
message, attempt rows) should cost at most half of the raw sending speed.
"""

from __future__ import annotations

import smtplib
import statistics
import subprocess
import sys
import time
from typing import Any

import psycopg
import sqlalchemy as sa

from bench.common import SECRET, Client, Server, free_port
from bench.seed import Manifest

GOAL_REQUEST_SECONDS = 0.5
GOAL_DELIVERY_RATIO = 0.5
#: Venue changes timed; the venue alternates between two, so each change notifies every entity again.
CHANGES = 5


def _plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _meeting_form(manifest: Manifest, venue_id: int) -> dict[str, str]:
    """The edit form as staff send it: the meeting's day and times in Rome, unchanged, and the new venue."""
    from scheduler.timeutil import ROME

    with psycopg.connect(_plain_url(manifest.database_url)) as conn:
        starts, ends, title, capacity = conn.execute(
            "SELECT starts_at, ends_at, title, capacity FROM meetings WHERE id = %s",
            (manifest.venue_change_meeting,),
        ).fetchone()
    starts, ends = starts.astimezone(ROME), ends.astimezone(ROME)
    return {"day": starts.date().isoformat(), "start": starts.strftime("%H:%M"), "end": ends.strftime("%H:%M"),
            "title": title or "", "venue": str(venue_id), "capacity": str(capacity or ""), "deadline_day": "",
            "deadline_time": "", "notes": ""}


def _pending(manifest: Manifest) -> int:
    with psycopg.connect(_plain_url(manifest.database_url)) as conn:
        return conn.execute("SELECT count(*) FROM outbox_messages WHERE status = 'pending'").fetchone()[0]


def time_venue_changes(manifest: Manifest) -> dict[str, Any]:
    """POST the meeting form CHANGES times, alternating two venues; each answer is timed on its own.

    One gunicorn worker, warmed by one untimed change first: the goal is about how long staff wait, not
    about the first request a freshly started process serves (its templates and connections are made then).
    """
    path = f"/gestione/calendario/incontri/{manifest.venue_change_meeting}"
    timings, notified = [], []
    with Server(manifest.database_url, workers=1) as server:
        client = Client(server.base)
        client.login_staff(manifest.staff_email, manifest.staff_password)
        for change in range(-1, CHANGES):
            venue = manifest.venue_change_venue + (change + 1) % 2
            form = {"csrf_token": client.csrf(path), **_meeting_form(manifest, venue)}
            before = _pending(manifest)
            started = time.perf_counter()
            status, _, _ = client.post(path, form)
            elapsed = time.perf_counter() - started
            if status != 303:
                raise RuntimeError(f"the venue change answered {status}")
            if change >= 0:
                timings.append(elapsed)
                notified.append(_pending(manifest) - before)
    median = statistics.median(timings)
    return {"rsvps": manifest.venue_change_rsvps, "changes": CHANGES, "notified": notified,
            "seconds": [round(t, 3) for t in timings], "median_s": round(median, 3),
            "max_s": round(max(timings), 3), "goal_s": GOAL_REQUEST_SECONDS,
            "met": max(timings) < GOAL_REQUEST_SECONDS and all(n == manifest.venue_change_rsvps for n in notified)}


class SmtpSink:
    """aiosmtpd in its own process, discarding messages: the worker and smtplib meet the same server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SmtpSink:
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=2) as smtp:
                    smtp.noop()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("aiosmtpd did not start")

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def delivery_rates(manifest: Manifest) -> dict[str, Any]:
    """Worker rate on the pending outbox, then smtplib's rate on the same messages, same server."""
    from scheduler import create_app
    from scheduler.extensions import db
    from scheduler.mailing.delivery import build_message, sender_address
    from scheduler.mailing.models import OutboxMessage, OutboxStatus
    from scheduler.mailing.worker import deliver_all_due

    with SmtpSink() as sink:
        app = create_app({"CONFIG_NAME": "production", "SECRET_KEY": SECRET,
                          "SQLALCHEMY_DATABASE_URI": manifest.database_url, "MAIL_SERVER": "127.0.0.1",
                          "MAIL_PORT": sink.port, "MAIL_USE_TLS": False, "MAIL_USE_SSL": False,
                          "MAIL_USERNAME": None, "MAIL_PASSWORD": None})
        with app.app_context():
            pending = db.session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
                .order_by(OutboxMessage.id)
            ).all()
            if not pending:
                raise RuntimeError("nothing pending in the outbox: run the venue change first")
            ids = [row.id for row in pending]
            topics: dict[str, int] = {}
            for row in pending:
                topics[row.topic] = topics.get(row.topic, 0) + 1
            sender = app.config["MAIL_DEFAULT_SENDER"]
            envelope_from = sender_address(sender).addr_spec
            started = time.perf_counter()
            prebuilt = [(row.to_address, build_message(row, sender)) for row in pending]
            build_seconds = time.perf_counter() - started
            db.session.remove()

            started = time.perf_counter()
            stats = deliver_all_due("bench-worker")
            worker_seconds = time.perf_counter() - started
            sent_rows = db.session.scalar(
                sa.select(sa.func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENT)
            )
            db.session.remove()
            db.engine.dispose()

        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            for to_address, data in prebuilt:
                smtp.sendmail(envelope_from, [to_address], data)
        raw_seconds = time.perf_counter() - started

    count = len(prebuilt)
    worker_rate, raw_rate = stats.sent / worker_seconds, count / raw_seconds
    ratio = worker_rate / raw_rate
    return {"messages": count, "sent": stats.sent, "sent_rows": sent_rows, "deferred": stats.deferred,
            "failed": stats.failed, "worker_seconds": round(worker_seconds, 2), "raw_seconds": round(raw_seconds, 2),
            "worker_rate": round(worker_rate, 1), "raw_rate": round(raw_rate, 1), "ratio": round(ratio, 2),
            # the same, counting the time to build the MIME messages (the worker builds them too)
            "build_seconds": round(build_seconds, 2),
            "raw_with_build_rate": round(count / (build_seconds + raw_seconds), 1),
            "ratio_with_build": round(worker_rate / (count / (build_seconds + raw_seconds)), 2),
            "goal": GOAL_DELIVERY_RATIO, "met": ratio >= GOAL_DELIVERY_RATIO and sent_rows == count,
            "bytes_per_message": round(sum(len(d) for _, d in prebuilt) / count), "topics": topics}


def run(manifest: Manifest) -> dict[str, Any]:
    return {"venue_change": time_venue_changes(manifest), "delivery": delivery_rates(manifest)}
