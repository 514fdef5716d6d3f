"""Which addresses receive an entity's mail, for each purpose: the one place that decides it.

Every feature that writes to an entity asks here (`addresses`, or `Directory` for many entities at once) and
never picks addresses itself:

- INVITATION (a meeting's invitation after an answer, a promotion from the waiting list), REMINDER (two days
  before a meeting the entity will attend) and FOLLOW_UP (after a meeting it missed): the person who answered,
  else the contact person, else the entity's address.
- ANNOUNCEMENT (the office's messages): the contact person and the delegates (a delegate for one area only hears
  about that area); with `all_contacts` also the legal representative and the entity's address; for a meeting,
  also the person who answered yes or waits.
- DECISION (receipt, admission, refusal, requests for information; the request to adhere to the Accordo di
  Programma, its reminders and receipts, which the legal representative signs): the contact person, then the
  legal representative.
- SIGN_IN: the account's own address, never anyone else's.

Updates and cancellations of a meeting are not chosen here again: they go to every address that holds the
event (`calendar.copies`), which were chosen by this module when the invitation was sent.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.auth.services import entity_account
from scheduler.extensions import db
from scheduler.registry.models import Contact, ContactKind, Organization


class Purpose(enum.Enum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    FOLLOW_UP = "follow-up"
    ANNOUNCEMENT = "announcement"
    DECISION = "decision"
    SIGN_IN = "sign-in"


@dataclass(frozen=True)
class Address:
    """One address to write to, the person's name, and the entity it is written to for (None: a user)."""

    email: str
    name: str
    organization: Organization | None = None

    @property
    def key(self) -> str:
        return self.email.strip().lower()


def _unique(addresses: Iterable[Address]) -> list[Address]:
    seen: dict[str, Address] = {}
    for address in addresses:
        if address.email and address.email.strip() and address.key not in seen:
            seen[address.key] = Address(address.email.strip(), address.name, address.organization)
    return list(seen.values())


def answerer_address(user: User | None, organization: Organization) -> Address | None:
    """The person who answered for the entity, when they still have an active entity account."""
    if user is None or not user.active or user.role is not Role.ENTITY:
        return None
    return Address(user.email, user.full_name or organization.name, organization)


def confirmed(contact: Contact) -> bool:
    """A delegate's address is the entity's once its owner confirmed it; the application's two people are the
    entity's own (reviewed by staff)."""
    return contact.kind is not ContactKind.DELEGATE or contact.confirmed_at is not None


def _contact_person(organization: Organization) -> list[Address]:
    return [Address(c.email, c.full_name or organization.name, organization)
            for c in organization.contacts if c.kind is ContactKind.CONTACT and c.email]


def _fallback(organization: Organization) -> list[Address]:
    return [Address(organization.email, organization.name, organization)] if organization.email else []


def addresses(organization: Organization, purpose: Purpose, *, answered_by: User | None = None,
              area_ids: set[int] | None = None, all_contacts: bool = False) -> list[Address]:
    """The addresses that receive this entity's mail for `purpose`, each once, the most direct first.

    `answered_by` is the person who answered a meeting for the entity (INVITATION, FOLLOW_UP, and ANNOUNCEMENT
    about a meeting the entity holds); `area_ids` the areas an announcement is about (None: all of them).
    The entity's contacts are read from `organization.contacts` (load them together for many entities).
    """
    if organization.erased_at is not None:
        return []
    answerer = answerer_address(answered_by, organization)
    if purpose in (Purpose.INVITATION, Purpose.REMINDER, Purpose.FOLLOW_UP):
        found = [answerer] if answerer else (_contact_person(organization)[:1] or _fallback(organization))
    elif purpose is Purpose.DECISION:
        people = sorted(organization.contacts, key=lambda c: c.kind is not ContactKind.CONTACT)
        found = [Address(c.email, c.full_name, organization) for c in people
                 if c.kind in (ContactKind.CONTACT, ContactKind.LEGAL_REPRESENTATIVE)] or _fallback(organization)
    elif purpose is Purpose.ANNOUNCEMENT:
        found = [answerer] if answerer else []
        for contact in organization.contacts:
            if contact.kind is ContactKind.CONTACT or (contact.kind is ContactKind.DELEGATE and confirmed(contact) and (
                contact.area_id is None or area_ids is None or contact.area_id in area_ids
            )):
                found.append(Address(contact.email, contact.full_name or organization.name, organization))
        if all_contacts:
            found += [Address(c.email, c.full_name or organization.name, organization)
                      for c in organization.contacts if c.kind is ContactKind.LEGAL_REPRESENTATIVE]
            found += _fallback(organization)
        if not found:
            found = _fallback(organization)
    else:
        raise ValueError(f"{purpose} is not written to an entity")
    return _unique(found)


def speaks_for(organization: Organization, email: str) -> bool:
    """Whether the address is still one of the entity's own: a contact's (a delegate's once confirmed), the
    entity's, or an active account of the entity. A link sent to an address that was replaced stops working."""
    key = email.strip().lower()
    if not key or organization.erased_at is not None:
        return False
    if (organization.email or "").strip().lower() == key:
        return True
    if any(c.email and c.email.strip().lower() == key and confirmed(c) for c in organization.contacts):
        return True
    return entity_account(organization.id, key) is not None


def user_address(user: User) -> Address:
    """SIGN_IN: a sign-in link goes to the account's own address only."""
    return Address(user.email, user.full_name or user.email, None)


class Directory:
    """The accounts that answered for many entities, loaded in one query, so that choosing the addresses of
    hundreds of entities does not look each person up on its own (their contacts come with the entities)."""

    def __init__(self, user_ids: Iterable[int | None]) -> None:
        ids = {i for i in user_ids if i}
        self.users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}

    def user(self, user_id: int | None) -> User | None:
        return self.users.get(user_id) if user_id else None

    def addresses(self, organization: Organization, purpose: Purpose, *, answered_by_id: int | None = None,
                  area_ids: set[int] | None = None, all_contacts: bool = False) -> list[Address]:
        return addresses(organization, purpose, answered_by=self.user(answered_by_id), area_ids=area_ids,
                         all_contacts=all_contacts)
