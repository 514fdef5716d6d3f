"""`flask announcements send-due`: write the messages of the announcements due (the worker runs it on every loop)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from scheduler.announcements.services import send_due

announcements_cli = AppGroup("announcements", help="Comunicazioni dello staff.")


@announcements_cli.command("send-due")
def send_due_command() -> None:
    """Write to the outbox the messages of every venue notice being sent and every scheduled announcement due."""
    sent = send_due()
    click.echo(f"Comunicazioni inviate: {sent}.")
