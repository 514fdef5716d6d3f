"""Deciding to send mail: rows in the outbox, written in the caller's transaction.

Nothing here talks to an SMTP server; the worker does that. A service that changes something and wants
people told calls `enqueue()` before its commit, so the change and its messages land together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from email import policy
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from markupsafe import Markup

from scheduler.extensions import db
from scheduler.logredact import has_secret_path, redact_secret_paths
from scheduler.mailing import preferences
from scheduler.mailing.delivery import parse_message, sender_address
from scheduler.mailing.models import MailCategory, OutboxMessage, OutboxStatus
from scheduler.timeutil import utcnow


def new_message_id() -> str:
    """A Message-ID made once per outbox row; the domain is the sender's, so replies thread correctly.

    A random UUID keeps it unique across machines and short enough that the header is not folded
    (`Message-ID: <32 hex@domain>` fits in 78 characters for domains up to 31), which some parsers mishandle.
    """
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or "tavoli@localhost"
    if isinstance(sender, tuple | list):
        sender = sender[1]
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def enqueue(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    to_name: str = "",
    ics: str | None = None,
    ics_method: str | None = None,
    category: MailCategory = MailCategory.SERVICE,
    topic: str = "",
    headers: Mapping[str, str] | None = None,
    attachments: list[dict[str, str]] | None = None,
    announcement_id: int | None = None,
    refused: Collection[str] | None = None,
    ambito: Any = None,
) -> OutboxMessage | None:
    """Add one message to the outbox in the current transaction (the caller commits).

    Optional mail is not written for an address that turned its kind off (returns None), and otherwise
    carries an unsubscribe link in its headers and at the foot of both bodies; service mail never does.
    A caller writing to many addresses passes `refused`, the addresses (lower case) it already read as opted
    out of this kind, so that hundreds of messages do not ask one by one. `ambito` (an Ambito) is whose the
    message is: its office's outbox lists it, and it leaves from the Ambito's sender when it has one.
    """
    if (ics is None) != (ics_method is None):
        raise ValueError("ics and ics_method go together")
    headers = dict(headers or {})
    if category is MailCategory.OPTIONAL:
        kind = preferences.kind_of(topic)
        if (to.strip().lower() in refused) if refused is not None else preferences.opted_out([to], kind):
            return None
        headers.update(preferences.unsubscribe_headers(to, kind))
        text, html = with_unsubscribe_footer(text, html, preferences.unsubscribe_url(to, kind))
    elif html:
        html = html.replace(UNSUBSCRIBE_MARK, "")
    message = OutboxMessage(
        message_id=new_message_id(),
        to_address=to.strip(),
        to_name=to_name,
        subject=" ".join(subject.split()),  # no header injection through line breaks
        body_text=text,
        body_html=html,
        ics=ics,
        ics_method=ics_method.upper() if ics_method else None,
        category=category,
        topic=topic,
        headers=headers,
        attachments=list(attachments or []),
        next_attempt_at=utcnow(),
        announcement_id=announcement_id,
        ambito_id=getattr(ambito, "id", None),
        sender=getattr(ambito, "mail_sender", None) or None,
    )
    db.session.add(message)
    return message


#: Where the layout of HTML mail takes the unsubscribe line of optional messages.
UNSUBSCRIBE_MARK = "<!--tavoli:unsubscribe-->"


def with_unsubscribe_footer(text: str, html: str | None, url: str) -> tuple[str, str | None]:
    """Both bodies with the line that lets the reader stop this kind of message."""
    # Mail is written in Italian whatever language the sender's screen is in, like the templates.
    text = f"{text.rstrip()}\n\n--\nNon vuoi più ricevere messaggi di questo tipo? Disiscriviti: {url}\n"
    if html:
        link = Markup('<p style="margin:8px 0 0;">Non vuoi più ricevere messaggi di questo tipo? '
                      '<a href="{}" style="color:#0066cc;">Disiscriviti</a></p>').format(url)
        html = html.replace(UNSUBSCRIBE_MARK, str(link)) if UNSUBSCRIBE_MARK in html else html + str(link)
    return text, html


def render_mail(name: str, **context) -> tuple[str, str]:
    """The plain-text and HTML bodies of `templates/email/<name>.txt|.html` (HTML autoescaped)."""
    return (
        render_template(f"email/{name}.txt", **context),
        render_template(f"email/{name}.html", **context),
    )


def requeue(message: OutboxMessage) -> None:
    """Put a message back in the queue now (staff's "retry"); its attempts and their history are kept."""
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = utcnow()
    message.claimed_by = None
    message.claimed_at = None


def count_by_status(ambito_id: int | None = None, *, every_ambito: bool = False) -> dict[OutboxStatus, int]:
    """How many messages are in each state: the worker's summary (`every_ambito`) and the staff page's filter (the
    messages of Ambito `ambito_id`)."""
    query = sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    if not every_ambito:
        query = query.where(OutboxMessage.ambito_id == ambito_id)
    rows = db.session.execute(query).all()
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


#: What staff read when the sender is not the organizer (Italian, like the rest of the mail).
SENDER_WARNING = (
    "le e-mail partono da {sender}, ma gli inviti indicano come organizzatore {organizer}: le risposte dei "
    "calendari (Accetta, Rifiuta) vanno a {organizer}, e alcuni programmi segnalano un invito il cui mittente non "
    "è l'organizzatore. Imposta MAIL_DEFAULT_SENDER all'indirizzo dell'ufficio, o l'indirizzo dell'ufficio "
    "nell'avviso uguale al mittente."
)


def sender_mismatch(organizer_email: str) -> str | None:
    """The configured sender's address when it is not the invitations' ORGANIZER (the office's mailbox), else None.

    Calendar apps send Accept and Decline to the ORGANIZER, and some (Outlook, Gmail) flag an invitation whose
    sender is not its organizer: staff are told where they plan the calendar and when the call is loaded.
    """
    sender = sender_address(current_app.config.get("MAIL_DEFAULT_SENDER")).addr_spec
    if organizer_email and sender.strip().lower() != organizer_email.strip().lower():
        return sender
    return None


#: What staff read in place of a secret link's token.
REDACTED = "[riservato]"


def redacted(text: str | None) -> str:
    """The text as staff may read it: every link that acts for someone with its token replaced."""
    return redact_secret_paths(text or "", REDACTED)


def redacted_message(raw: bytes) -> bytes:
    """A built message with its secret links replaced (the staff's .eml download): the text and HTML parts and
    the headers (List-Unsubscribe). Only the recipient's mailbox, and the development .eml files, hold them."""
    message = parse_message(raw)
    for name, value in list(message.items()):
        if has_secret_path(str(value)):
            message.replace_header(name, redacted(str(value)))
    for part in message.walk():
        if part.get_content_maintype() == "text" and part.get_content_subtype() in ("plain", "html"):
            text = part.get_content()
            if has_secret_path(text):
                part.set_content(redacted(text), subtype=part.get_content_subtype(), charset="utf-8")
    return message.as_bytes(policy=policy.SMTP)
