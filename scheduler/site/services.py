"""Checks behind /health: the database answers, and how much mail waits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.timeutil import utcnow


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
