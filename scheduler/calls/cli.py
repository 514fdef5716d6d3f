"""`flask calls load FILE`: validate a call file and load it idempotently; `flask ambiti ...`: the Ambiti of the
installation."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from scheduler.calls.ambiti import AmbitoError, all_ambiti, ambito_by_slug, create_ambito
from scheduler.calls.loader import CallFileError, load_call, parse_call_file
from scheduler.calls.services import make_current
from scheduler.extensions import db
from scheduler.mailing.services import SENDER_WARNING, sender_mismatch


@click.group("calls", help="Avvisi: caricamento da file.")
def calls_cli() -> None:
    pass


@click.group("ambiti", help="Ambiti territoriali dell'installazione.")
def ambiti_cli() -> None:
    pass


@ambiti_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Es. \"Ambito territoriale di Lodi\".")
@click.option("--lead", "lead_municipality", required=True, help="Ente capofila, es. \"Comune di Lodi\".")
@click.option("--office-name", required=True, help="Es. \"Ufficio di Piano dell'Ambito di Lodi\".")
@click.option("--office-email", required=True, help="Casella dell'Ufficio di Piano.")
@click.option("--host", default=None, help="Nome host delle sue pagine, es. tavoli.ambitolodi.it.")
@click.option("--ipa-code", default="", help="Codice IPA dell'ente capofila.")
@click.option("--default", "is_default", is_flag=True, help="Ambito predefinito (risponde agli host non assegnati).")
@with_appcontext
def create_ambito_command(slug: str, name: str, lead_municipality: str, office_name: str, office_email: str,
                          host: str | None, ipa_code: str, is_default: bool) -> None:
    """Create an Ambito; then its first staff account with `flask users create-staff --ambito SLUG`."""
    try:
        ambito = create_ambito(slug.strip().lower(), host=host, is_default=is_default, name=name,
                               lead_municipality=lead_municipality, office_name=office_name,
                               office_email=office_email, ipa_code=ipa_code)
        db.session.commit()
    except AmbitoError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.field}: {exc.message}" if exc.field else exc.message) from None
    where = f"https://{ambito.host}" if ambito.host else "ogni host non assegnato (predefinito)"
    click.echo(f"Creato l'Ambito '{ambito.slug}' ({ambito.name}): {where}.")


@ambiti_cli.command("list")
@with_appcontext
def list_ambiti_command() -> None:
    """List the Ambiti: slug, host name, name, whether it is the default one."""
    ambiti = all_ambiti()
    if not ambiti:
        click.echo("Nessun Ambito.")
    for ambito in ambiti:
        mark = " (predefinito)" if ambito.is_default else ""
        click.echo(f"{ambito.slug}\t{ambito.host or '-'}\t{ambito.name}{mark}")


@calls_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True, help="Controlla il file senza caricarlo.")
@click.option("--current", is_flag=True, help="Rende corrente l'avviso caricato (le pagine /candidatura, /elenco...).")
@click.option("--ambito", "ambito_slug", default=None,
              help="Sigla dell'Ambito che emette l'avviso; senza, l'Ambito predefinito.")
@with_appcontext
def load_command(path: str, check: bool, current: bool, ambito_slug: str | None) -> None:
    """Load (or update) the call described in PATH."""
    try:
        spec = parse_call_file(path)
    except CallFileError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    if check:
        click.echo(f"{path}: il file è valido ({len(spec.tracks)} percorsi, "
                   f"{sum(len(t.meetings) for t in spec.tracks)} incontri).")
        return
    ambito = None
    if ambito_slug is not None:
        ambito = ambito_by_slug(ambito_slug.strip().lower())
        if ambito is None:
            raise click.ClickException(f"Nessun Ambito con la sigla '{ambito_slug}' (flask ambiti list).")
    try:
        call, report = load_call(spec, ambito)
    except CallFileError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
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
