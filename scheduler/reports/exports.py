"""The report's sections as tables (header and rows), written as CSV or XLSX with the same numbers as the page.

`csv_bytes` and `xlsx_bytes` write any table (header and rows) the way staff's spreadsheets expect it, cells
that would start a formula neutralised: the other staff exports (the adhesions to the Accordo) use them too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from scheduler.formatting import hours_text
from scheduler.reports.services import Report
from scheduler.timeutil import ROME

#: The sections, in the page's order: URL name -> title.
SECTIONS = {
    "incontri": _l("Incontri"),
    "enti": _l("Enti"),
    "aree": _l("Aree"),
    "comuni": _l("Comuni"),
}

#: The URL name of the workbook with every section.
ALL = "tutto"

#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _local(dt: datetime) -> datetime:
    """Wall-clock time in Rome, without zone (spreadsheets have none)."""
    return dt.astimezone(ROME).replace(tzinfo=None)


def _rate(value: float | None) -> float | None:
    return round(value * 100, 1) if value is not None else None


def table(report: Report, section: str) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a section; dates as `date`/`datetime` (local time), rates as percentages."""
    if section == "incontri":
        header = [_l("Data"), _l("Inizio"), _l("Area"), _l("Percorso"), _l("Titolo"), _l("Confermati"),
                  _l("Enti presenti"), _l("Assenti senza avviso"), _l("Presenti senza adesione")]
        rows = [[_local(m.starts_at).date(), _local(m.starts_at).strftime("%H:%M"), m.area_code, m.track_name,
                 m.title or "", m.confirmed, m.present, m.absent, m.walk_ins] for m in report.meetings]
    elif section == "enti":
        header = [_l("Ente"), _l("Comuni"),
                  *[f"{t.area_code} – {t.name}" for t in report.tracks],
                  _l("Incontri con presenza"), _l("Adesioni"), _l("Assenze senza avviso"),
                  _l("Incontri delle sue aree"), _l("Tasso di partecipazione (%)"), _l("Ultima presenza")]
        rows = [[e.name, ", ".join(e.comuni), *[e.by_track.get(t.track_id, 0) for t in report.tracks],
                 e.attended, e.confirmed, e.absent, e.possible, _rate(e.rate),
                 _local(e.last_presence).date() if e.last_presence else None] for e in report.entities]
        if any(e.minutes is not None for e in report.entities):
            header.append(_l("Ore di partecipazione"))
            for row, e in zip(rows, report.entities, strict=True):
                row.append(hours_text(e.minutes) if e.minutes is not None else "")
    elif section == "aree":
        header = [_l("Codice"), _l("Area"), _l("Incontri"), _l("Confermati"), _l("Presenze di enti"),
                  _l("Enti presenti almeno una volta"), _l("Assenti senza avviso"), _l("Presenti senza adesione")]
        rows = [[a.code, a.name, a.meetings, a.confirmed, a.present, a.entities, a.absent, a.walk_ins]
                for a in report.areas]
    elif section == "comuni":
        header = [_l("Comune"), _l("Enti presenti almeno una volta"), _l("Presenze di enti"), _l("Adesioni"),
                  _l("Assenze senza avviso")]
        rows = [[c.name, c.entities, c.presences, c.confirmed, c.absent] for c in report.comuni]
    else:
        raise KeyError(section)
    return [str(h) for h in header], rows


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """Semicolon-separated, UTF-8 with BOM (Excel in Italian opens it as it is), formulas neutralised; dates
    as dd/mm/yyyy (with the time for a `datetime`), decimals with a comma."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(value: Any) -> Any:
    return ("'" + value) if isinstance(value, str) and value.startswith(FORMULA_START) else value


def xlsx_bytes(sheets: Iterable[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook with one sheet per (title, header, rows): bold header, frozen first row, columns as wide as
    their text, dates shown as dd/mm/yyyy (with the time for a `datetime`), formulas neutralised."""
    # openpyxl takes a noticeable time to import: only the staff's spreadsheet downloads pay for it
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(str(title)[:31])
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_xlsx_cell(v) for v in row])
        for column in sheet.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, datetime):
                    cell.number_format = "DD/MM/YYYY HH:MM"
                elif isinstance(cell.value, date):
                    cell.number_format = "DD/MM/YYYY"
        for column in sheet.columns:
            longest = max(len(str(cell.value)) if cell.value is not None else 0 for cell in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, longest + 2))
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(report: Report, section: str) -> bytes:
    """One section of the report as CSV (see `csv_bytes`)."""
    return csv_bytes(*table(report, section))


def to_xlsx(report: Report, section: str | None) -> bytes:
    """One sheet with the section, or every section (one sheet each) when `section` is None."""
    names = [section] if section else list(SECTIONS)
    return xlsx_bytes((str(SECTIONS[name]), *table(report, name)) for name in names)
