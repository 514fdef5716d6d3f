"""E-mails about the Accordo di Programma; each writes outbox rows in the caller's transaction.

Who receives them is `registry.recipients`' DECISION rule (the contact person, then the legal representative):
the request to adhere is a formal step of the procedure, like an admission, and it is the legal representative
who signs. Service mail: nobody can unsubscribe from it. Each function returns how many messages it wrote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler.formatting import format_instant, format_long_date
from scheduler.links import public_url
from scheduler.mailing.services import enqueue, render_mail
from scheduler.registry.recipients import Purpose, addresses

if TYPE_CHECKING:
    from scheduler.agreements.models import Agreement, AgreementAdhesion, AgreementInvitation


def entity_path(agreement: Agreement) -> str:
    """Where the entity adheres, in its reserved area."""
    return f"/area-riservata/accordi/{agreement.id}"


def _write(agreement: Agreement, invitation: AgreementInvitation, template: str, subject: str, topic: str,
           **context) -> int:
    organization = invitation.organization
    context.update(agreement=agreement, organization=organization, call=agreement.call,
                   link=public_url(entity_path(agreement), agreement.call.ambito),
                   closes_on=format_long_date(agreement.closes_on))
    written = 0
    for address in addresses(organization, Purpose.DECISION):
        text, html = render_mail(template, recipient_name=address.name, **context)
        if enqueue(to=address.email, to_name=address.name, subject=subject, text=text, html=html,
                   topic=topic, ambito=agreement.call.ambito) is not None:
            written += 1
    return written


def asked_to_adhere(agreement: Agreement, invitation: AgreementInvitation) -> int:
    """The Accordo is open: the entity is asked to adhere before the deadline."""
    return _write(agreement, invitation, "agreement_request", f"Adesione all'Accordo di Programma: {agreement.title}",
                  "agreement-request", reminder=False)


def reminder(agreement: Agreement, invitation: AgreementInvitation) -> int:
    """The entity has not adhered yet: the same request, as a reminder."""
    return _write(agreement, invitation, "agreement_request",
                  f"Promemoria: adesione all'Accordo di Programma entro il {format_long_date(agreement.closes_on)}",
                  "agreement-reminder", reminder=True)


def adhesion_receipt(agreement: Agreement, invitation: AgreementInvitation, adhesion: AgreementAdhesion) -> int:
    """The receipt of the adhesion: what was recorded, and when."""
    return _write(agreement, invitation, "agreement_receipt", f"Adesione registrata: {agreement.title}",
                  "agreement-receipt", adhesion=adhesion, adhered_at=format_instant(adhesion.adhered_at))


def adhesion_annulled(agreement: Agreement, invitation: AgreementInvitation, adhesion: AgreementAdhesion) -> int:
    """Staff annulled the adhesion: why, and whether the entity can adhere again."""
    return _write(agreement, invitation, "agreement_annulled", f"Adesione annullata: {agreement.title}",
                  "agreement-annulled", adhesion=adhesion, adhered_at=format_instant(adhesion.adhered_at),
                  can_adhere_again=not agreement.is_closed())
