"""Reading the call that this instance serves."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from scheduler.calls.models import Call
from scheduler.extensions import db


def current_call(slug: str | None = None) -> Call | None:
    """The call named by CALL_SLUG, else the one loaded most recently; None before any is loaded."""
    slug = slug or current_app.config.get("CALL_SLUG")
    query = sa.select(Call)
    query = query.where(Call.slug == slug) if slug else query.order_by(Call.id.desc())
    return db.session.scalars(query.limit(1)).first()

