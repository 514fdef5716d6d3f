"""The certificate of participation (attestato di partecipazione): one A4 page, made with fpdf2."""

from __future__ import annotations

from datetime import date

from fpdf import FPDF

from scheduler import formatting
from scheduler.calls.models import Call
from scheduler.registry.models import Organization
from scheduler.reports.services import AttendedMeeting

#: Typographic characters outside latin-1 that the core fonts cannot draw, and their plain equivalents.
REPLACEMENTS = {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "€": "EUR", "•": "-"}


def latin1(text: str) -> str:
    """What Helvetica (a core PDF font, latin-1 only) can print: accented Italian letters stay."""
    for char, plain in REPLACEMENTS.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def place_of(call: Call) -> str:
    """'Comune di Crema' -> 'Crema'."""
    name = call.lead_municipality
    for prefix in ("Comune di ", "Città di ", "Comune della ", "Comune del "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def period_text(date_from: date | None, date_to: date | None) -> str:
    if date_from and date_to:
        return f"dal {formatting.format_long_date(date_from)} al {formatting.format_long_date(date_to)}"
    if date_from:
        return f"dal {formatting.format_long_date(date_from)}"
    if date_to:
        return f"fino al {formatting.format_long_date(date_to)}"
    return "dall'avvio dei tavoli"


def certificate_pdf(call: Call, organization: Organization, meetings: list[AttendedMeeting], *,
                    date_from: date | None, date_to: date | None, issued_on: date) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_title(latin1(f"Attestato di partecipazione - {organization.name}"))
    pdf.set_author(latin1(call.office_name))
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(width, 7, latin1(call.lead_municipality), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(width, 6, latin1(call.office_name), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 6, latin1(call.ambito), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)

    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(width, 10, "Attestato di partecipazione", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    pdf.set_font("Helvetica", "", 11)
    count = len(meetings)
    body = (
        f"Si attesta che l'ente \"{organization.name}\" (codice fiscale {organization.codice_fiscale}) "
        f"ha partecipato, {period_text(date_from, date_to)}, "
        + (f"a {count} incontr{'o' if count == 1 else 'i'} " if count else "a nessun incontro ")
        + f"dei tavoli di co-programmazione del {call.plan_title} ({call.ambito})"
        + (", elencati di seguito." if count else ".")
    )
    pdf.multi_cell(width, 6, latin1(body), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    if meetings:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(60, 7, "Data", border="B")
        pdf.cell(width - 60, 7, "Percorso", border="B", new_x="LMARGIN", new_y="NEXT")
        # one page: the size follows the number of rows, down to a legible minimum
        size = 10 if count <= 25 else max(6, 10 - (count - 25) // 8)
        line = max(3.5, size * 0.5)
        pdf.set_font("Helvetica", "", size)
        for meeting in meetings:
            track = f"{meeting.area_code}) {meeting.track_name}" + (f" - {meeting.title}" if meeting.title else "")
            if pdf.get_y() > pdf.h - 60:
                pdf.cell(width, line, "...", new_x="LMARGIN", new_y="NEXT")
                break
            pdf.cell(60, line, latin1(formatting.format_day(meeting.starts_at)))
            pdf.cell(width - 60, line, latin1(track[:95]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)

    pdf.set_font("Helvetica", "", 11)
    pdf.cell(width, 6, latin1(f"{place_of(call)}, {formatting.format_long_date(issued_on)}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.cell(width, 6, latin1(call.office_name), align="R", new_x="LMARGIN", new_y="NEXT")
    if call.procedure_manager:
        pdf.set_font("Helvetica", "", 9)
        manager = call.procedure_manager.split(" (", 1)[0]  # without the notes in brackets
        pdf.multi_cell(width, 5, latin1(manager), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
