"""`flask replies fetch`: read the calendar replies mailbox once and apply the answers (the worker does it every
minute when REPLY_IMAP_HOST is set)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from scheduler.calendar.replies import MAILBOX_ERRORS, MailboxError, describe_error, fetch_and_apply
from scheduler.calendar.reply_models import ReplyOutcome

replies_cli = AppGroup("replies", help="Risposte inviate dalle app di calendario (Accetta/Rifiuta).")

#: How each outcome is told to the person at the terminal.
LABELS = {
    ReplyOutcome.APPLIED: "registrate",
    ReplyOutcome.UNKNOWN: "incontro o indirizzo sconosciuto",
    ReplyOutcome.FORGED: "mittente non verificato",
    ReplyOutcome.LATE: "risposte chiuse",
    ReplyOutcome.REFUSED: "ente non ammesso all'incontro",
    ReplyOutcome.IGNORED: "né sì né no (ignorate)",
    ReplyOutcome.DUPLICATE: "già lette",
    ReplyOutcome.UNREADABLE: "senza risposta di calendario leggibile",
}


@replies_cli.command("fetch")
def fetch_command() -> None:
    """Read the unread messages of the replies mailbox once and apply the answers they carry."""
    config = current_app.config
    try:
        stats = fetch_and_apply(config)
    except MailboxError as error:
        raise click.ClickException(str(error)) from None
    except MAILBOX_ERRORS as error:
        raise click.ClickException(
            f"Casella {config.get('REPLY_IMAP_HOST')} non letta: {describe_error(error, config)}") from None
    click.echo(f"Messaggi letti: {stats.total}.")
    for outcome, label in LABELS.items():
        click.echo(f"  {label}: {stats[outcome]}")
    if stats.failed:
        click.echo(f"  lasciati da leggere per un errore (riprovati alla prossima lettura): {stats.failed}")
