"""The calls of the Ambito as staff see them: each with its numbers, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from scheduler.calendar.models import Meeting
from scheduler.calls.models import Ambito, Call, Track
from scheduler.calls.services import all_calls
from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationStatus, CallInvitation
from scheduler.registry.review import AWAITING_STAFF


@dataclass
class CallRow:
    call: Call
    admitted: int = 0
    to_review: int = 0
    tracks: int = 0
    meetings: int = 0
    invited: int = 0
    confirmed: int = 0


def _counts(query: sa.Select) -> dict[int, int]:
    return {key: number for key, number in db.session.execute(query)}


def overview(ambito: Ambito | None) -> list[CallRow]:
    """Every call of `ambito`, the current one first, with its applications, tables, meetings and invitations."""
    calls = all_calls(ambito)
    ids = [c.id for c in calls]
    if not ids:
        return []
    mine = Application.call_id.in_(ids)
    admitted = _counts(sa.select(Application.call_id, sa.func.count()).where(
        mine, Application.status == ApplicationStatus.ADMITTED).group_by(Application.call_id))
    to_review = _counts(sa.select(Application.call_id, sa.func.count()).where(
        mine, Application.status.in_(AWAITING_STAFF))
        .group_by(Application.call_id))
    tracks = _counts(sa.select(Track.call_id, sa.func.count()).where(Track.call_id.in_(ids)).group_by(Track.call_id))
    meetings = _counts(sa.select(Track.call_id, sa.func.count()).select_from(Meeting).join(Track)
                       .where(Track.call_id.in_(ids)).group_by(Track.call_id))
    invited = _counts(sa.select(CallInvitation.call_id, sa.func.count()).where(CallInvitation.call_id.in_(ids))
                      .group_by(CallInvitation.call_id))
    confirmed = _counts(sa.select(CallInvitation.call_id, sa.func.count())
                        .where(CallInvitation.call_id.in_(ids), CallInvitation.application_id.is_not(None))
                        .group_by(CallInvitation.call_id))
    return [CallRow(call=c, admitted=admitted.get(c.id, 0), to_review=to_review.get(c.id, 0),
                    tracks=tracks.get(c.id, 0), meetings=meetings.get(c.id, 0), invited=invited.get(c.id, 0),
                    confirmed=confirmed.get(c.id, 0)) for c in calls]
