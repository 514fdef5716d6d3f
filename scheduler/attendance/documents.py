"""Printable sheets of a meeting and the scanned, signed register.

- `signin_sheet_pdf()`: the sign-in sheet printed before the meeting, pre-filled from the confirmed answers
  (entity, person, role, a signature column), blank rows for walk-ins and a QR per entity for check-in.
- `minutes_pdf()`: the minutes sheet (verbale) printed after the register is closed.
- `check_upload()` / `store_signed_sheet()`: the scanned signed sheet, checked by its content, never its name
  (the rule every upload follows is `scheduler.uploads`; this module says what a scan may be).

The builders are pure (no request, no database query of their own): they take the objects and return bytes.
The PDFs use the core Helvetica font, which every machine has; its encoding is latin-1 (Italian accents
included), so other characters are written with their closest latin-1 form or "?".
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from scheduler.attendance.models import Attendance, RegisterEvent, SignedSheet
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.extensions import db
from scheduler.formatting import format_instant, format_when
from scheduler.uploads import (
    JPEG,
    PDF,
    PNG,
    UploadError,
    UploadRule,
    accept_upload,
    sniff_content_type,  # noqa: F401  (the register's callers read it from here)
)
from scheduler.uploads import check_upload as _check_upload
from scheduler.uploads import safe_filename as _safe_filename

#: The largest scanned sheet accepted, unless the app sets SIGNED_SHEET_MAX_BYTES.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

#: A refused upload (the name the register's callers know); the message is for the person who sent it.
DocumentError = UploadError

#: What the scan of a signed sheet may be, and what the person reads when it is refused.
SCAN = UploadRule(
    accepted=(PDF, PNG, JPEG),
    empty="Il file è vuoto: scegli la scansione del foglio firmato.",
    wrong_kind="Il file non è un PDF, un PNG o un JPEG: carica la scansione in uno di questi formati.",
    too_large_advice="Scansiona a risoluzione più bassa o in bianco e nero.",
    default_stem="foglio-firmato",
)


# --- text for the core font --------------------------------------------------------------------------------------

_SUBSTITUTES = {
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201a": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2026": "...", "\u20ac": "EUR", "\u00a0": " ",
    "\u2022": "-", "\u0152": "OE", "\u0153": "oe", "\u0141": "L", "\u0142": "l", "\u0110": "D",
    "\u0111": "d", "\u0131": "i",
}


def pdf_text(text: str | None) -> str:
    """`text` as the latin-1 core font can print it: accents kept, other letters without their marks, else '?'."""
    out = []
    for char in text or "":
        if ord(char) < 256:
            out.append(char)
        elif char in _SUBSTITUTES:
            out.append(_SUBSTITUTES[char])
        else:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


# --- the PDF frame -------------------------------------------------------------------------------------------------


class _Sheet(FPDF):
    """A4 portrait with the call's header on every page and page numbers in the footer."""

    def __init__(self, heading: str, subheading: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.heading = pdf_text(heading)
        self.subheading = pdf_text(subheading)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90)
        self.cell(0, 4, self.subheading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.set_draw_color(0, 102, 204)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.set_line_width(0.2)
        self.set_draw_color(0)
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90)
        self.cell(0, 5, f"{self.heading} - pagina {self.page_no()} di {{nb}}", align="C")
        self.set_text_color(0)

    def title_block(self, title: str, lines: Iterable[tuple[str, str]]) -> None:
        self.set_font("Helvetica", "B", 15)
        self.multi_cell(0, 7, pdf_text(title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        for label, value in lines:
            self.set_font("Helvetica", "B", 10)
            self.cell(32, 6, pdf_text(label))
            self.set_font("Helvetica", "", 10)
            self.multi_cell(0, 6, pdf_text(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def section(self, title: str) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, pdf_text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Helvetica", "", 10)

    def output_bytes(self) -> bytes:
        return bytes(self.output())


def _meeting_lines(meeting: Meeting, facilitator_names: Sequence[str] = ()) -> list[tuple[str, str]]:
    track = meeting.track
    call = track.call
    lines = [
        ("Avviso", call.title),
        ("Percorso", f"{track.name} (area {track.area.code}) {track.area.full_name}".strip()),
        ("Data", format_when(meeting.starts_at, meeting.ends_at)),
        ("Sede", meeting.venue.location if meeting.venue else "Sede da definire"),
    ]
    if meeting.title:
        lines.insert(2, ("Incontro", meeting.title))
    if facilitator_names:
        lines.append(("Facilitazione", ", ".join(facilitator_names)))
    return lines


def _subheading(meeting: Meeting) -> str:
    call = meeting.track.call
    return f"{call.lead_municipality} - {call.office_name} - {call.plan_title}"


def checkin_url(meeting: Meeting, checkin_code: str, base_url: str) -> str:
    """The address an entity's QR opens: the facilitator's phone checks the entity in there."""
    return f"{base_url.rstrip('/')}/presenze/{meeting.id}/codice/{checkin_code}"


def _qr_png(url: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=4, border=2)
    buffer.seek(0)
    return buffer


# --- sign-in sheet -----------------------------------------------------------------------------------------------


def confirmed_rsvps(rsvps: Iterable[Rsvp]) -> list[Rsvp]:
    """The answers that hold a seat, by entity name."""
    return sorted((r for r in rsvps if r.status is RsvpStatus.YES), key=lambda r: r.organization.name.lower())


def signin_sheet_pdf(meeting: Meeting, rsvps: Iterable[Rsvp], base_url: str, blank_rows: int = 10) -> bytes:
    """The sign-in sheet: one block per confirmed entity (its QR, its people, a row to sign each), then blank
    rows for people not announced."""
    pdf = _Sheet("Foglio firme", _subheading(meeting))
    pdf.set_title(pdf_text(f"Foglio firme - {meeting.track.name}"))
    pdf.add_page()
    pdf.title_block("Foglio firme delle presenze", _meeting_lines(meeting, _facilitators(meeting)))

    widths = (62, 58, 60)  # ente / persona e ruolo / firma: 180 mm of the 180 available
    row_h = 10

    def table_header() -> None:
        pdf.set_font("Helvetica", "B", 10)
        pdf.set_fill_color(230, 238, 247)
        for width, label in zip(widths, ("Ente", "Persona (ruolo)", "Firma"), strict=True):
            pdf.cell(width, 7, label, border=1, fill=True)
        pdf.ln(7)
        pdf.set_font("Helvetica", "", 10)

    def ensure_room(height: float) -> None:
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            table_header()

    table_header()
    qr_size = 22
    for rsvp in confirmed_rsvps(rsvps):
        people = rsvp.people or [{"name": "", "role": ""}]
        block_h = max(row_h * len(people), qr_size + 8)
        ensure_room(block_h)
        top = pdf.get_y()
        x = pdf.l_margin
        # the entity cell spans the block: name, QR and the short code to read aloud
        pdf.rect(x, top, widths[0], block_h)
        pdf.set_xy(x + 1, top + 1)
        pdf.set_font("Helvetica", "B", 9)
        pdf.multi_cell(widths[0] - qr_size - 3, 4.5, pdf_text(rsvp.organization.name), align="L")
        if rsvp.short_code:
            pdf.set_x(x + 1)
            pdf.set_font("Helvetica", "", 8)
            pdf.multi_cell(widths[0] - qr_size - 3, 4, pdf_text(f"Codice: {rsvp.short_code}"))
        if rsvp.checkin_code:
            pdf.image(_qr_png(checkin_url(meeting, rsvp.checkin_code, base_url)),
                      x=x + widths[0] - qr_size - 1, y=top + 1, w=qr_size, h=qr_size)
        pdf.set_font("Helvetica", "", 10)
        each_h = block_h / len(people)
        for index, person in enumerate(people):
            y = top + index * each_h
            pdf.set_xy(x + widths[0], y)
            label = person.get("name", "")
            if person.get("role"):
                label += f" ({person['role']})"
            pdf.multi_cell(widths[1], each_h, pdf_text(label), border=1, max_line_height=5,
                           new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.cell(widths[2], each_h, "", border=1)
        pdf.set_xy(x, top + block_h)

    for _ in range(blank_rows):
        ensure_room(row_h)
        for width in widths:
            pdf.cell(width, row_h, "", border=1)
        pdf.ln(row_h)

    pdf.ln(4)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(0, 4, pdf_text(
        "Chi non è in elenco scrive nelle righe vuote l'ente (o \"a titolo personale\"), nome, ruolo e firma. "
        "Il QR di ciascun ente apre la sua registrazione sul telefono del facilitatore."
    ), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.output_bytes()


def _facilitators(meeting: Meeting) -> list[str]:
    return [user.display_name for user in meeting.track.facilitators]


# --- minutes ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresentGroup:
    """The people present for one entity (or for a guest body, or on their own)."""

    label: str
    people: list[tuple[str, str]]


def present_groups(attendances: Iterable[Attendance]) -> list[PresentGroup]:
    """Who was there, grouped by entity (admitted entities first, then guests), undone marks left out."""
    entities: dict[str, list[tuple[str, str]]] = {}
    guests: dict[str, list[tuple[str, str]]] = {}
    for row in attendances:
        if row.undone_at is not None:
            continue
        if row.organization is not None:
            entities.setdefault(row.organization.name, []).append((row.person_name, row.person_role or ""))
        else:
            label = f"{row.guest_organization} (ospite)" if row.guest_organization else "A titolo personale"
            guests.setdefault(label, []).append((row.person_name, row.person_role or ""))
    groups = [PresentGroup(name, people) for name, people in sorted(entities.items(), key=lambda i: i[0].lower())]
    groups += [PresentGroup(name, people) for name, people in sorted(guests.items(), key=lambda i: i[0].lower())]
    return groups


def minutes_pdf(meeting: Meeting, attendances: Iterable[Attendance], facilitator_names: Sequence[str],
                base_url: str) -> bytes:
    """The minutes sheet: the meeting, the entities and people present, the facilitator's notes."""
    groups = present_groups(attendances)
    pdf = _Sheet("Verbale", _subheading(meeting))
    pdf.set_title(pdf_text(f"Verbale - {meeting.track.name}"))
    pdf.add_page()
    pdf.title_block("Verbale dell'incontro", _meeting_lines(meeting, facilitator_names))

    people_count = sum(len(g.people) for g in groups)
    entity_count = sum(1 for g in groups if not g.label.endswith("(ospite)") and g.label != "A titolo personale")
    pdf.section(f"Enti presenti: {entity_count} - persone presenti: {people_count}")
    if not groups:
        pdf.multi_cell(0, 6, "Nessuna presenza registrata.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    widths = (80, 100)
    for group in groups:
        height = 6 * len(group.people)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(widths[0], 6, pdf_text(group.label), align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
        left_bottom = pdf.get_y()
        pdf.set_font("Helvetica", "", 10)
        pdf.set_xy(pdf.l_margin + widths[0], top)
        for name, role in group.people:
            pdf.set_x(pdf.l_margin + widths[0])
            pdf.multi_cell(widths[1], 6, pdf_text(f"{name} ({role})" if role else name),
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        bottom = max(pdf.get_y(), left_bottom, top + 6)
        pdf.set_draw_color(200)
        pdf.line(pdf.l_margin, bottom + 1, pdf.w - pdf.r_margin, bottom + 1)
        pdf.set_draw_color(0)
        pdf.set_xy(pdf.l_margin, bottom + 2)

    pdf.section("Note")
    notes = (meeting.register_notes or "").strip()
    pdf.multi_cell(0, 6, pdf_text(notes or "Nessuna nota."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(4)
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(90)
    if meeting.register_closed_at:
        pdf.multi_cell(0, 4, pdf_text(f"Registro chiuso il {format_instant(meeting.register_closed_at)}."),
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(0, 4, "Registro non ancora chiuso: bozza.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(0, 4, pdf_text(f"Registro online: {base_url.rstrip('/')}/presenze/{meeting.id}"),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)
    return pdf.output_bytes()


# --- the scanned signed sheet ---------------------------------------------------------------------------------------


def check_upload(filename: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The content type of an uploaded scan, from its content; DocumentError if it is empty, too big or of
    another kind (whatever its name says)."""
    return _check_upload(data, SCAN, max_bytes)


def safe_filename(filename: str, content_type: str) -> str:
    """A plain name to store and to offer on download, with the extension of the real content."""
    return _safe_filename(filename, content_type, SCAN.default_stem)


def store_signed_sheet(meeting: Meeting, filename: str, data: bytes, actor_id: int | None,
                       max_bytes: int = DEFAULT_MAX_BYTES) -> SignedSheet:
    """Keep the scan of the signed sheet with the meeting and log it; does not commit."""
    scan = accept_upload(filename, data, SCAN, max_bytes)
    sheet = SignedSheet(
        meeting_id=meeting.id, filename=scan.filename, content_type=scan.content_type, size=scan.size,
        sha256=scan.sha256, data=scan.data, uploaded_by_id=actor_id,
    )
    db.session.add(sheet)
    db.session.flush()
    db.session.add(RegisterEvent(
        meeting_id=meeting.id, actor_id=actor_id, action="sheet_uploaded",
        detail=f"{sheet.filename} ({scan.content_type}, {scan.size} byte, sha256 {sheet.sha256[:12]})",
    ))
    db.session.flush()
    return sheet
