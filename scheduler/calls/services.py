"""Reading the call that this instance serves."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from scheduler.calls.models import Call, Track
from scheduler.extensions import db


def current_call(slug: str | None = None) -> Call | None:
    """The call named by CALL_SLUG, else the one loaded most recently; None before any is loaded."""
    slug = slug or current_app.config.get("CALL_SLUG")
    query = sa.select(Call)
    query = query.where(Call.slug == slug) if slug else query.order_by(Call.id.desc())
    return db.session.scalars(query.limit(1)).first()


def tracks_with_meetings(call: Call) -> list[Track]:
    """The call's tracks with area, meetings and venues loaded in a fixed number of queries."""
    from scheduler.calendar.models import Meeting  # the calendar package imports this module

    query = (
        sa.select(Track)
        .where(Track.call_id == call.id)
        .order_by(Track.position, Track.id)
        .options(
            selectinload(Track.area),
            selectinload(Track.meetings).selectinload(Meeting.venue),
        )
    )
    return list(db.session.scalars(query))
