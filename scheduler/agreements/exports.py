"""Who adhered to an Accordo, as CSV and XLSX for staff: one row per entity asked, the same as the page.

Written by the reports' table writers (`reports.exports.csv_bytes` / `xlsx_bytes`), so the cells that would
start a formula are neutralised the same way in every export of the app.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from scheduler.agreements.models import Agreement
from scheduler.agreements.services import Board
from scheduler.reports.exports import csv_bytes, xlsx_bytes
from scheduler.timeutil import ROME

HEADER = [_l("Ente"), _l("Codice fiscale"), _l("Stato"), _l("Data dell'adesione"), _l("Legale rappresentante"),
          _l("Ruolo"), _l("Account"), _l("Adesione firmata (PDF)"), _l("Solleciti"), _l("Ultimo sollecito"),
          _l("Adesioni annullate")]


def _local(dt: datetime | None) -> datetime | None:
    """Wall-clock time in Rome, without zone (spreadsheets have none)."""
    return dt.astimezone(ROME).replace(tzinfo=None) if dt else None


def table(board: Board) -> tuple[list[str], list[list[Any]]]:
    rows = []
    for row in board.rows:
        adhesion = row.adhesion
        rows.append([
            row.organization.name,
            row.organization.codice_fiscale,
            str(_l("Ha aderito") if adhesion else _l("Non ha aderito")),
            _local(adhesion.adhered_at) if adhesion else None,
            adhesion.signatory_name if adhesion else "",
            adhesion.signatory_role if adhesion else "",
            adhesion.user.email if adhesion and adhesion.user else "",
            str(_l("sì") if adhesion and adhesion.has_signed_copy else _l("no")) if adhesion else "",
            row.invitation.reminder_count,
            _local(row.invitation.reminded_at),
            len(row.annulled),
        ])
    return [str(h) for h in HEADER], rows


def to_csv(agreement: Agreement, board: Board) -> bytes:
    return csv_bytes(*table(board))


def to_xlsx(agreement: Agreement, board: Board) -> bytes:
    return xlsx_bytes([(str(_l("Adesioni")), *table(board))])
