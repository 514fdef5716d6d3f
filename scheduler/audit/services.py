"""Recording a change in the audit log; services call `record` in the transaction of the change itself."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from scheduler.audit.models import AuditEntry
from scheduler.extensions import db


def _plain(value: Any) -> Any:
    """Values as JSON holds them: dates and times as ISO text, enums by value, objects by their id."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "id") and not isinstance(value, int | float | str | bool):
        return value.id
    return value


def record(action: str, subject_type: str, subject_id: int | None, *, actor_id: int | None = None,
           call_id: int | None = None, **details: Any) -> AuditEntry:
    """Add one entry to the session (committed with the change it describes, or rolled back with it)."""
    entry = AuditEntry(action=action, subject_type=subject_type, subject_id=subject_id, actor_id=actor_id,
                       call_id=call_id, details={k: _plain(v) for k, v in details.items()})
    db.session.add(entry)
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields whose value differs, as ``{field: [old, new]}`` for `record`'s details."""
    return {k: [_plain(before.get(k)), _plain(v)] for k, v in after.items() if _plain(before.get(k)) != _plain(v)}


def entries_for(subject_type: str, subject_id: int, limit: int = 100) -> list[AuditEntry]:
    """The object's history, newest first."""
    return list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        .options(selectinload(AuditEntry.actor))
    ))
