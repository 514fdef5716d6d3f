"""What the calendar holds about an entity's people (the names given with an answer), for the GDPR export
and erasure that the registry runs through `scheduler.hooks`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from scheduler.calendar.models import Rsvp
from scheduler.extensions import db
from scheduler.hooks import personal_data_erased, personal_data_requested
from scheduler.registry.models import Organization
from scheduler.timeutil import iso


def _answers_of(organization: Organization) -> sa.ScalarResult[Rsvp]:
    return db.session.scalars(sa.select(Rsvp).where(Rsvp.organization_id == organization.id))


@personal_data_requested.connect
def export_answers(organization: Organization) -> tuple[str, list[dict[str, Any]]]:
    """The entity's answers to meetings, with the people it said would come."""
    return "adesioni", [
        {"incontro": r.meeting_id, "risposta": r.status.value, "persone": r.people, "data": iso(r.answered_at)}
        for r in _answers_of(organization)
    ]


@personal_data_erased.connect
def erase_answer_people(organization: Organization) -> None:
    """The answers themselves stay; the people named in them go (see `KEPT_AFTER_ERASURE`)."""
    for rsvp in _answers_of(organization):
        rsvp.people = []
        rsvp.passes.clear()  # the people's own addresses and codes go with their names
