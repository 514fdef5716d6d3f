"""Which optional mail each address receives: unsubscribe links, the entity's choices, bounced addresses.

Service mail (sign-in links, receipts, invitations and their updates) is always sent: it is how the service
works. Optional mail (announcements, reminders, follow-ups after a meeting) carries a `List-Unsubscribe`
link (RFC 2369, one-click per RFC 8058) and is not written for an address that opted out of its kind.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from scheduler.extensions import db
from scheduler.links import public_url
from scheduler.mailing.models import MailBounce, MailOptOut
from scheduler.timeutil import utcnow

#: The kinds of optional mail an entity can turn off, as shown on its preferences page.
OPTIONAL_KINDS = {
    "announcements": _l("Comunicazioni dell'Ufficio di Piano"),
    "reminders": _l("Promemoria due giorni prima degli incontri"),
    "follow-ups": _l("Avvisi dopo un incontro a cui l'ente non ha partecipato"),
}

#: Which kind each optional topic belongs to.
TOPIC_KINDS = {
    "announcement": "announcements",
    "reminder": "reminders",
    "absent-notice": "follow-ups",
}

_SALT = "tavoli-unsubscribe"


def kind_of(topic: str) -> str:
    """The preference an optional message falls under; an unknown topic counts as an announcement."""
    return TOPIC_KINDS.get(topic, "announcements")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(email: str, kind: str) -> str:
    """Signed, not stored: the link in a message from last year still works, and cannot be forged."""
    return _serializer().dumps([email.strip().lower(), kind])


def read_unsubscribe_token(token: str) -> tuple[str, str] | None:
    """The address and kind of a link, or None when it was altered or is not ours."""
    try:
        email, kind = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(email, str) or kind not in OPTIONAL_KINDS:
        return None
    return email, kind


def unsubscribe_url(email: str, kind: str) -> str:
    return public_url(f"/email/disiscrizione/{unsubscribe_token(email, kind)}")


def unsubscribe_headers(email: str, kind: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers: mail clients show an "unsubscribe" button that needs no sign-in."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(email, kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def opted_out(emails: Iterable[str], kind: str) -> set[str]:
    """Which of these addresses (lower case) do not want this kind of mail; one query for any number."""
    wanted = {e.strip().lower() for e in emails if e}
    if not wanted:
        return set()
    return set(db.session.scalars(
        sa.select(MailOptOut.email).where(MailOptOut.kind == kind, MailOptOut.email.in_(wanted))
    ))


def kinds_refused(emails: Iterable[str]) -> dict[str, set[str]]:
    """For each address, the kinds it turned off."""
    wanted = {e.strip().lower() for e in emails if e}
    result: dict[str, set[str]] = {e: set() for e in wanted}
    if wanted:
        for email, kind in db.session.execute(
            sa.select(MailOptOut.email, MailOptOut.kind).where(MailOptOut.email.in_(wanted))
        ):
            result.setdefault(email, set()).add(kind)
    return result


def set_opt_out(email: str, kind: str, refused: bool, *, source: str = "link") -> bool:
    """Turn one kind off (or back on) for one address; returns whether anything changed."""
    if kind not in OPTIONAL_KINDS:
        raise ValueError(f"unknown kind of optional mail: {kind!r}")
    email = email.strip().lower()
    row = db.session.scalar(sa.select(MailOptOut).where(MailOptOut.email == email, MailOptOut.kind == kind))
    if refused and row is None:
        db.session.add(MailOptOut(email=email, kind=kind, source=source))
        return True
    if not refused and row is not None:
        db.session.delete(row)
        return True
    return False


def record_bounce(email: str, error: str) -> None:
    """Remember that the server refused this address, so staff see it the next time they write to it."""
    email = email.strip().lower()
    row = db.session.scalar(sa.select(MailBounce).where(MailBounce.email == email))
    if row is None:
        db.session.add(MailBounce(email=email, error=error[:1000], bounced_at=utcnow()))
    else:
        row.error, row.count, row.bounced_at = error[:1000], row.count + 1, utcnow()


def forget_bounces(emails: Iterable[str]) -> None:
    """Messages reached these addresses after all: they are no longer flagged."""
    wanted = {e.strip().lower() for e in emails if e}
    if wanted:
        db.session.execute(sa.delete(MailBounce).where(MailBounce.email.in_(wanted)))


def bounces_of(emails: Iterable[str]) -> dict[str, MailBounce]:
    wanted = {e.strip().lower() for e in emails if e}
    if not wanted:
        return {}
    return {b.email: b for b in db.session.scalars(sa.select(MailBounce).where(MailBounce.email.in_(wanted)))}
