"""From one call to the next: staff invite the entities admitted to an earlier call, each confirms in one step.

An entity is one organization (its codice fiscale) across calls, with its contacts and accounts; what belongs to
a call is its application. Confirming writes the application to the new call from the earlier one (the areas the
new call also has, the competences, the phases still open) and sends it to review, with its receipt.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from scheduler.audit.services import record
from scheduler.auth.models import User
from scheduler.calls.models import Area, Call
from scheduler.extensions import db
from scheduler.links import public_url
from scheduler.registry import notifications
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationEvent,
    ApplicationStatus,
    CallInvitation,
    Organization,
)
from scheduler.registry.services import RegistryError, assign_protocol, is_late
from scheduler.timeutil import utcnow


def confirm_path(call: Call) -> str:
    return f"/area-riservata/avvisi/{call.slug}/conferma"


def invite_admitted(call: Call, from_call: Call, *, actor: User | None = None) -> list[CallInvitation]:
    """Invite every entity admitted to `from_call` that has neither applied to nor been invited to `call`;
    each is written to (the decision addresses of `registry.recipients`). Inviting again reaches only the new
    ones, so the button can be pressed after more entities were admitted."""
    if from_call.id == call.id:
        raise RegistryError("Scegli un avviso diverso da questo.", "from_call")
    if from_call.ambito_id != call.ambito_id:  # another Ambito's entities are not this office's to invite
        raise RegistryError("Scegli un avviso di questo Ambito.", "from_call")
    if call.is_archived:
        raise RegistryError("L'avviso è archiviato: non si invitano enti.", code="closed")
    applied = sa.select(Application.organization_id).where(Application.call_id == call.id)
    invited = sa.select(CallInvitation.organization_id).where(CallInvitation.call_id == call.id)
    organizations = list(db.session.scalars(
        sa.select(Organization).join(Application, Application.organization_id == Organization.id)
        .where(Application.call_id == from_call.id, Application.status == ApplicationStatus.ADMITTED,
               Organization.erased_at.is_(None), Organization.id.not_in(applied), Organization.id.not_in(invited))
        .order_by(Organization.sort_name, Organization.id)
        .options(selectinload(Organization.contacts), selectinload(Organization.users))
    ))
    invitations = [CallInvitation(call=call, from_call=from_call, organization=o,
                                  invited_by_id=actor.id if actor else None) for o in organizations]
    db.session.add_all(invitations)
    db.session.flush()
    link = public_url(confirm_path(call), call.ambito)
    for invitation in invitations:
        notifications.call_invitation(invitation, link)
    record("call.entities_invited", "call", call.id, actor_id=actor.id if actor else None, call_id=call.id,
           from_call=from_call.id, organizations=[o.id for o in organizations])
    return invitations


def pending_invitation(organization_id: int, call: Call) -> CallInvitation | None:
    """The invitation to `call` the entity has not answered yet."""
    return db.session.scalar(sa.select(CallInvitation).where(
        CallInvitation.call_id == call.id, CallInvitation.organization_id == organization_id,
        CallInvitation.application_id.is_(None)))


def pending_invitations(organization_id: int) -> list[CallInvitation]:
    """The invitations the entity has not answered, to calls still open, newest first."""
    return list(db.session.scalars(
        sa.select(CallInvitation).join(Call, Call.id == CallInvitation.call_id)
        .where(CallInvitation.organization_id == organization_id, CallInvitation.application_id.is_(None),
               Call.archived_at.is_(None))
        .order_by(CallInvitation.id.desc())
        .options(selectinload(CallInvitation.call), selectinload(CallInvitation.from_call))
    ))


def previous_application(invitation: CallInvitation) -> Application | None:
    return db.session.scalar(
        sa.select(Application).where(Application.call_id == invitation.from_call_id,
                                     Application.organization_id == invitation.organization_id)
        .options(selectinload(Application.areas).selectinload(ApplicationArea.area))
    )


def carried_areas(invitation: CallInvitation, previous: Application) -> list[tuple[Area, str]]:
    """The areas of the earlier application that the new call has too (by letter), with their competences."""
    areas = {a.code: a for a in invitation.call.areas}
    return [(areas[item.area.code], item.competence) for item in sorted(previous.areas, key=lambda i: i.area.code)
            if item.area.code in areas]


def confirm(invitation: CallInvitation, user: User) -> Application:
    """The entity confirms: its application to the new call, carried over, goes to review with a receipt."""
    if invitation.application_id is not None:
        raise RegistryError("La partecipazione a questo avviso è già confermata.", code="closed")
    call = invitation.call
    if call.is_archived:
        raise RegistryError("L'avviso è archiviato: non si possono più confermare partecipazioni.", code="closed")
    if db.session.scalar(sa.select(Application.id).where(Application.call_id == call.id,
                                                         Application.organization_id == invitation.organization_id)):
        raise RegistryError("L'ente ha già una candidatura per questo avviso.", code="conflict")
    previous = previous_application(invitation)
    areas = carried_areas(invitation, previous) if previous else []
    if not areas:
        raise RegistryError("Le aree della candidatura precedente non ci sono in questo avviso: presenta una "
                            "nuova candidatura.", code="closed")
    late = is_late(call)
    drafting = bool(previous and previous.wants_drafting and not late)
    implementation = bool(previous and previous.wants_implementation) or not drafting
    now = utcnow()
    with db.session.no_autoflush:  # the application joins the session whole, not through its entity
        application = Application(
            call=call, organization=invitation.organization, status=ApplicationStatus.SUBMITTED,
            submitted_at=now, email_confirmed_at=now, late=late, wants_drafting=drafting,
            wants_implementation=implementation,
            areas=[ApplicationArea(area=area, competence=competence) for area, competence in areas],
            events=[ApplicationEvent(action="submitted", actor=user, at=now,
                                     note=f"Partecipazione confermata dall'avviso «{invitation.from_call.title}».")],
        )
        db.session.add(application)
    db.session.flush()
    invitation.application = application
    assign_protocol(application)
    notifications.receipt(application)
    record("application.carried_over", "application", application.id, actor_id=user.id, call_id=call.id,
           from_call=invitation.from_call_id, organization=invitation.organization_id)
    return application
