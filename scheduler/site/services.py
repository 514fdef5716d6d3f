"""Checks behind /health (the database answers, how much mail waits), and where the call stands in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.registry.services import is_late
from scheduler.timeutil import ROME, utcnow


def health() -> tuple[bool, dict[str, Any]]:
    """Whether the service can work, and the figures an operator watches."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        counts = dict(
            db.session.execute(
                sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        oldest = db.session.scalar(
            sa.select(sa.func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
            )
        )
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return False, {"status": "error", "database": "error", "error": type(exc).__name__}
    backlog = counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.SENDING, 0)
    return True, {
        "status": "ok",
        "database": "ok",
        "outbox": {
            "backlog": backlog,
            "failed": counts.get(OutboxStatus.FAILED, 0),
            "sent": counts.get(OutboxStatus.SENT, 0),
            "oldest_pending_seconds": int((utcnow() - oldest).total_seconds()) if oldest else 0,
        },
    }


@dataclass(frozen=True)
class CallDates:
    """Where the call stands in time, for the home page's deadline box."""

    #: The drafting-phase deadline (its whole local day) has passed: applications now join implementation only.
    deadline_passed: bool
    #: The implementation phase, which late applications join, has begun.
    implementation_started: bool


def call_dates(call: Call, now: datetime | None = None) -> CallDates:
    """The deadline as the application form reads it (`registry.services.is_late`), and the start of
    implementation as a local day."""
    now = now or utcnow()
    return CallDates(
        deadline_passed=is_late(call, now),
        implementation_started=now.astimezone(ROME).date() >= call.late_implementation_from,
    )
