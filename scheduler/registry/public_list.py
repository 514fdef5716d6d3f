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
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from babel.dates import format_date
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from scheduler.caching import LRUCache
from scheduler.calls.models import Area, Call
from scheduler.extensions import db
from scheduler.formatting import sort_key
from scheduler.pagination import Page, clamp_page
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
from scheduler.textutil import clean_line
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
    search: str | None = None
    #: Distinct entities under the filters, on every page (one in several areas counts once).
    entity_count: int = 0
    #: Rows (an entity under one area) under the filters, by area code, on every page.
    area_totals: dict[str, int] = field(default_factory=dict)
    #: The page shown, when the list is paged (the open-data exports never are).
    page: Page | None = None

    @property
    def licence_url(self) -> str | None:
        return LICENCE_URLS.get(self.licence.strip())

    def phase_label(self, entry: Entry) -> str:
        return phase_label(entry.phase, self.late_implementation_from)


def phase_label(phase: ListedPhase, late_from: date) -> str:
    """The phase in the current locale; late entities read "Attuazione (dal gennaio 2025)"."""
    if phase is ListedPhase.LATE_IMPLEMENTATION:
        month = format_date(late_from, "MMMM y", locale=str(get_locale() or "it"))
        return _("Attuazione (dal %(month)s)", month=month)
    return str(PHASE_LABELS[phase])


def _phase(late: bool, drafting: bool, implementation: bool) -> ListedPhase:
    if late:
        return ListedPhase.LATE_IMPLEMENTATION
    if drafting and implementation:
        return ListedPhase.BOTH
    return ListedPhase.DRAFTING if drafting else ListedPhase.IMPLEMENTATION


def _public_codice_fiscale(value: str) -> str | None:
    return value if len(value) == 11 and value.isdigit() else None


def list_updated_at(call: Call) -> datetime:
    """When the list last changed: admissions, edits of admitted entities, and whatever took one off the list.

    Applications leaving the list (withdrawn, rejected, sent back to review) leave an event behind, so a
    removal moves the time forward too; the call's own reload and its areas count because their names are
    shown. One query.
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
    areas = sa.select(sa.func.max(Area.updated_at)).where(Area.call_id == call.id).scalar_subquery()
    row = db.session.execute(sa.select(reviewed, edited, changed, areas)).one()
    return max([call.loaded_at, *(value for value in row if value is not None)])


def list_stamp(call: Call) -> tuple:
    """A key that changes whenever the list may have: the latest change of any entity and of any application's
    history (admission, edit, withdrawal, rejection, erasure all write an event), of the call and its areas.

    Wider than `list_updated_at` (a change anywhere counts, even off the list), so it can be read from the
    indexes on those columns in a fraction of a millisecond whatever the number of entities.
    """
    row = db.session.execute(sa.select(
        sa.select(sa.func.max(Organization.updated_at)).scalar_subquery(),
        sa.select(sa.func.max(ApplicationEvent.at)).scalar_subquery(),
        sa.select(sa.func.max(Area.updated_at)).where(Area.call_id == call.id).scalar_subquery(),
    )).one()
    return (call.id, call.loaded_at, *row)


#: Rows of the public page at a time: every entity of an Ambito of ordinary size fits in one page.
PER_PAGE = 200


def _binary(column: Any) -> Any:
    """Byte order on PostgreSQL too (SQLite's default), so both databases page the same rows in the same order."""
    return column.collate("C") if db.session.get_bind().dialect.name == "postgresql" else column


def admitted_entries(
    call: Call,
    area_code: str | None = None,
    comune_id: int | None = None,
    *,
    search: str | None = None,
    page: int | None = None,
    per_page: int = PER_PAGE,
    cache: LRUCache | None = None,
) -> PublicList:
    """The admitted entities of the call under each of their areas, optionally for one area, one comune and a
    name (or codice fiscale) search; with `page`, only that page of rows.

    A fixed number of queries whatever the number of entities (areas and comuni of the call, the rows, their
    comuni, the update time). With a `cache`, the list for these filters is loaded once per state of the list
    (the key holds its `list_stamp`, so an entry is never out of date) and a request then only reads the
    stamp and shows its page: the page costs about the same with sixty entities or six thousand.
    Raises `UnknownFilter` for an area or comune the call does not have.
    """
    areas = list(call.areas)
    comuni = {comune.id: comune.name for comune in call.comuni}
    if area_code is not None and area_code not in {area.code for area in areas}:
        raise UnknownFilter("area", _("Area sconosciuta: %(code)s.", code=area_code))
    if comune_id is not None and comune_id not in comuni:
        raise UnknownFilter("comune", _("Comune sconosciuto."))
    search = clean_line(search)[:120] or None

    def load() -> PublicList:
        return _load(call, areas, comuni, area_code, comune_id, search)

    listing = cache.get((area_code, comune_id, search, list_stamp(call)), load) if cache is not None else load()
    return listing if page is None else _page_of(listing, page, per_page)


def _page_of(listing: PublicList, page: int, per_page: int) -> PublicList:
    """One page of rows (area by area, in the list's order), as a list of its own; `listing` is left as it is."""
    rows = [(section, entry) for section in listing.sections for entry in section.entries]
    page = clamp_page(page, len(rows), per_page)
    shown = rows[(page - 1) * per_page:page * per_page]
    sections = []
    for section in listing.sections:
        entries = [entry for owner, entry in shown if owner is section]
        # a page shows the areas it has rows of, and the first page also the areas nobody is admitted to
        if entries or (page == 1 and not section.entries):
            sections.append(AreaSection(section.code, section.name, section.full_name, entries))
    return replace(listing, sections=sections, page=Page(items=shown, page=page, per_page=per_page, total=len(rows)))


def _load(call: Call, areas: list[Area], comuni: dict[int, str], area_code: str | None, comune_id: int | None,
          search: str | None) -> PublicList:
    conditions = [
        Application.call_id == call.id,
        Application.status == ApplicationStatus.ADMITTED,
        Organization.erased_at.is_(None),
    ]
    if comune_id is not None:
        conditions.append(sa.exists().where(
            organization_comuni.c.organization_id == Organization.id,
            organization_comuni.c.comune_id == comune_id,
        ))
    if area_code is not None:
        conditions.append(Area.code == area_code)
    if search:
        wanted = sort_key(search)
        conditions.append(sa.or_(Organization.sort_name.contains(wanted, autoescape=True),
                                 Organization.codice_fiscale == search.upper()))

    def rows_of(*columns: Any) -> sa.Select:
        return (
            sa.select(*columns)
            .select_from(ApplicationArea)
            .join(Application, Application.id == ApplicationArea.application_id)
            .join(Organization, Organization.id == Application.organization_id)
            .join(Area, Area.id == ApplicationArea.area_id)
            .where(*conditions)
        )

    query = rows_of(
        Area.id, Organization.id, Organization.name, Organization.legal_form, Organization.codice_fiscale,
        Organization.website, Organization.is_sample, Application.late, Application.wants_drafting,
        Application.wants_implementation,
    ).order_by(Area.code, _binary(Organization.sort_name), Organization.id)
    rows = db.session.execute(query).all()
    their_comuni: dict[int, list[str]] = {}
    if rows:
        pairs = db.session.execute(
            sa.select(organization_comuni.c.organization_id, organization_comuni.c.comune_id)
            .where(organization_comuni.c.organization_id.in_(rows_of(Organization.id)))
        ).all()
        for organization_id, comune in pairs:
            # an entity that applied to another Ambito's call too keeps only this call's comuni here
            if comune in comuni:
                their_comuni.setdefault(organization_id, []).append(comuni[comune])

    shown = [area for area in areas if area_code is None or area.code == area_code]
    sections = {area.id: AreaSection(area.code, area.name, area.full_name) for area in shown}
    entries: dict[int, Entry] = {}
    for area_id, org_id, name, legal_form, codice_fiscale, website, is_sample, late, drafting, implementation in rows:
        entry = entries.get(org_id)
        if entry is None:
            entry = entries[org_id] = Entry(
                organization_id=org_id, name=name, legal_form=legal_form,
                codice_fiscale=_public_codice_fiscale(codice_fiscale),
                comuni=tuple(sorted(their_comuni.get(org_id, []), key=sort_key)),
                phase=_phase(late, drafting, implementation), website=website or None, is_sample=is_sample,
            )
        sections[area_id].entries.append(entry)

    return PublicList(
        call_slug=call.slug,
        call_title=call.title,
        ambito=call.ambito.name,
        licence=call.open_data_licence,
        late_implementation_from=call.late_implementation_from,
        updated_at=list_updated_at(call),
        sections=list(sections.values()),
        area_code=area_code,
        comune=comuni.get(comune_id) if comune_id is not None else None,
        search=search,
        entity_count=len(entries),
        area_totals={section.code: len(section.entries) for section in sections.values()},
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
