"""The staff dashboard: what needs the Ufficio di Piano's action, each with how many and the first few.

Four sections, each answered by two queries (how many, and the first `limit` rows with what their line shows
joined in), so the page costs the same with ten rows or ten thousand:

- applications to review: those waiting for the staff's decision, the review list's first tab ("Da esaminare");
- meetings in the next seven days still without a venue (scheduled, not cancelled; an online one needs none);
- mail the server refused for good (failed in the outbox);
- registers still open of meetings that have ended (not cancelled).

No request or session globals: the view passes the call and the instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from scheduler.calendar.models import Meeting, MeetingMode, MeetingStatus
from scheduler.calls.models import Call, Track
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.registry.models import Application
from scheduler.registry.review import AWAITING_STAFF

#: How many rows each section lists; the count says how many there are in all.
LIST_LIMIT = 5
#: Meetings starting within this time without a venue need one now.
VENUE_HORIZON = timedelta(days=7)


@dataclass
class Section:
    """One kind of thing to do: how many there are, and the first few."""

    count: int = 0
    items: list[Any] = field(default_factory=list)

    @property
    def more(self) -> int:
        """How many are not listed."""
        return max(0, self.count - len(self.items))


@dataclass
class Dashboard:
    applications: Section
    meetings_without_venue: Section
    failed_mail: Section
    open_registers: Section
    #: The instant the dashboard was read at, and the end of the venue horizon.
    now: datetime
    venue_horizon_end: datetime


def _section(count_query: sa.Select, list_query: sa.Select, limit: int) -> Section:
    count = db.session.scalar(count_query) or 0
    items = list(db.session.scalars(list_query.limit(limit))) if limit > 0 else []
    return Section(count=count, items=items)


def _applications(call: Call | None, limit: int) -> Section:
    if call is None:
        return Section()
    conditions = (Application.call_id == call.id, Application.status.in_(AWAITING_STAFF))
    return _section(
        sa.select(sa.func.count()).select_from(Application).where(*conditions),
        sa.select(Application).join(Application.organization).where(*conditions)
        .options(contains_eager(Application.organization))
        .order_by(Application.submitted_at, Application.id),
        limit,
    )


def _meetings(call: Call | None, conditions: tuple, order: tuple, limit: int) -> Section:
    """Scheduled meetings of the call's tracks matching `conditions`, with their track (and its area)."""
    if call is None:
        return Section()
    where = (Track.call_id == call.id, Meeting.status == MeetingStatus.SCHEDULED, *conditions)
    return _section(
        sa.select(sa.func.count()).select_from(Meeting).join(Meeting.track).where(*where),
        sa.select(Meeting).join(Meeting.track).join(Track.area).where(*where)
        .options(contains_eager(Meeting.track).contains_eager(Track.area))
        .order_by(*order),
        limit,
    )


def _failed_mail(ambito_id: int | None, limit: int) -> Section:
    condition = sa.and_(OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.ambito_id == ambito_id)
    return _section(
        sa.select(sa.func.count()).select_from(OutboxMessage).where(condition),
        sa.select(OutboxMessage).where(condition).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()),
        limit,
    )


def staff_dashboard(call: Call | None, now: datetime, limit: int = LIST_LIMIT, *,
                    ambito_id: int | None = None) -> Dashboard:
    """What needs doing for `call` at `now` (and in the outbox of Ambito `ambito_id`, by default the call's):
    eight queries at most."""
    if ambito_id is None and call is not None:
        ambito_id = call.ambito_id
    horizon_end = now + VENUE_HORIZON
    return Dashboard(
        applications=_applications(call, limit),
        meetings_without_venue=_meetings(
            call,
            (Meeting.venue_id.is_(None), Meeting.mode != MeetingMode.ONLINE,  # a hybrid one needs a room too
             Meeting.starts_at > now, Meeting.starts_at <= horizon_end),
            (Meeting.starts_at, Meeting.id),
            limit,
        ),
        failed_mail=_failed_mail(ambito_id, limit),
        open_registers=_meetings(
            call,
            (Meeting.register_closed_at.is_(None), Meeting.ends_at < now),
            (Meeting.ends_at.desc(), Meeting.id.desc()),
            limit,
        ),
        now=now,
        venue_horizon_end=horizon_end,
    )

