"""The entity's people beyond the two of the application: delegates for an area and further contacts.

Announcements reach an entity through its contact person and these people (a delegate for one area only
hears about that area); the legal representative and the contact person are changed with the application.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from scheduler.auth.models import User
from scheduler.bounds import valid_id
from scheduler.calls.models import Area
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.mailing import preferences
from scheduler.registry import notifications
from scheduler.registry.models import Application, ApplicationEvent, Contact, ContactKind, Organization
from scheduler.timeutil import utcnow

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
                                    note=f"Delegato aggiunto{_for_area(data.area_id)}, in attesa di conferma"))
    db.session.flush()
    notifications.delegate_confirmation(contact, application)
    return contact


def resend_confirmation(application: Application, contact_id: int) -> Contact:
    """Send the confirmation again to a delegate who has not opened it (lost, or expired)."""
    contact = _delegate_of(application, contact_id)
    if contact.confirmed_at is not None:
        raise ContactError("Il delegato ha già confermato il suo indirizzo.", code="closed")
    notifications.delegate_confirmation(contact, application)
    return contact


def _delegate_of(application: Application, contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id) if valid_id(contact_id) else None
    if contact is None or contact.organization_id != application.organization_id:
        raise ContactNotFound("Contatto non trovato.")
    if contact.kind is not ContactKind.DELEGATE:
        raise ContactError("Il legale rappresentante e il referente si cambiano modificando i dati dell'ente.")
    return contact


def pending_confirmation(token: str) -> Contact:
    """The delegate a confirmation link is for, still unconfirmed, at the address it was sent to."""
    found = notifications.read_delegate_token(token)
    contact = db.session.get(Contact, found[0]) if found and valid_id(found[0]) else None
    if contact is None or found is None or contact.email.strip().lower() != found[1] \
            or contact.organization.erased_at is not None:
        raise ContactNotFound("Il collegamento di conferma non è valido o è scaduto.")
    return contact


def confirm_delegate(token: str) -> Contact:
    """The person confirmed the address is theirs: from now on it is one of the entity's."""
    contact = pending_confirmation(token)
    if contact.confirmed_at is None:
        contact.confirmed_at = utcnow()
        application = next((a for a in contact.organization.applications), None)
        if application is not None:
            db.session.add(ApplicationEvent(application=application, actor=None, action="contact_confirmed",
                                            note=f"Delegato confermato{_for_area(contact.area_id)}"))
    return contact


def remove_contact(application: Application, contact_id: int, actor: User) -> None:
    """Remove a delegate; the legal representative and the contact person are changed with the application."""
    contact = _delegate_of(application, contact_id)
    db.session.delete(contact)
    db.session.add(ApplicationEvent(application=application, actor=actor, action="contact_removed",
                                    note=f"Delegato rimosso{_for_area(contact.area_id)}"))


def _for_area(area_id: int | None) -> str:
    if area_id is None:
        return ""
    area = db.session.get(Area, area_id)
    return f" per l'area {area.code}" if area else ""


def addresses_of(organization: Organization, user_email: str | None = None) -> list[str]:
    """The addresses whose optional mail the entity chooses, once each, the signed-in person's first: the
    signed-in person's own and the delegates who confirmed theirs. An opt-out belongs to an address, which may
    also receive another entity's mail: only an address proved to be the entity's is the entity's to set."""
    seen: dict[str, str] = {}
    confirmed = [c.email for c in organization.contacts
                 if c.kind is ContactKind.DELEGATE and c.confirmed_at is not None]
    for email in [user_email, *confirmed]:
        if email and email.strip().lower() not in seen:
            seen[email.strip().lower()] = email.strip()
    return list(seen.values())


def others_of(organization: Organization, user_email: str | None = None) -> list[str]:
    """The entity's other addresses: their owners choose with the link at the foot of each message."""
    own = {e.lower() for e in addresses_of(organization, user_email)}
    seen: dict[str, str] = {}
    for email in [organization.email, *(c.email for c in organization.contacts)]:
        if email and email.strip().lower() not in own and email.strip().lower() not in seen:
            seen[email.strip().lower()] = email.strip()
    return list(seen.values())


def every_address(organization: Organization) -> list[str]:
    """Every address the entity is written to at (its data export, its erasure)."""
    return addresses_of(organization) + others_of(organization)


def mail_preferences(organization: Organization, user_email: str | None = None, *,
                     every: bool = False) -> dict[str, set[str]]:
    """For each address the entity chooses for (`every`: each of its addresses), the kinds of optional mail it
    turned off."""
    addresses = every_address(organization) if every else addresses_of(organization, user_email)
    refused = preferences.kinds_refused(addresses)
    return {email: refused.get(email.lower(), set()) for email in addresses}


def save_mail_preferences(organization: Organization, wanted: dict[str, set[str]],
                          user_email: str | None = None) -> int:
    """Apply the choices of the preferences page: `wanted` maps each address the entity chooses for to the
    kinds it wants. Any other address is ignored. Returns how many choices changed."""
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
