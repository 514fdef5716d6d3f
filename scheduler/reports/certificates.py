"""The certificate of participation (attestato di partecipazione), made with fpdf2.

One builder for staff (`/gestione/partecipazione/enti/<id>/attestato.pdf`, any entity, any period) and for the
entity itself (`/area-riservata/partecipazione/<slug>/attestato.pdf`, its own, the whole call). A4 portrait: the
Ambito's heading (lead municipality, office, Ambito), the statement, the meetings attended as a table whose
columns share the page's effective width (long texts wrap, the table continues on the next page with its
heading repeated), the place and date, and the signature block of the call's procedure manager.

The document is Italian whatever the page's language: it is the office's formal statement.
"""

from __future__ import annotations

from datetime import date

from fpdf import FPDF, FontFace

from scheduler import formatting
from scheduler.calls.models import Call
from scheduler.registry.models import Organization
from scheduler.reports.services import AttendedMeeting

#: Typographic characters outside latin-1 that the core fonts cannot draw, and their plain equivalents.
REPLACEMENTS = {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "€": "EUR", "•": "-"}

#: Page margins in mm (left, top, right) and the bottom margin where a page breaks.
MARGIN = 20
BOTTOM = 22

#: The table's columns: heading and share of the effective page width (the shares sum to 1).
COLUMNS = (("Data", 0.27), ("Percorso", 0.38), ("Incontro", 0.35))
#: The same with the hours of participation, when a register recorded departures.
COLUMNS_WITH_HOURS = (("Data", 0.25), ("Percorso", 0.33), ("Incontro", 0.28), ("Ore", 0.14))

#: Height of the signature block in mm: it starts on a new page rather than being split.
SIGNATURE_HEIGHT = 48


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


def signatory(procedure_manager: str) -> tuple[str, str]:
    """(name, role) of the call's procedure manager, written in the call file as "Name Surname, role (notes)":
    the notes in brackets are left out; without a comma the whole text is the name."""
    text = procedure_manager.split(" (", 1)[0].strip()
    name, _comma, role = text.partition(", ")
    return name.strip(), role.strip()


def column_widths(effective_width: float, columns: tuple[tuple[str, float], ...] = COLUMNS) -> list[float]:
    """The columns' widths in mm: together exactly the effective width, so no column passes the right margin."""
    widths = [effective_width * share for _heading, share in columns]
    widths[-1] = effective_width - sum(widths[:-1])
    return widths


def meeting_label(meeting: AttendedMeeting) -> str:
    """The meeting's own title, else its number in the table ("Incontro 3"), as calendars name it."""
    if meeting.title:
        return meeting.title
    return f"Incontro {meeting.number}" if meeting.number else "-"


def fitted(pdf: FPDF, text: str, width: float) -> str:
    """`text` cut (with "...") to fit `width` mm in the current font: for one-line cells such as the footer."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text.rstrip() + "..."


class CertificatePDF(FPDF):
    """A4 with the office's margins and a footer naming the entity and the page."""

    def __init__(self, footer_text: str = "") -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(self.epw * 0.75, 5, fitted(self, self.footer_text, self.epw * 0.75 - 2), align="L")
        self.cell(self.epw * 0.25, 5, f"Pagina {self.page_no()} di {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def _heading(pdf: FPDF, call: Call) -> None:
    """The Ambito's heading: lead municipality, office and Ambito, with a rule under them."""
    width = pdf.epw
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(width, 7, latin1(call.lead_municipality), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(width, 5.5, latin1(call.office_name), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 5.5, latin1(call.ambito.name), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_draw_color(120, 120, 120)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(12)


def _table(pdf: FPDF, meetings: list[AttendedMeeting]) -> None:
    hours = any(m.minutes is not None for m in meetings)
    columns = COLUMNS_WITH_HOURS if hours else COLUMNS
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(
        width=pdf.epw, col_widths=column_widths(pdf.epw, columns), align="LEFT", text_align="LEFT", v_align="TOP",
        line_height=5, padding=(1.2, 1.5), borders_layout="HORIZONTAL_LINES", repeat_headings=1,
        headings_style=FontFace(emphasis="BOLD"),
    ) as table:
        table.row([heading for heading, _share in columns])
        for meeting in meetings:
            cells = [
                latin1(formatting.format_day(meeting.starts_at)),
                latin1(f"{meeting.area_code}) {meeting.track_name}"),
                latin1(meeting_label(meeting)),
            ]
            if hours:
                cells.append(formatting.hours_text(meeting.minutes) if meeting.minutes is not None else "-")
            table.row(cells)


def _signature(pdf: FPDF, call: Call, issued_on: date) -> None:
    """Place and date on the left; on the right the procedure manager's role, name and a line to sign on."""
    if pdf.get_y() + SIGNATURE_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
    width = pdf.epw
    top = pdf.get_y()
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(width / 2 - 5, 6, latin1(f"{place_of(call)}, {formatting.format_long_date(issued_on)}"),
                   align="L", new_x="LMARGIN", new_y="NEXT")
    block_x, block_w = pdf.l_margin + width / 2, width / 2
    pdf.set_xy(block_x, top)
    name, role = signatory(call.procedure_manager or "")
    pdf.set_font("Helvetica", "I", 10)
    pdf.multi_cell(block_w, 5, "Il responsabile del procedimento" if name else "Per l'Ufficio di Piano",
                   align="C", new_x="LEFT", new_y="NEXT")
    if role:
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(block_w, 5, latin1(role), align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(block_w, 6, latin1(name or call.office_name), align="C", new_x="LEFT", new_y="NEXT")
    pdf.ln(14)
    line_y = pdf.get_y()
    pdf.line(block_x + 8, line_y, block_x + block_w - 8, line_y)
    pdf.set_xy(block_x, line_y + 1)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(block_w, 4, "(firma)", align="C", new_x="LMARGIN", new_y="NEXT")


def certificate_pdf(call: Call, organization: Organization, meetings: list[AttendedMeeting], *,
                    date_from: date | None, date_to: date | None, issued_on: date) -> bytes:
    """The certificate: every meeting listed (the table continues on further pages), texts wrapped within the
    margins."""
    pdf = CertificatePDF(latin1(f"Attestato di partecipazione - {organization.name}"))
    pdf.add_page()
    pdf.set_title(latin1(f"Attestato di partecipazione - {organization.name}"))
    pdf.set_author(latin1(call.office_name))
    pdf.set_creator("Tavoli")

    _heading(pdf, call)

    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(pdf.epw, 10, "Attestato di partecipazione", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    pdf.set_font("Helvetica", "", 11)
    count = len(meetings)
    body = (
        f"Si attesta che l'ente \"{organization.name}\" (codice fiscale {organization.codice_fiscale}) "
        f"ha partecipato, {period_text(date_from, date_to)}, "
        + (f"a {count} incontr{'o' if count == 1 else 'i'} " if count else "a nessun incontro ")
        + f"dei tavoli di co-programmazione del {call.plan_title} ({call.ambito.name})"
        + (", elencati di seguito." if count else ".")
    )
    pdf.multi_cell(pdf.epw, 6, latin1(body), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    if meetings:
        _table(pdf, meetings)
    pdf.ln(12)
    _signature(pdf, call, issued_on)
    return bytes(pdf.output())
