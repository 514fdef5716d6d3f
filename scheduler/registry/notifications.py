"""E-mails the registry decides to send; each writes outbox rows in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from scheduler.auth.models import User
from scheduler.auth.services import issue_login_token, login_link_url
from scheduler.links import public_url
from scheduler.mailing.services import enqueue, render_mail
from scheduler.registry.labels import STATUS_LABELS, register_label
from scheduler.registry.models import Application, CallInvitation, Contact
from scheduler.registry.recipients import Purpose, addresses

#: How long the link that confirms an application's e-mail address works.
CONFIRMATION_TTL = timedelta(days=3)
#: How long the link that confirms a delegate's address works.
DELEGATE_CONFIRMATION_TTL = timedelta(days=7)
_DELEGATE_SALT = "tavoli.delegate-confirmation.v1"


def _delegate_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DELEGATE_SALT)


def delegate_token(contact: Contact) -> str:
    """Signed, not stored: names the contact and the address it was sent to, so a changed address voids it."""
    return _delegate_serializer().dumps([contact.id, contact.email.strip().lower()])


def read_delegate_token(token: str) -> tuple[int, str] | None:
    """The contact id and address of a confirmation link still within its days, or None."""
    if not token or len(token) > 300:
        return None
    try:
        contact_id, email = _delegate_serializer().loads(token, max_age=int(DELEGATE_CONFIRMATION_TTL.total_seconds()))
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(contact_id, int) or not isinstance(email, str):
        return None
    return contact_id, email


def delegate_confirmation(contact: Contact, application: Application) -> None:
    """Ask the person named as a delegate whether the address is theirs and they speak for the entity."""
    link = public_url(f"/contatti/conferma/{delegate_token(contact)}", application.call.ambito)
    text, html = render_mail("delegate_confirm", contact=contact, organization=contact.organization,
                             call=application.call, link=link, days=DELEGATE_CONFIRMATION_TTL.days)
    enqueue(to=contact.email, to_name=contact.full_name, subject="Conferma di essere delegato dell'ente",
            text=text, html=html, topic="delegate-confirm", ambito=application.call.ambito)


def _send(application: Application, template: str, subject: str, topic: str, *, first_only: bool = False,
          **context) -> None:
    context.update(
        application=application, organization=application.organization, call=application.call,
        status_label=STATUS_LABELS[application.status], register_label=register_label,
        area_url=public_url("/area-riservata", application.call.ambito),
    )
    recipients = addresses(application.organization, Purpose.DECISION)
    for address in recipients[:1] if first_only else recipients:
        text, html = render_mail(template, recipient_name=address.name, **context)
        enqueue(to=address.email, to_name=address.name, subject=subject, text=text, html=html, topic=topic,
                ambito=application.call.ambito)


def confirm_email(application: Application, user: User) -> None:
    token = issue_login_token(user, f"/candidatura/{application.id}/conferma", ttl=CONFIRMATION_TTL,
                              organization=application.organization)
    text, html = render_mail(
        "registry_confirm", recipient_name=user.full_name, application=application,
        organization=application.organization,
        call=application.call, link=login_link_url(token, application.call.ambito), days=CONFIRMATION_TTL.days,
    )
    enqueue(to=user.email, to_name=user.full_name, subject="Conferma la tua manifestazione di interesse",
            text=text, html=html, topic="application-confirm", ambito=application.call.ambito)


def receipt(application: Application) -> None:
    _send(application, "registry_receipt",
          f"Ricevuta della manifestazione di interesse n. {application.protocol}", "application-receipt")


def admitted(application: Application) -> None:
    _send(application, "registry_decision", f"Candidatura {application.protocol}: ammessa", "application-admitted")


def rejected(application: Application) -> None:
    _send(application, "registry_decision", f"Candidatura {application.protocol}: non ammessa",
          "application-rejected")


def info_requested(application: Application) -> None:
    _send(application, "registry_decision", f"Candidatura {application.protocol}: richiesta di integrazioni",
          "application-info")


def withdrawn(application: Application) -> None:
    _send(application, "registry_decision", f"Candidatura {application.protocol or ''}: ritirata",
          "application-withdrawn")


def call_invitation(invitation: CallInvitation, link: str) -> None:
    """Ask an entity admitted to an earlier call to confirm its participation in this one (one step, signed in)."""
    call = invitation.call
    for address in addresses(invitation.organization, Purpose.DECISION):
        text, html = render_mail("call_invitation", recipient_name=address.name, call=call,
                                 from_call=invitation.from_call, organization=invitation.organization, link=link)
        enqueue(to=address.email, to_name=address.name, subject=f"Conferma la partecipazione: {call.title}",
                text=text, html=html, topic="call-invitation", ambito=call.ambito)


def amendment_decided(application: Application, *, accepted: bool, described: str, reason: str) -> None:
    """Staff accepted or refused what an admitted entity asked to add."""
    _send(application, "registry_amendment",
          f"Candidatura {application.protocol}: modifica {'accolta' if accepted else 'non accolta'}",
          "application-amendment", accepted=accepted, described=described, reason=reason)
