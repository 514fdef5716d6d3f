"""`flask users ...`: staff and facilitator accounts from the command line.

Errors are Italian one-liners with exit code 1 (click.ClickException), never a traceback.
"""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from scheduler.auth import services as auth
from scheduler.auth.models import Role, User
from scheduler.calls.ambiti import ambito_by_slug
from scheduler.extensions import db

users_cli = AppGroup("users", help="Utenti: personale e facilitatori.")


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _read_password(password_stdin: bool, generate: bool) -> str | None:
    """The password to set, or None to generate one.

    From stdin with --password-stdin (first line); asked twice, hidden, when a person is at a terminal;
    generated with --generate or when stdin is not a terminal (scripts, make).
    """
    if password_stdin and generate:
        raise click.UsageError("Usa --password-stdin oppure --generate, non entrambi.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n") if sys.stdin else ""
        if not password:
            raise click.ClickException("Nessuna password letta da stdin.")
        return password
    if generate or not _stdin_is_terminal():
        return None
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create-staff")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([Role.STAFF.value, Role.FACILITATOR.value, Role.PLATFORM.value]),
    default=Role.STAFF.value,
    show_default=True,
    help="staff: personale dell'Ufficio di Piano; facilitator: facilitatore dei tavoli; platform: chi gestisce "
         "l'installazione (crea gli Ambiti).",
)
@click.option("--ambito", "ambito_slug", default=None,
              help="Sigla dell'Ambito (flask ambiti list); senza, l'Ambito predefinito.")
@click.option("--name", "full_name", default="", help="Nome e cognome.")
@click.option("--password-stdin", is_flag=True, help="Legge la password dalla prima riga di stdin.")
@click.option("--generate", is_flag=True, help="Genera una password robusta e la mostra una volta.")
@click.option("--if-missing", is_flag=True, help="Se l'utente esiste già non fa nulla (uscita 0).")
def create_staff_command(
    email: str, role: str, ambito_slug: str | None, full_name: str, password_stdin: bool, generate: bool,
    if_missing: bool,
) -> None:
    """Create a staff member or facilitator who signs in with EMAIL and a password."""
    try:
        address = auth.normalize_email(email)
    except auth.AuthError as exc:
        raise click.ClickException(f"{exc} ({email})") from None
    if auth.find_user(address) is not None:
        if if_missing:
            click.echo(f"L'utente {address} esiste già: nessuna modifica.")
            return
        raise click.ClickException(f"Esiste già un utente con l'indirizzo {address}.")
    ambito = None
    if ambito_slug is not None:
        ambito = ambito_by_slug(ambito_slug.strip().lower())
        if ambito is None:
            raise click.ClickException(f"Nessun Ambito con la sigla '{ambito_slug}' (flask ambiti list).")
    password = _read_password(password_stdin, generate)
    try:
        user, generated = auth.create_staff(address, Role(role), password, full_name, ambito=ambito)
        db.session.commit()
    except auth.AuthError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise click.ClickException(f"Esiste già un utente con l'indirizzo {address}.") from None
    where = f", Ambito: {user.ambito.slug}" if user.ambito is not None else ""
    click.echo(f"Creato l'utente {user.email} (ruolo: {user.role.value}{where}).")
    if generated:
        click.echo(f"Password: {generated}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Legge la password dalla prima riga di stdin.")
@click.option("--generate", is_flag=True, help="Genera una password robusta e la mostra una volta.")
def set_password_command(email: str, password_stdin: bool, generate: bool) -> None:
    """Set a new password for a staff member or facilitator; their open sessions end."""
    user = auth.find_user(email)
    if user is None:
        raise click.ClickException(f"Nessun utente con l'indirizzo {email.strip().lower()}.")
    password = _read_password(password_stdin, generate)
    try:
        generated = auth.set_password(user, password)
        db.session.commit()
    except auth.AuthError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Password cambiata per {user.email}.")
    if generated:
        click.echo(f"Password: {generated}")


@users_cli.command("list")
def list_command() -> None:
    """List users: e-mail, role, and whether the account is switched off."""
    users = db.session.scalars(sa.select(User).order_by(User.role, User.email)).all()
    if not users:
        click.echo("Nessun utente.")
        return
    width = max(len(u.email) for u in users)
    for user in users:
        state = "" if user.active else "  (disattivato)"
        click.echo(f"{user.email:<{width}}  {user.role.value}{state}")
