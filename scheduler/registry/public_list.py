"""The public list of admitted entities (Elenco dei soggetti), by area, and its open-data exports.

Reading only, no request globals: the views, the CLI and the benchmarks share `admitted_entries`. The CSV and
JSON builders take a `PublicList` and touch no database, so what they write is exactly what the page shows.
Only entity data is published: never contacts, e-mails, phone numbers or anything else about people.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from babel.dates import format_date
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, selectinload

from scheduler.calls.models import Area, Call
from scheduler.extensions import db
from scheduler.registry.labels import LEGAL_FORMS
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationEvent,
    ApplicationStatus,
    LegalForm,
    Organization,
    organization_comuni,
)
from scheduler.timeutil import ROME

#: Legal forms as the public reads them (art. 4 c.1 D.Lgs. 117/2017).
LEGAL_FORM_LABELS = LEGAL_FORMS

#: Where the licences a call may name are published, to link them from the page and the JSON.
LICENCE_URLS = {
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/deed.it",
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/deed.it",
    "CC0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/deed.it",
    "IODL 2.0": "https://www.dati.gov.it/content/italian-open-data-license-v20",
}

#: Actions on an application that can change what the list shows (see `list_updated_at`).
LIST_CHANGING_ACTIONS = ("admitted", "rejected", "info_requested", "updated", "withdrawn", "erased")

CSV_HEADER = (
    "Area", "Denominazione", "Forma giuridica", "Codice fiscale", "Comuni", "Fase", "Sito web", "Esempio",
)

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ListedPhase(enum.Enum):
    """Which phases an admitted entity takes part in, as the list shows it."""

    BOTH = "stesura_attuazione"
    DRAFTING = "stesura"
    IMPLEMENTATION = "attuazione"
    #: Applied after the deadline: implementation only, from the call's `late_implementation_from`.
    LATE_IMPLEMENTATION = "attuazione_tardiva"


PHASE_LABELS = {
    ListedPhase.BOTH: _l("Stesura e attuazione"),
    ListedPhase.DRAFTING: _l("Solo stesura"),
    ListedPhase.IMPLEMENTATION: _l("Solo attuazione"),
}


class UnknownFilter(ValueError):
    """A filter names an area or a comune the call does not have; `field` is the query parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Entry:
    """One admitted entity as the public sees it: entity data only, nothing about its people."""

    organization_id: int
    name: str
    legal_form: LegalForm
    #: Published only when it is an entity's 11-digit number: a 16-character one belongs to a person.
    codice_fiscale: str | None
    comuni: tuple[str, ...]
    phase: ListedPhase
    website: str | None
    is_sample: bool

    @property
    def legal_form_label(self) -> str:
        return str(LEGAL_FORM_LABELS.get(self.legal_form, self.legal_form.value))

    @property
    def website_url(self) -> str | None:
        """The website as a link target only when it is plainly http(s): never `javascript:` and the like."""
        if self.website and re.match(r"^https?://", self.website, re.IGNORECASE):
            return self.website
        return None


@dataclass
class AreaSection:
    code: str
    name: str
    full_name: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.code}) {self.full_name}"


@dataclass
class PublicList:
    """The list as shown at one moment, with what the exports state about it (call, licence, update time)."""

    call_slug: str
    call_title: str
    ambito: str
    licence: str
    late_implementation_from: date
    updated_at: datetime
    sections: list[AreaSection]
    area_code: str | None = None
    comune: str | None = None

    @property
    def licence_url(self) -> str | None:
        return LICENCE_URLS.get(self.licence.strip())

    @property
    def entity_count(self) -> int:
        """Distinct entities shown (one in several areas counts once)."""
        return len({entry.organization_id for section in self.sections for entry in section.entries})

    def phase_label(self, entry: Entry) -> str:
        return phase_label(entry.phase, self.late_implementation_from)


def phase_label(phase: ListedPhase, late_from: date) -> str:
    """The phase in the current locale; late entities read "Attuazione (dal gennaio 2025)"."""
    if phase is ListedPhase.LATE_IMPLEMENTATION:
        month = format_date(late_from, "MMMM y", locale=str(get_locale() or "it"))
        return _("Attuazione (dal %(month)s)", month=month)
    return str(PHASE_LABELS[phase])


def _phase(application: Application) -> ListedPhase:
    if application.late:
        return ListedPhase.LATE_IMPLEMENTATION
    if application.wants_drafting and application.wants_implementation:
        return ListedPhase.BOTH
    return ListedPhase.DRAFTING if application.wants_drafting else ListedPhase.IMPLEMENTATION


def sort_key(text: str) -> str:
    """Accents and case ignored, the same on every database (collations differ between SQLite and PostgreSQL)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _public_codice_fiscale(value: str) -> str | None:
    return value if len(value) == 11 and value.isdigit() else None


def list_updated_at(call: Call) -> datetime:
    """When the list last changed: admissions, edits of admitted entities, and whatever took one off the list.

    Applications leaving the list (withdrawn, rejected, sent back to review) leave an event behind, so a
    removal moves the time forward too; the call's own reload counts because area names are shown. One query.
    """
    admitted = sa.and_(Application.call_id == call.id, Application.status == ApplicationStatus.ADMITTED)
    reviewed = sa.select(sa.func.max(Application.reviewed_at)).where(admitted).scalar_subquery()
    edited = (
        sa.select(sa.func.max(Organization.updated_at))
        .join(Application, Application.organization_id == Organization.id)
        .where(admitted)
        .scalar_subquery()
    )
    changed = (
        sa.select(sa.func.max(ApplicationEvent.at))
        .join(Application, Application.id == ApplicationEvent.application_id)
        .where(Application.call_id == call.id, ApplicationEvent.action.in_(LIST_CHANGING_ACTIONS))
        .scalar_subquery()
    )
    row = db.session.execute(sa.select(reviewed, edited, changed)).one()
    return max([call.loaded_at, *(value for value in row if value is not None)])


def admitted_entries(call: Call, area_code: str | None = None, comune_id: int | None = None) -> PublicList:
    """The admitted entities of the call under each of their areas, optionally for one area and one comune.

    A fixed number of queries whatever the number of entities (areas and comuni of the call, the applications
    with their organizations, their comuni, their areas, the update time): the page must stay fast with hundreds
    of entities. Raises `UnknownFilter` for an area code or comune the call does not have.
    """
    areas = list(call.areas)
    comuni = {comune.id: comune.name for comune in call.comuni}
    if area_code is not None and area_code not in {area.code for area in areas}:
        raise UnknownFilter("area", _("Area sconosciuta: %(code)s.", code=area_code))
    if comune_id is not None and comune_id not in comuni:
        raise UnknownFilter("comune", _("Comune sconosciuto."))

    query = (
        sa.select(Application)
        .join(Application.organization)
        .where(
            Application.call_id == call.id,
            Application.status == ApplicationStatus.ADMITTED,
            Organization.erased_at.is_(None),
        )
        .options(
            contains_eager(Application.organization).selectinload(Organization.comuni),
            selectinload(Application.areas).joinedload(ApplicationArea.area),
        )
    )
    if comune_id is not None:
        query = query.where(
            sa.exists().where(
                organization_comuni.c.organization_id == Organization.id,
                organization_comuni.c.comune_id == comune_id,
            )
        )
    if area_code is not None:
        query = query.where(
            sa.exists().where(
                ApplicationArea.application_id == Application.id,
                ApplicationArea.area_id == Area.id,
                Area.code == area_code,
            )
        )

    shown = [area for area in areas if area_code is None or area.code == area_code]
    sections = {area.id: AreaSection(area.code, area.name, area.full_name) for area in shown}
    for application in db.session.scalars(query):
        org = application.organization
        entry = Entry(
            organization_id=org.id,
            name=org.name,
            legal_form=org.legal_form,
            codice_fiscale=_public_codice_fiscale(org.codice_fiscale),
            # an entity that applied to another Ambito's call too keeps only this call's comuni here
            comuni=tuple(sorted((c.name for c in org.comuni if c.id in comuni), key=sort_key)),
            phase=_phase(application),
            website=org.website or None,
            is_sample=org.is_sample,
        )
        for item in application.areas:
            if item.area_id in sections:
                sections[item.area_id].entries.append(entry)
    for section in sections.values():
        section.entries.sort(key=lambda e: (sort_key(e.name), e.codice_fiscale or "", e.organization_id))

    return PublicList(
        call_slug=call.slug,
        call_title=call.title,
        ambito=call.ambito,
        licence=call.open_data_licence,
        late_implementation_from=call.late_implementation_from,
        updated_at=list_updated_at(call),
        sections=list(sections.values()),
        area_code=area_code,
        comune=comuni.get(comune_id) if comune_id is not None else None,
    )


# --- open data: pure builders over a PublicList ---------------------------------------------------------------


def neutralise_cell(value: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with a quote, so it is shown as text."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_rows(listing: PublicList) -> Iterable[list[str]]:
    for section in listing.sections:
        for entry in section.entries:
            yield [
                section.label,
                entry.name,
                entry.legal_form_label,
                entry.codice_fiscale or "",
                ", ".join(entry.comuni),
                listing.phase_label(entry),
                entry.website or "",
                "sì" if entry.is_sample else "no",
            ]


def csv_bytes(listing: PublicList) -> bytes:
    """The list as a CSV for Italian Excel: UTF-8 with BOM, `;` separated, one row per entity and area.

    Always in Italian, whatever language the visitor chose: open data must read the same for everyone.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADER)
    with force_locale("it"):
        for row in _csv_rows(listing):
            writer.writerow([neutralise_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def as_open_data(listing: PublicList) -> dict[str, Any]:
    """The list as plain data, always in Italian; texts kept literally (a JSON reader does no HTML)."""
    with force_locale("it"):
        return {
            "avviso": listing.call_title,
            "ambito": listing.ambito,
            "aggiornato_al": listing.updated_at.astimezone(ROME).replace(microsecond=0).isoformat(),
            "licenza": listing.licence,
            "licenza_url": listing.licence_url,
            "filtri": {"area": listing.area_code, "comune": listing.comune},
            "aree": [
                {
                    "codice": section.code,
                    "nome": section.full_name,
                    "soggetti": [
                        {
                            "denominazione": entry.name,
                            "forma_giuridica": entry.legal_form_label,
                            "codice_fiscale": entry.codice_fiscale,
                            "comuni": list(entry.comuni),
                            "fase": listing.phase_label(entry),
                            "sito_web": entry.website,
                            "esempio": entry.is_sample,
                        }
                        for entry in section.entries
                    ],
                }
                for section in listing.sections
            ],
        }


def json_bytes(listing: PublicList) -> bytes:
    return json.dumps(as_open_data(listing), ensure_ascii=False, indent=2).encode("utf-8")
