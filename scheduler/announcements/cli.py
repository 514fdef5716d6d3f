"""`flask announcements send-due`: send the scheduled announcements whose time has come (the worker also runs it)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from scheduler.announcements.services import send_due

announcements_cli = AppGroup("announcements", help="Comunicazioni dello staff.")


@announcements_cli.command("send-due")
def send_due_command() -> None:
    """Write the messages of every scheduled announcement that is due to the outbox."""
    sent = send_due()
    click.echo(f"Comunicazioni programmate inviate: {sent}.")
