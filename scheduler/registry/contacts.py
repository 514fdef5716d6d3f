"""The entity's people beyond the two of the application: delegates for an area and further contacts.

Announcements reach an entity through its contact person and these people (a delegate for one area only
hears about that area); the legal representative and the contact person are changed with the application.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from scheduler.auth.models import User
from scheduler.calls.models import Area
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.mailing import preferences
from scheduler.registry.models import Application, ApplicationEvent, Contact, ContactKind, Organization

#: More delegates than any entity needs is a typing loop, not an organisation chart.
MAX_EXTRA_CONTACTS = 20


class ContactError(DomainError):
    """A delegate cannot be added or removed as asked; `field` names the form field."""


class ContactNotFound(ContactError):
    """Not a contact of this entity (or none at all): the page answers 404, like any other's object."""

    default_code = "not_found"


@dataclass
class NewContact:
    full_name: str
    email: str
    role: str = ""
    phone: str | None = None
    area_id: int | None = None


def extra_contacts(organization: Organization) -> list[Contact]:
    return [c for c in organization.contacts if c.kind is ContactKind.DELEGATE]


def add_contact(application: Application, data: NewContact, actor: User) -> Contact:
    """A delegate (for one area, or for all) who will receive the entity's announcements."""
    organization = application.organization
    if len(extra_contacts(organization)) >= MAX_EXTRA_CONTACTS:
        raise ContactError(f"Si possono indicare al massimo {MAX_EXTRA_CONTACTS} delegati.")
    if data.area_id is not None:
        own_areas = {a.area_id for a in application.areas}
        if data.area_id not in own_areas:
            raise ContactError("Scegli un'area della candidatura dell'ente.", "area")
    email = data.email.strip()
    if any(c.email.lower() == email.lower() and c.area_id == data.area_id for c in organization.contacts):
        raise ContactError("Questa persona è già tra i contatti dell'ente per quest'area.", "email")
    contact = Contact(organization=organization, kind=ContactKind.DELEGATE, full_name=data.full_name.strip(),
                      role=data.role.strip(), email=email, phone=data.phone or None, area_id=data.area_id)
    db.session.add(contact)
    db.session.add(ApplicationEvent(application=application, actor=actor, action="contact_added",
                                    note=f"Delegato aggiunto{_for_area(data.area_id)}"))
    return contact


def remove_contact(application: Application, contact_id: int, actor: User) -> None:
    """Remove a delegate; the legal representative and the contact person are changed with the application."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.organization_id != application.organization_id:
        raise ContactNotFound("Contatto non trovato.")
    if contact.kind is not ContactKind.DELEGATE:
        raise ContactError("Il legale rappresentante e il referente si cambiano modificando i dati dell'ente.")
    db.session.delete(contact)
    db.session.add(ApplicationEvent(application=application, actor=actor, action="contact_removed",
                                    note=f"Delegato rimosso{_for_area(contact.area_id)}"))


def _for_area(area_id: int | None) -> str:
    if area_id is None:
        return ""
    area = db.session.get(Area, area_id)
    return f" per l'area {area.code}" if area else ""


def addresses_of(organization: Organization, user_email: str | None = None) -> list[str]:
    """Every address the entity is written to at, once each, the signed-in person's first."""
    seen: dict[str, str] = {}
    for email in [user_email, organization.email, *(c.email for c in organization.contacts)]:
        if email and email.strip().lower() not in seen:
            seen[email.strip().lower()] = email.strip()
    return list(seen.values())


def mail_preferences(organization: Organization, user_email: str | None = None) -> dict[str, set[str]]:
    """For each of the entity's addresses, the kinds of optional mail it turned off."""
    addresses = addresses_of(organization, user_email)
    refused = preferences.kinds_refused(addresses)
    return {email: refused.get(email.lower(), set()) for email in addresses}


def save_mail_preferences(organization: Organization, wanted: dict[str, set[str]],
                          user_email: str | None = None) -> int:
    """Apply the choices of the preferences page: `wanted` maps each of the entity's addresses to the kinds it
    wants. Addresses that are not the entity's are ignored. Returns how many choices changed."""
    changed = 0
    for email in addresses_of(organization, user_email):
        kinds = wanted.get(email.lower(), set())
        for kind in preferences.OPTIONAL_KINDS:
            changed += preferences.set_opt_out(email, kind, kind not in kinds, source="area")
    return changed


def areas_of(application: Application) -> list[Area]:
    return list(db.session.scalars(
        sa.select(Area).where(Area.id.in_([a.area_id for a in application.areas])).order_by(Area.code)
    ))
