"""`flask --app scheduler worker`: the process that delivers the outbox."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from scheduler.mailing.models import OutboxStatus
from scheduler.mailing.services import count_by_status
from scheduler.mailing.worker import run_worker


@click.command("worker")
@click.option("--once", is_flag=True, help="Consegna i messaggi in scadenza ed esce (per cron o per i test).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Secondi di attesa quando non c'è nulla da consegnare.",
)
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Consegna la posta in uscita (in continuo; Ctrl+C per fermare)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stats = run_worker(app, once=once, interval=interval)
    if once:
        counts = count_by_status()
        waiting = counts[OutboxStatus.PENDING] + counts[OutboxStatus.SENDING]
        click.echo(f"Inviati {stats.sent}, in attesa {waiting}, falliti {stats.failed}.")
