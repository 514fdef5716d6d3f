"""Reading and choosing the calls of an Ambito: several live side by side, one of them is the current one."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.audit.services import record
from scheduler.calls.ambiti import default_ambito
from scheduler.calls.models import Ambito, Call
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.timeutil import utcnow


class CallError(DomainError):
    """A rule about the calls was broken (the current call archived, an archived call made current...)."""


def current_call(slug: str | None = None, *, ambito: Ambito | None = None) -> Call | None:
    """The call of `ambito` (by default the installation's default Ambito) named by `slug`; else the one its
    staff made current; else its one loaded most recently; None before any is loaded. The calendar feeds' stamp
    queries choose the same way (`calendar.feeds._stamp_query`)."""
    ambito = ambito or default_ambito()
    if ambito is None:
        return None
    if slug:
        return call_by_slug(slug, ambito=ambito)
    query = sa.select(Call).where(Call.ambito_id == ambito.id).order_by(Call.is_current.desc(), Call.id.desc())
    return db.session.scalars(query.limit(1)).first()


def call_by_slug(slug: str, *, ambito: Ambito | None = None) -> Call | None:
    """The call with this slug if it is `ambito`'s (by default the default Ambito's): another Ambito's call is not
    found from here."""
    ambito = ambito or default_ambito()
    if ambito is None:
        return None
    return db.session.scalar(sa.select(Call).where(Call.slug == slug, Call.ambito_id == ambito.id))


def all_calls(ambito: Ambito | None = None) -> list[Call]:
    """Every call of `ambito` (by default the default Ambito), the current one first, then the open ones and the
    archive, newest first."""
    ambito = ambito or default_ambito()
    if ambito is None:
        return []
    return list(db.session.scalars(
        sa.select(Call).where(Call.ambito_id == ambito.id)
        .order_by(Call.is_current.desc(), Call.archived_at.is_not(None), Call.id.desc())
    ))


def make_current(call: Call, *, actor_id: int | None = None) -> Call:
    """Make `call` the one the short addresses show; the previous current call keeps its own addresses."""
    if call.is_archived:
        raise CallError("L'avviso è archiviato: riaprilo prima di renderlo quello corrente.", code="closed")
    if call.is_current:
        return call
    previous = db.session.scalar(
        sa.select(Call).where(Call.ambito_id == call.ambito_id, Call.is_current.is_(True)))
    if previous is not None:
        previous.is_current = False
        db.session.flush()  # the unique index allows one current call at a time
    call.is_current = True
    db.session.flush()
    record("call.made_current", "call", call.id, actor_id=actor_id, call_id=call.id,
           previous=previous.id if previous else None)
    return call


def archive(call: Call, *, actor_id: int | None = None) -> Call:
    """Move a concluded call to the archive; the current one must first give way to another."""
    if call.is_current:
        raise CallError("È l'avviso corrente: rendi corrente un altro avviso prima di archiviarlo.", code="closed")
    if call.is_archived:
        return call
    call.archived_at = utcnow()
    record("call.archived", "call", call.id, actor_id=actor_id, call_id=call.id)
    return call


def reopen(call: Call, *, actor_id: int | None = None) -> Call:
    if call.is_archived:
        call.archived_at = None
        record("call.reopened", "call", call.id, actor_id=actor_id, call_id=call.id)
    return call
