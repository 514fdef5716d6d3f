"""The Ambiti of an installation: which one a request is for (its host name, else the default one), and how the
platform's administrators create them. Services only: the request's host is passed in, never read here."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import sqlalchemy as sa

from scheduler.audit.services import changes, record
from scheduler.calls.models import Ambito
from scheduler.errors import DomainError
from scheduler.extensions import db

#: A host name as DNS allows it (RFC 1123 labels), lower case, no port.
HOST_SHAPE = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
SLUG_SHAPE = re.compile(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]")
#: The settings an Ambito is created with and staff may change; the others (slug, host, default) are the
#: platform's.
SETTINGS = ("name", "lead_municipality", "ipa_code", "office_name", "office_email", "mail_sender",
            "privacy_controller", "privacy_dpo_name", "privacy_dpo_email", "responsible", "heading")
REQUIRED = ("name", "lead_municipality", "office_name", "office_email")


class AmbitoError(DomainError):
    """A rule about the Ambiti was broken (a host name two Ambiti would share, a slug already taken...)."""


def normal_host(host: str | None) -> str | None:
    """`host` as Ambiti are looked up by: lower case, without port or final dot; None when it cannot be a host
    name (an IPv6 literal, a forged header)."""
    if not host:
        return None
    name = host.strip().lower()
    if name.startswith("["):
        return None
    name = name.rsplit(":", 1)[0] if ":" in name else name
    name = name.rstrip(".")
    return name if HOST_SHAPE.fullmatch(name) else None


def ambito_id_of_host() -> sa.ColumnElement:
    """The id of the Ambito answering the host bound as ``:host`` (already `normal_host`): the one whose host name
    it is, else the default one. Two lookups of unique indexes, so a query that must stay one statement (a feed's
    stamps) finds its Ambito itself, however many Ambiti there are."""
    own = sa.select(Ambito.id).where(Ambito.host == sa.bindparam("host")).scalar_subquery()
    default = sa.select(Ambito.id).where(Ambito.is_default.is_(True)).scalar_subquery()
    return sa.func.coalesce(own, default)


def ambito_for_host(host: str | None) -> Ambito | None:
    """The Ambito whose host name this is, else the default one; None on an installation with no Ambito yet.
    One indexed query, by the same rule as `ambito_id_of_host`."""
    query = sa.select(Ambito).where(Ambito.id == ambito_id_of_host())
    return db.session.scalars(query, {"host": normal_host(host) or ""}).first()


def default_ambito() -> Ambito | None:
    return db.session.scalar(sa.select(Ambito).where(Ambito.is_default.is_(True)))


def ambito_by_slug(slug: str) -> Ambito | None:
    return db.session.scalar(sa.select(Ambito).where(Ambito.slug == slug)) if SLUG_SHAPE.fullmatch(slug) else None


def all_ambiti() -> list[Ambito]:
    return list(db.session.scalars(sa.select(Ambito).order_by(Ambito.name)))


def slug_for(name: str) -> str:
    """A slug from an Ambito's name: "Ambito territoriale di Crema" gives "crema"."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"^(ambito\s+(territoriale|distrettuale|sociale)?\s*(di|del|della|dei|delle)?\s*)", "", text)
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40].strip("-")
    return text if len(text) >= 2 else "ambito"


def _check(values: dict[str, Any]) -> None:
    for key in REQUIRED:
        if not str(values.get(key) or "").strip():
            raise AmbitoError("Campo obbligatorio.", field=key, code="invalid")
    for key in ("office_email", "mail_sender", "privacy_dpo_email"):
        value = str(values.get(key) or "")
        if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise AmbitoError("Indirizzo e-mail non valido.", field=key, code="invalid")


def create_ambito(slug: str, *, host: str | None = None, is_default: bool = False, actor_id: int | None = None,
                  **settings: Any) -> Ambito:
    """A new Ambito, with no call yet. The first of an installation is its default Ambito (it answers every host
    name no other claims), so a single-Ambito installation needs no host name at all."""
    if not SLUG_SHAPE.fullmatch(slug):
        raise AmbitoError("Usa lettere minuscole, cifre e trattini (es. crema).", field="slug", code="invalid")
    if ambito_by_slug(slug) is not None:
        raise AmbitoError("Esiste già un Ambito con questa sigla.", field="slug", code="conflict")
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    _check(settings)
    name = None
    if host:
        name = normal_host(host)
        if name is None:
            raise AmbitoError("Nome host non valido (es. tavoli.ambitocrema.it).", field="host", code="invalid")
        if db.session.scalar(sa.select(Ambito.id).where(Ambito.host == name)) is not None:
            raise AmbitoError("Questo nome host è già di un altro Ambito.", field="host", code="conflict")
    first = db.session.scalar(sa.select(sa.func.count()).select_from(Ambito)) == 0
    if is_default and not first:
        previous = default_ambito()
        if previous is not None:
            previous.is_default = False
            db.session.flush()  # the unique index allows one default at a time
    ambito = Ambito(slug=slug, host=name, is_default=is_default or first,
                    **{key: (str(value).strip() if value is not None else "") for key, value in settings.items()})
    db.session.add(ambito)
    db.session.flush()
    record("ambito.created", "ambito", ambito.id, actor_id=actor_id, slug=slug, host=name)
    return ambito


def update_settings(ambito: Ambito, values: dict[str, Any], *, actor_id: int | None = None) -> bool:
    """Change what the Ambito's pages and mail say of it (`SETTINGS` only: its host name and slug are the
    platform's); True when something changed, which the audit log keeps. The caller commits."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    cleaned = {key: (str(value).strip() if value is not None else "") for key, value in values.items()}
    _check({**{key: getattr(ambito, key) for key in SETTINGS}, **cleaned})
    before = {key: getattr(ambito, key) for key in cleaned}
    for key, value in cleaned.items():
        setattr(ambito, key, value)
    changed = changes(before, cleaned)
    if changed:
        record("ambito.settings", "ambito", ambito.id, actor_id=actor_id, changes=changed)
    return bool(changed)
