"""`flask calls load FILE`: validate a call file and load it idempotently."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from scheduler.calls.loader import CallFileError, load_call, parse_call_file
from scheduler.calls.services import make_current
from scheduler.extensions import db
from scheduler.mailing.services import SENDER_WARNING, sender_mismatch


@click.group("calls", help="Avvisi: caricamento da file.")
def calls_cli() -> None:
    pass


@calls_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True, help="Controlla il file senza caricarlo.")
@click.option("--current", is_flag=True, help="Rende corrente l'avviso caricato (le pagine /candidatura, /elenco...).")
@with_appcontext
def load_command(path: str, check: bool, current: bool) -> None:
    """Load (or update) the call described in PATH."""
    try:
        spec = parse_call_file(path)
    except CallFileError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    if check:
        click.echo(f"{path}: il file è valido ({len(spec.tracks)} percorsi, "
                   f"{sum(len(t.meetings) for t in spec.tracks)} incontri).")
        return
    call, report = load_call(spec)
    if current:
        make_current(call)
    db.session.commit()
    click.echo(f"Avviso '{call.slug}': {report.summary()}")
    if not call.is_current:
        click.echo(f"L'avviso '{call.slug}' ha le sue pagine in /avvisi/{call.slug}; per mostrarlo agli indirizzi "
                   "brevi rendilo corrente dalla gestione degli avvisi (o con --current).")
    for warning in report.warnings:
        click.echo(f"Attenzione: {warning}", err=True)
    sender = sender_mismatch(call.office_email)
    if sender:
        click.echo(f"Attenzione: {SENDER_WARNING.format(sender=sender, organizer=call.office_email)}", err=True)
