"""What the adhesions hold about an entity's people (the legal representative named), for the GDPR export and
erasure that the registry runs through `scheduler.hooks`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from scheduler.agreements.models import AgreementAdhesion, AgreementInvitation
from scheduler.extensions import db
from scheduler.hooks import personal_data_erased, personal_data_requested
from scheduler.registry.models import Organization
from scheduler.timeutil import iso

#: What an adhesion shows in place of an erased person's name.
ERASED_NAME = "(dato cancellato)"


def _adhesions_of(organization: Organization) -> list[AgreementAdhesion]:
    return list(db.session.scalars(
        sa.select(AgreementAdhesion).join(AgreementInvitation)
        .where(AgreementInvitation.organization_id == organization.id)
        .options(sa.orm.joinedload(AgreementAdhesion.invitation).joinedload(AgreementInvitation.agreement))
        .order_by(AgreementAdhesion.adhered_at)
    ))


@personal_data_requested.connect
def export_adhesions(organization: Organization) -> tuple[str, list[dict[str, Any]]]:
    """The entity's adhesions to Accordi di Programma, with the person named as legal representative."""
    return "adesioni_accordi", [
        {"accordo": a.invitation.agreement.title, "data": iso(a.adhered_at), "legale_rappresentante": a.signatory_name,
         "ruolo": a.signatory_role, "adesione_firmata": a.signed_filename, "annullata_il": iso(a.annulled_at),
         "motivo_annullamento": a.annul_reason or None}
        for a in _adhesions_of(organization)
    ]


@personal_data_erased.connect
def erase_signatory_names(organization: Organization) -> None:
    """The adhesion stays (a formal act of the procedure, like the registers); the typed name and role go. The
    signed PDF, when there is one, is the act itself and is kept, as the scanned signed registers are."""
    for adhesion in _adhesions_of(organization):
        adhesion.signatory_name = ERASED_NAME
        adhesion.signatory_role = ""
