"""E-mails the registry decides to send; each writes outbox rows in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

from scheduler.auth.models import User
from scheduler.auth.services import issue_login_token, login_link_url
from scheduler.links import public_url
from scheduler.mailing.services import enqueue, render_mail
from scheduler.registry.labels import STATUS_LABELS, register_label
from scheduler.registry.models import Application
from scheduler.registry.recipients import Purpose, addresses

#: How long the link that confirms an application's e-mail address works.
CONFIRMATION_TTL = timedelta(days=3)


def _send(application: Application, template: str, subject: str, topic: str, *, first_only: bool = False,
          **context) -> None:
    context.update(
        application=application, organization=application.organization, call=application.call,
        status_label=STATUS_LABELS[application.status], register_label=register_label,
        area_url=public_url("/area-riservata"),
    )
    text, html = render_mail(template, **context)
    recipients = addresses(application.organization, Purpose.DECISION)
    for address in recipients[:1] if first_only else recipients:
        enqueue(to=address.email, to_name=address.name, subject=subject, text=text, html=html, topic=topic)


def confirm_email(application: Application, user: User) -> None:
    token = issue_login_token(user, f"/candidatura/{application.id}/conferma", ttl=CONFIRMATION_TTL)
    text, html = render_mail(
        "registry_confirm", application=application, organization=application.organization,
        call=application.call, link=login_link_url(token), days=CONFIRMATION_TTL.days,
    )
    enqueue(to=user.email, to_name=user.full_name, subject="Conferma la tua manifestazione di interesse",
            text=text, html=html, topic="application-confirm")


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
