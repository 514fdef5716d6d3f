"""Shared pieces of the outbox tests: a sample invite, queueing a message, signing in, the CSRF token."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import Flask

from scheduler import timeutil
from scheduler.calls.ambiti import default_ambito
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.mailing.services import enqueue

SUBJECT = "Incontro di mercoledì"
RECIPIENT = "referente@ente-esempio.it"
RECIPIENT_NAME = "Associazione Età Libera"

#: A small iTIP request, shaped like the ones the calendar feature sends.
INVITE = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Tavoli//Test//IT",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        "UID:meeting-1@tavoli.test",
        "SEQUENCE:0",
        "DTSTAMP:20240501T080000Z",
        "DTSTART:20240515T073000Z",
        "DTEND:20240515T110000Z",
        "SUMMARY:Area A - Minori e Famiglia: primo incontro",
        "ORGANIZER;CN=Ufficio di Piano:mailto:noreply@tavoli.localhost",
        f"ATTENDEE;CN=Referente;RSVP=TRUE:mailto:{RECIPIENT}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


def queue(app: Flask, **overrides) -> int:
    """Write one message to the outbox and commit, as a service would; returns its id."""
    values = {
        "to": RECIPIENT,
        "to_name": RECIPIENT_NAME,
        "subject": SUBJECT,
        "text": "Buongiorno,\nl'incontro è confermato.\n",
        "html": "<p>Buongiorno,</p><p>l'incontro è confermato.</p>",
        "topic": "invite",
    }
    values.update(overrides)
    with app.app_context():
        values.setdefault("ambito", default_ambito())  # the office's own mail (the Crema Ambito, when there is one)
        message = enqueue(**values)
        db.session.commit()
        return message.id


def load(app: Flask, message_id: int) -> OutboxMessage:
    """A fresh copy of a row, with its attempts loaded, detached for assertions."""
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        assert row is not None
        _ = list(row.delivery_attempts)
        db.session.expunge_all()
        return row


def move_clock(monkeypatch, by: timedelta) -> datetime:
    """Make `utcnow()` return a later instant (from now on); returns that instant."""
    later = timeutil._system_clock() + by
    monkeypatch.setattr(timeutil, "clock", lambda: later)
    return later


def set_clock(monkeypatch, at: datetime) -> datetime:
    """Stop the clock at `at`."""
    monkeypatch.setattr(timeutil, "clock", lambda: at)
    return at


def sign_in(client, user_id: int) -> None:
    """Sign in through Flask-Login's session keys (the id carries the session version)."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:1"
        session["_fresh"] = True


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)
