"""`flask --app scheduler worker`: the process that delivers the outbox.

`--stale-claim` (or MAIL_STALE_CLAIM in the environment) sets how long a dead worker's claim waits before
another worker takes it over; it lands in the app's config, where `worker.stale_claim()` reads it.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from scheduler.mailing.models import OutboxStatus
from scheduler.mailing.services import count_by_status
from scheduler.mailing.worker import STALE_CLAIM, run_worker


@click.command("worker")
@click.option("--once", is_flag=True, help="Consegna i messaggi in scadenza ed esce (per cron o per i test).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Secondi di attesa quando non c'è nulla da consegnare.",
)
@click.option(
    "--stale-claim",
    type=click.FloatRange(min=1.0),
    envvar="MAIL_STALE_CLAIM",
    show_envvar=True,
    default=None,
    help=f"Secondi senza battito dopo i quali i messaggi di un worker fermo passano a un altro "
    f"(predefinito {STALE_CLAIM.total_seconds():.0f}; lo stesso valore per tutti i worker).",
)
@with_appcontext
def worker_command(once: bool, interval: float, stale_claim: float | None) -> None:
    """Consegna la posta in uscita (in continuo; Ctrl+C per fermare)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if stale_claim is not None:
        app.config["MAIL_STALE_CLAIM"] = stale_claim
    stats = run_worker(app, once=once, interval=interval)
    if once:
        counts = count_by_status(every_ambito=True)
        waiting = counts[OutboxStatus.PENDING] + counts[OutboxStatus.SENDING]
        click.echo(f"Inviati {stats.sent}, in attesa {waiting}, falliti {stats.failed}.")
