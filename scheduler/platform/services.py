"""Opening an Ambito: the Ambito, its first office account and the e-mail that lets that person in, in one
transaction (the caller commits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler.audit.services import record
from scheduler.auth import services as auth
from scheduler.auth.models import Role, User
from scheduler.calls.ambiti import AmbitoError, create_ambito
from scheduler.calls.models import Ambito


@dataclass
class Opened:
    ambito: Ambito
    staff: User


def open_ambito(settings: dict[str, Any], *, slug: str, host: str | None, staff_email: str, staff_name: str,
                actor_id: int | None) -> Opened:
    """A new Ambito and its first staff member, who gets the link to choose a password by e-mail. A refusal is one
    AmbitoError naming its field (an address already in use included), and nothing is written."""
    try:
        address = auth.normalize_email(staff_email)
    except auth.AuthError:
        raise AmbitoError("Indirizzo e-mail non valido.", field="staff_email", code="invalid") from None
    if auth.find_user(address) is not None:
        raise AmbitoError("Questo indirizzo ha già un account: indicane un altro.", field="staff_email",
                          code="conflict")
    ambito = create_ambito(slug, host=host or None, actor_id=actor_id, **settings)
    staff, _generated = auth.create_staff(address, Role.STAFF, None, staff_name, ambito=ambito)
    auth.invite_staff(staff)
    record("ambito.opened", "ambito", ambito.id, actor_id=actor_id, staff=staff.id)
    return Opened(ambito, staff)
