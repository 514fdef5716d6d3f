"""What the registers hold about an entity's people (who signed in), for the GDPR export and erasure that the
registry runs through `scheduler.hooks`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from scheduler.attendance.models import Attendance
from scheduler.extensions import db
from scheduler.hooks import personal_data_erased, personal_data_requested
from scheduler.registry.models import Organization
from scheduler.timeutil import iso

#: What a register shows in place of an erased person's name.
ERASED_NAME = "(dato cancellato)"


def _attendances_of(organization: Organization) -> sa.ScalarResult[Attendance]:
    return db.session.scalars(sa.select(Attendance).where(Attendance.organization_id == organization.id))


@personal_data_requested.connect
def export_attendance(organization: Organization) -> tuple[str, list[dict[str, Any]]]:
    """The entity's presences at meetings, with the name of the person who signed in."""
    return "presenze", [
        {"incontro": a.meeting_id, "persona": a.person_name, "modalita": a.method.value,
         "ora": iso(a.checked_in_at)}
        for a in _attendances_of(organization)
    ]


@personal_data_erased.connect
def erase_attendance_names(organization: Organization) -> None:
    """The presence stays (the register is kept, see `KEPT_AFTER_ERASURE`); the person's name and role go."""
    for attendance in _attendances_of(organization):
        attendance.person_name = ERASED_NAME
        attendance.person_role = ""
