"""A meeting registered only on paper: staff type in, afterwards, who signed the sheet.

Staff tick the admitted entities of the track's area that were present and write the names of their people,
one a line ("Nome Cognome, ruolo"). Rows are stored with method PAPER and the whole entry is logged. Nothing
here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from scheduler.attendance.models import Attendance, AttendanceMethod, RegisterEvent, person_key
from scheduler.calendar.models import Meeting
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationArea, ApplicationStatus, Organization
from scheduler.textutil import clean_line
from scheduler.timeutil import utcnow

#: The most names typed for one entity.
MAX_PEOPLE_PER_ENTITY = 30


class PaperError(DomainError):
    """The paper register cannot be recorded as typed; the message is for staff, `organization_id` where."""

    def __init__(self, message: str, organization_id: int | None = None) -> None:
        super().__init__(message)
        self.organization_id = organization_id


@dataclass(frozen=True)
class Person:
    name: str
    role: str = ""


def admitted_entities(meeting: Meeting) -> list[Organization]:
    """The entities admitted to the meeting's call for one of its table's areas, by name."""
    track = meeting.track
    admitted = (sa.select(Application.organization_id).join(ApplicationArea)
                .where(Application.call_id == track.call_id, Application.status == ApplicationStatus.ADMITTED,
                       ApplicationArea.area_id.in_(track.area_ids)))
    return list(db.session.scalars(
        sa.select(Organization)
        .where(Organization.id.in_(admitted), Organization.erased_at.is_(None))
        .order_by(sa.func.lower(Organization.name), Organization.id)
    ))


def parse_people(text: str) -> list[Person]:
    """One person a line, "Nome Cognome" or "Nome Cognome, ruolo"; empty lines ignored."""
    people = []
    for line in (text or "").splitlines():
        name, _, role = line.partition(",")
        name = clean_line(name)[:200]
        role = clean_line(role)[:120]
        if name:
            people.append(Person(name, role))
    return people


def present_people(meeting_id: int) -> set[str]:
    """The keys (`person_key`) of the people already marked present and not undone."""
    return set(db.session.scalars(
        sa.select(Attendance.person_key).where(Attendance.meeting_id == meeting_id, Attendance.undone_at.is_(None))
    ))


def record_paper_meeting(meeting: Meeting, entries: Mapping[int, Sequence[Person]],
                         actor_id: int | None) -> list[Attendance]:
    """Mark present, by paper, the people of the ticked entities; people already present are not repeated.

    `entries` maps an entity id to its people. Returns the new rows (flushed, not committed).
    """
    if meeting.is_cancelled:
        raise PaperError("L'incontro è annullato: non ci sono presenze da registrare.")
    if meeting.starts_at > utcnow():
        raise PaperError("L'incontro non è ancora iniziato: il registro cartaceo si inserisce dopo l'incontro.")
    if not entries:
        raise PaperError("Seleziona almeno un ente presente.")
    allowed = {org.id: org for org in admitted_entities(meeting)}
    for org_id, people in entries.items():
        if org_id not in allowed:
            raise PaperError("Un ente selezionato non è ammesso all'area di questo incontro.", org_id)
        if not people:
            raise PaperError(f"Scrivi almeno un nome per {allowed[org_id].name}.", org_id)
        if len(people) > MAX_PEOPLE_PER_ENTITY:
            raise PaperError(f"Al massimo {MAX_PEOPLE_PER_ENTITY} persone per ente.", org_id)

    already = present_people(meeting.id)
    rows: list[Attendance] = []
    now = utcnow()
    for org_id in sorted(entries, key=lambda i: allowed[i].name.lower()):
        for person in entries[org_id]:
            key = person_key(org_id, None, person.name)
            if key in already:
                continue
            already.add(key)
            rows.append(Attendance(
                meeting_id=meeting.id, organization_id=org_id, person_name=person.name, person_key=key,
                person_role=person.role, method=AttendanceMethod.PAPER, checked_in_at=now,
                recorded_by_id=actor_id,
            ))
    db.session.add_all(rows)
    names = "; ".join(f"{allowed[org_id].name}: {', '.join(p.name for p in entries[org_id])}"
                      for org_id in sorted(entries, key=lambda i: allowed[i].name.lower()))
    db.session.add(RegisterEvent(
        meeting_id=meeting.id, actor_id=actor_id, action="paper_recorded",
        detail=f"{len(rows)} presenze dal foglio cartaceo. {names}"[:4000],
    ))
    db.session.flush()
    return rows
