"""`flask reminders`: send the reminders and venue warnings that are due (the worker also runs it)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from scheduler.calendar.reminders import send_due


@click.command("reminders")
@with_appcontext
def reminders_command() -> None:
    """Remind confirmed entities two days before a meeting; warn staff of meetings without a venue."""
    stats = send_due()
    click.echo(f"Promemoria: {stats.reminders}; avvisi di sede mancante: {stats.venue_alerts}.")
