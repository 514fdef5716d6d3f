"""Deciding to send mail: rows in the outbox, written in the caller's transaction.

Nothing here talks to an SMTP server; the worker does that. A service that changes something and wants
people told calls `enqueue()` before its commit, so the change and its messages land together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import sqlalchemy as sa
from flask import current_app, render_template

from scheduler.extensions import db
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
) -> OutboxMessage:
    """Add one message to the outbox in the current transaction (the caller commits)."""
    if (ics is None) != (ics_method is None):
        raise ValueError("ics and ics_method go together")
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
        headers=dict(headers or {}),
        attachments=list(attachments or []),
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


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


def count_by_status() -> dict[OutboxStatus, int]:
    """How many messages are in each state: the worker's summary and the staff page's filter."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    ).all()
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts
