"""The entity's record in its reserved area (/area-riservata/partecipazione): its past meetings, present or
absent and who of its people came; its certificate (the staff's PDF) and its attendance as CSV, always its own.
And the certificate's layout: every cell within the margins, long titles wrapped, the Ambito's heading and the
signature block of the call's procedure manager."""

from __future__ import annotations

import csv
import html
import io
import re
import types
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from scheduler import timeutil
from scheduler.attendance.models import Attendance, AttendanceMethod
from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, MeetingStatus, Rsvp, RsvpStatus
from scheduler.calls.loader import load_call, parse_call_text
from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.reports import certificates, record
from scheduler.reports.services import AttendedMeeting
from scheduler.timeutil import local_instant
from tests.conftest import CALL_FILE, AuthActions
from tests.factories import make_entity, make_meeting, sign_in_with_link
from tests.queries import count_queries

PAGE = "/area-riservata/partecipazione"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
YES, NO, WAITLIST = RsvpStatus.YES, RsvpStatus.NO, RsvpStatus.WAITLIST
STAFF = "ufficio@comune.crema.example.org"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(timeutil, "clock", lambda: NOW)


def meeting_on(app, area: str, day: date, *, status: MeetingStatus = MeetingStatus.SCHEDULED,
               title: str | None = None) -> int:
    meeting_id = make_meeting(app, area=area)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        starts = local_instant(day, time(9, 30))
        meeting.starts_at, meeting.ends_at, meeting.status = starts, starts + timedelta(hours=3), status
        meeting.title = title
        db.session.commit()
    return meeting_id


def answer(meeting_id: int, org_id: int, status: RsvpStatus = YES) -> None:
    db.session.add(Rsvp(meeting_id=meeting_id, organization_id=org_id, status=status))


def came(meeting_id: int, org_id: int | None, name: str, *, undone: bool = False,
         method: AttendanceMethod = AttendanceMethod.HAND, guest: str | None = None) -> None:
    db.session.add(Attendance(meeting_id=meeting_id, organization_id=org_id, person_name=name, method=method,
                              guest_organization=guest, undone_at=NOW if undone else None))


@pytest.fixture
def known(app, crema) -> dict:
    """Two entities and their meetings; what each entity's record shows is written next to the rows."""
    uno = make_entity(app, "Ente Uno", areas=("A", "B"))
    due = make_entity(app, "Ente Due", areas=("B",))
    o1, o2 = uno["organization"], due["organization"]
    m = {
        "m1": meeting_on(app, "A", date(2026, 3, 10)),
        "m2": meeting_on(app, "B", date(2026, 5, 12), title="Le reti di prossimità"),
        "m3": meeting_on(app, "B", date(2026, 6, 16)),
        "m4": meeting_on(app, "A", date(2026, 7, 7)),
        "m5": meeting_on(app, "B", date(2026, 9, 1)),
        "m6": meeting_on(app, "A", date(2026, 9, 15)),
        "cancelled": meeting_on(app, "A", date(2026, 4, 1), status=MeetingStatus.CANCELLED),
        "future": meeting_on(app, "A", date(2026, 12, 15)),
    }
    with app.app_context():
        # m1: uno confirmed, two people came (a third mark was undone) -> present, Anna Rossi and Bruno Neri
        answer(m["m1"], o1)
        came(m["m1"], o1, "Anna Rossi", method=AttendanceMethod.QR)
        came(m["m1"], o1, "Bruno Neri")
        came(m["m1"], o1, "Carla Annullata", undone=True)
        came(m["m1"], None, "Ospite Esterno", method=AttendanceMethod.WALK_IN, guest="Parrocchia")
        # m2: uno confirmed and nobody came -> absent; due confirmed and came
        answer(m["m2"], o1)
        answer(m["m2"], o2)
        came(m["m2"], o2, "Dario Due")
        # m3: uno did not answer but came -> present, Elena Bianchi
        came(m["m3"], o1, "Elena Bianchi", method=AttendanceMethod.WALK_IN)
        # m4: uno said no and stayed away -> not listed
        answer(m["m4"], o1, NO)
        # m5: uno confirmed, its only mark was undone -> absent, nobody named
        answer(m["m5"], o1)
        came(m["m5"], o1, "Franco Annullato", undone=True)
        # m6: uno was on the waiting list and did not come -> not listed
        answer(m["m6"], o1, WAITLIST)
        # a cancelled and a future meeting: never listed
        for key in ("cancelled", "future"):
            answer(m[key], o1)
            came(m[key], o1, "Gino Fuori")
        db.session.commit()
        slug = db.session.scalar(sa.select(Call.slug))
    return {"uno": uno, "due": due, "meetings": m, "slug": slug}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def record_rows(page: str, slug: str) -> dict[int, tuple[str, str]]:
    """meeting id -> (presence, people) of the record's table."""
    body = re.search(rf'<table[^>]*id="record-table-{slug}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = {}
    for meeting_id, row in re.findall(r'<tr data-meeting="(\d+)"[^>]*>(.*?)</tr>', body, re.S):
        cells = {col: " ".join(re.sub(r"<[^>]+>", " ", value).split())
                 for col, value in re.findall(r'<td data-col="(\w+)">(.*?)</td>', row, re.S)}
        rows[int(meeting_id)] = (cells["presence"], cells["people"])
    return rows


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages), len(reader.pages)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


# --- the page --------------------------------------------------------------------------------------------------


def test_the_page_shows_present_and_absent_and_who_came(client, app, known):
    sign_in_with_link(client, app, known["uno"]["user"])
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    page = text(response)
    m = known["meetings"]
    rows = record_rows(page, known["slug"])
    assert list(rows) == [m["m5"], m["m3"], m["m2"], m["m1"]]  # the most recent first
    assert rows[m["m1"]] == ("Presente", "Anna Rossi, Bruno Neri")
    assert rows[m["m2"]] == ("Assente", "– nessuno")
    assert rows[m["m3"]] == ("Presente", "Elena Bianchi")
    assert rows[m["m5"]] == ("Assente", "– nessuno")
    assert "Le reti di prossimità" in page and "Incontro " in page
    assert "Presente a 2 incontri · assente a 2 incontri confermati" in page
    for stranger in ("Carla Annullata", "Franco Annullato", "Ospite Esterno", "Dario Due", "Ente Due", "Gino Fuori"):
        assert stranger not in page
    slug = known["slug"]
    assert f'href="/area-riservata/partecipazione/{slug}/attestato.pdf"' in page
    assert f'href="/area-riservata/partecipazione/{slug}/presenze.csv"' in page
    assert "Scarica l'attestato (PDF)" in page and "Scarica le presenze (CSV)" in page
    # the reserved area links to it
    assert f'href="{PAGE}"' in text(client.get("/area-riservata"))


def test_another_entity_sees_only_its_own_record(client, app, known):
    sign_in_with_link(client, app, known["due"]["user"])
    page = text(client.get(PAGE))
    assert record_rows(page, known["slug"]) == {known["meetings"]["m2"]: ("Presente", "Dario Due")}
    for stranger in ("Anna Rossi", "Bruno Neri", "Elena Bianchi", "Ente Uno"):
        assert stranger not in page
    # its downloads are its own: an entity id in the query string is not read
    other = known["uno"]["organization"]
    csv_text = client.get(f"{PAGE}/{known['slug']}/presenze.csv?organization_id={other}").get_data().decode()
    assert "Dario Due" in csv_text and "Anna Rossi" not in csv_text and "Elena Bianchi" not in csv_text
    content, _pages = pdf_text(client.get(f"{PAGE}/{known['slug']}/attestato.pdf?ente={other}").get_data())
    assert "Ente Due" in content and "Ente Uno" not in content and "a 1 incontro" in content


def test_an_entity_with_no_meetings_yet_sees_so(client, app, known):
    tre = make_entity(app, "Ente Tre", areas=("C",))
    sign_in_with_link(client, app, tre["user"])
    page = text(client.get(PAGE))
    assert "Non ci sono ancora incontri conclusi per questo avviso." in page
    assert "Anna Rossi" not in page and "Dario Due" not in page


# --- the downloads ---------------------------------------------------------------------------------------------


def test_the_entity_downloads_its_certificate(client, app, known):
    sign_in_with_link(client, app, known["uno"]["user"])
    response = client.get(f"{PAGE}/{known['slug']}/attestato.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="attestato-{known["slug"]}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
    content, pages = pdf_text(response.get_data())
    assert pages == 1
    # the Ambito's heading
    assert content.startswith("Comune di Crema Ufficio di Piano dell'Ambito territoriale di Crema "
                              "Ambito territoriale di Crema Attestato di partecipazione")
    assert "Ente Uno" in content and "a 2 incontri" in content and "dall'avvio dei tavoli" in content
    assert "martedì 10 marzo 2026" in content and "martedì 16 giugno 2026" in content
    assert "12 maggio 2026" not in content and "1 settembre 2026" not in content  # absent
    assert "15 dicembre 2026" not in content and "1 aprile 2026" not in content  # future, cancelled
    # the signature block: the procedure manager of the call file, name and role, without the notes
    assert "Crema, 25 novembre 2026" in content
    assert "Il responsabile del procedimento" in content
    assert "Direttore dell'Area 3 del Comune di Crema" in content and "Dott.ssa Francesca Moruzzi" in content
    assert "potere sostitutivo" not in content
    assert "Pagina 1 di 1" in content


def test_the_entitys_certificate_is_the_staffs(client, app, known, make_user, auth):
    """One builder: the entity's PDF says what staff download for the whole call."""
    sign_in_with_link(client, app, known["uno"]["user"])
    own = pdf_text(client.get(f"{PAGE}/{known['slug']}/attestato.pdf").get_data())
    staff = app.test_client()
    make_user(STAFF)
    AuthActions(staff).login(STAFF)
    response = staff.get(f"/gestione/partecipazione/enti/{known['uno']['organization']}/attestato.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert pdf_text(response.get_data()) == own


def test_the_entity_downloads_its_attendance_as_csv(client, app, known):
    sign_in_with_link(client, app, known["uno"]["user"])
    response = client.get(f"{PAGE}/{known['slug']}/presenze.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="presenze-{known["slug"]}.csv"'
    rows = csv_rows(response.get_data())
    assert rows[0] == ["Data", "Inizio", "Fine", "Area", "Percorso", "Incontro", "Presenza", "Persone presenti"]
    body = [(r[0], r[1], r[2], r[3], r[5], r[6], r[7]) for r in rows[1:]]
    assert body == [
        ("10/03/2026", "09:30", "12:30", "A", "Incontro 1", "Presente", "Anna Rossi, Bruno Neri"),
        ("12/05/2026", "09:30", "12:30", "B", "Le reti di prossimità", "Assente", ""),
        ("16/06/2026", "09:30", "12:30", "B", "Incontro 2", "Presente", "Elena Bianchi"),
        ("01/09/2026", "09:30", "12:30", "B", "Incontro 3", "Assente", ""),
    ]
    assert all(r[4].startswith("Tavolo ") for r in rows[1:])


def test_a_call_the_entity_has_no_part_in_is_not_found(client, app, known):
    text_ = CALL_FILE.read_text(encoding="utf-8").replace('slug = "crema-2025-2027"', 'slug = "crema-2028-2030"')
    with app.app_context():
        load_call(parse_call_text(text_))
        db.session.commit()
    sign_in_with_link(client, app, known["uno"]["user"])
    for name in ("attestato.pdf", "presenze.csv"):
        assert client.get(f"{PAGE}/crema-2028-2030/{name}").status_code == 404
        assert client.get(f"{PAGE}/nessun-avviso/{name}").status_code == 404
        assert client.get(f"{PAGE}/{known['slug']}/{name}").status_code == 200
    assert record_rows(text(client.get(PAGE)), known["slug"])  # the other call adds no section
    assert 'id="record-crema-2028-2030"' not in text(client.get(PAGE))


# --- access ----------------------------------------------------------------------------------------------------


def urls(known) -> list[str]:
    return [PAGE, f"{PAGE}/{known['slug']}/attestato.pdf", f"{PAGE}/{known['slug']}/presenze.csv"]


def test_anonymous_visitors_are_sent_to_sign_in(client, known):
    for url in urls(known):
        response = client.get(url)
        assert response.status_code == 302 and "/accedi" in response.headers["Location"], url


@pytest.mark.parametrize("role", [Role.STAFF, Role.FACILITATOR])
def test_staff_and_facilitators_are_refused(client, known, make_user, auth, role):
    make_user("persona@example.org", role=role)
    auth.login("persona@example.org")
    for url in urls(known):
        assert client.get(url).status_code == 403, url


def test_the_staff_certificate_still_works_with_a_period(client, known, make_user, auth):
    make_user(STAFF)
    auth.login(STAFF)
    org = known["uno"]["organization"]
    response = client.get(f"/gestione/partecipazione/enti/{org}/attestato.pdf?dal=2026-06-01&al=2026-12-31")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    content, _pages = pdf_text(response.get_data())
    assert "a 1 incontro" in content and "dal 1 giugno 2026 al 31 dicembre 2026" in content
    assert "martedì 16 giugno 2026" in content and "10 marzo 2026" not in content
    assert client.get(f"/gestione/partecipazione/enti/{known['due']['organization']}/attestato.pdf").status_code == 200


# --- the PDF's layout ------------------------------------------------------------------------------------------


class RecordingPDF(certificates.CertificatePDF):
    """Records every cell's box, and the text of one-line cells, to check them against the margins."""

    boxes: list[tuple[str, float, float, float, float, str]] = []

    def _box(self, kind: str, w: float | None, text: str) -> None:
        if not isinstance(self._out, types.MethodType):
            return  # a table measuring its rows (fpdf2 writes nothing then, at no position)
        width = w if w else self.w - self.r_margin - self.x
        RecordingPDF.boxes.append((kind, self.x, width, self.l_margin, self.w - self.r_margin, text))

    def cell(self, w=None, h=None, text="", *args, **kwargs):
        self._box("cell", w, str(text))
        return super().cell(w, h, text, *args, **kwargs)

    def multi_cell(self, w, h=None, text="", *args, **kwargs):
        if not kwargs.get("dry_run"):
            self._box("multi_cell", w, str(text))
        return super().multi_cell(w, h, text, *args, **kwargs)


def build(app, meetings: list[AttendedMeeting], monkeypatch, *, manager: str | None = None) -> bytes:
    monkeypatch.setattr(certificates, "CertificatePDF", RecordingPDF)
    RecordingPDF.boxes = []
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        if manager is not None:
            call.procedure_manager = manager
        organization = SimpleNamespace(name="Associazione con un nome molto lungo " * 4, codice_fiscale="80012345678")
        return certificates.certificate_pdf(call, organization, meetings, date_from=None, date_to=None,
                                            issued_on=date(2026, 11, 25))


def test_the_columns_share_the_effective_width():
    for width in (170.0, 190.0, 123.4):
        widths = certificates.column_widths(width)
        assert len(widths) == len(certificates.COLUMNS)
        assert sum(widths) == pytest.approx(width) and sum(widths) <= width + 1e-9
    assert sum(share for _heading, share in certificates.COLUMNS) == pytest.approx(1)


def test_long_titles_wrap_within_the_margins_and_every_meeting_is_listed(app, crema, monkeypatch):
    words = "Coprogettazione dei servizi territoriali per la domiciliarità e l'inclusione"
    long_title = (words + " ") * 4
    long_title = long_title[:300].rsplit(" ", 1)[0] + " FINE"
    start = datetime(2025, 1, 7, 8, 30, tzinfo=UTC)
    meetings = [AttendedMeeting(start + timedelta(weeks=i), start + timedelta(weeks=i, hours=3),
                                "Tavolo Fragilità (Anziani e Persone con disabilità) – attuazione", "B",
                                long_title if i in (0, 29) else None, i + 1) for i in range(40)]
    content, pages = pdf_text(build(app, meetings, monkeypatch))
    assert pages >= 2  # the table goes on: no meeting left out
    assert content.count("FINE") == 2 and " ".join(long_title.split()) in content
    for i in range(1, 41):
        if i not in (1, 30):
            assert f"Incontro {i} " in content + " ", i
    assert "a 40 incontri" in content and "Dott.ssa Francesca Moruzzi" in content
    assert content.count("Data Percorso Incontro") == pages  # the heading repeated on every page of the table
    assert content.count("...") == pages  # only the footer's entity name is cut, never a row
    assert sum(1 for box in RecordingPDF.boxes if box[0] == "multi_cell" and "FINE" in box[5]) == 2
    outside = [b for b in RecordingPDF.boxes if b[1] < b[3] - 0.01 or b[1] + b[2] > b[4] + 0.01]
    assert not outside, outside[:3]


def test_one_line_cells_hold_their_text(app, crema, monkeypatch):
    build(app, [], monkeypatch)
    with app.app_context():
        pdf = certificates.CertificatePDF()
        pdf.add_page()
        for kind, _x, width, _left, _right, text_ in RecordingPDF.boxes:
            if kind == "cell" and text_ and "{nb}" not in text_:
                pdf.set_font("Helvetica", "", 8)
                assert pdf.get_string_width(text_) <= width, text_


@pytest.mark.parametrize(("manager", "expected", "absent"), [
    ("Mario Bianchi, Dirigente dei Servizi sociali", ["Il responsabile del procedimento", "Dirigente dei Servizi "
                                                      "sociali", "Mario Bianchi"], []),
    ("Mario Bianchi", ["Il responsabile del procedimento", "Mario Bianchi"], []),
    ("", ["Per l'Ufficio di Piano", "Ufficio di Piano dell'Ambito territoriale di Crema (firma)"],
     ["Il responsabile del procedimento"]),
])
def test_the_signature_block_follows_the_call(app, crema, monkeypatch, manager, expected, absent):
    content, _pages = pdf_text(build(app, [], monkeypatch, manager=manager))
    assert "a nessun incontro" in content
    for words in expected:
        assert words in content
    for words in absent:
        assert words not in content


def test_the_procedure_manager_is_split_into_name_and_role():
    assert certificates.signatory("Dott.ssa Francesca Moruzzi, Direttore dell'Area 3 del Comune di Crema "
                                  "(potere sostitutivo: il Segretario Generale)") == (
        "Dott.ssa Francesca Moruzzi", "Direttore dell'Area 3 del Comune di Crema")
    assert certificates.signatory("Mario Bianchi") == ("Mario Bianchi", "")
    assert certificates.signatory("") == ("", "")


def test_the_record_reads_a_fixed_number_of_queries(app, known):
    with app.app_context():
        org = known["uno"]["organization"]
        with count_queries(app) as statements:
            records = record.entity_record(org)
        assert [len(r.meetings) for r in records] == [4]
        assert len(statements) <= 3, statements
