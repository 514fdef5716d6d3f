"""The printable sheets (sign-in sheet and minutes) and the checks on a scanned signed sheet."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from scheduler.attendance import documents
from scheduler.attendance.models import Attendance, AttendanceMethod
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.calendar.services import answer
from scheduler.calls.models import Track
from scheduler.extensions import db
from scheduler.formatting import format_day
from scheduler.registry.models import Organization
from scheduler.timeutil import utcnow
from tests.factories import make_entity, make_meeting

BASE_URL = "http://tavoli.test"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def one_line(text: str) -> str:
    return " ".join(text.split())


def rsvp(app, meeting_id: int, entity: dict, people: list[dict[str, str]]) -> None:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        answer(meeting, db.session.get(Organization, entity["organization"]), db.session.get(User, entity["user"]),
               True, people)
        db.session.commit()


@pytest.fixture
def meeting_with_answers(app, crema, make_user):
    meeting_id = make_meeting(app, area="A", venue=True)
    one = make_entity(app, "Cooperativa Sociale Il Girasole", areas=("A",))
    two = make_entity(app, "Associazione Genitori Attivi", areas=("A",))
    three = make_entity(app, "Associazione Che Non Viene", areas=("A",))
    rsvp(app, meeting_id, one, [{"name": "Maria Rossi", "role": "Presidente"},
                                {"name": "Łukasz Nowak", "role": "Educatore"}])
    rsvp(app, meeting_id, two, [{"name": "Giulia Bianchi", "role": ""}])
    facilitator_id = make_user("facilitatore@example.org", role=Role.FACILITATOR)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        answer(meeting, db.session.get(Organization, three["organization"]), db.session.get(User, three["user"]),
               False, [])
        facilitator = db.session.get(User, facilitator_id)
        facilitator.full_name = "Paola Facilitatrice"
        meeting.track.facilitators.append(facilitator)
        db.session.commit()
    return meeting_id


def test_sign_in_sheet_lists_confirmed_entities_with_people_signature_column_and_a_qr_each(
        app, meeting_with_answers):
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_with_answers)
        data = documents.signin_sheet_pdf(meeting, meeting.rsvps, BASE_URL, blank_rows=12)
        when = format_day(meeting.starts_at)
        call_title = meeting.track.call.title
        track_name = meeting.track.name

    assert data.startswith(b"%PDF-")
    text = one_line(pdf_text(data))
    assert "Foglio firme" in text
    assert one_line(call_title)[:40] in text
    assert track_name.replace("–", "-") in text
    assert when in text
    assert "Sala Pietro da Cemmo" in text
    assert "Paola Facilitatrice" in text
    assert "Firma" in text
    assert "Cooperativa Sociale Il Girasole" in text
    assert "Maria Rossi (Presidente)" in text
    assert "Lukasz Nowak (Educatore)" in text  # outside latin-1: written without the mark
    assert "Associazione Genitori Attivi" in text and "Giulia Bianchi" in text
    assert "Associazione Che Non Viene" not in text
    reader = PdfReader(io.BytesIO(data))
    assert sum(len(page.images) for page in reader.pages) == 2  # one QR per confirmed entity


def test_sign_in_sheet_qr_opens_the_entity_check_in(app, meeting_with_answers):
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_with_answers)
        code = next(r.checkin_code for r in meeting.rsvps if r.people)
        assert documents.checkin_url(meeting, code, BASE_URL + "/") == (
            f"{BASE_URL}/presenze/{meeting.id}/codice/{code}")


def test_sign_in_sheet_has_blank_rows_and_runs_onto_more_pages(app, meeting_with_answers):
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_with_answers)
        short = PdfReader(io.BytesIO(documents.signin_sheet_pdf(meeting, meeting.rsvps, BASE_URL, blank_rows=0)))
        long = PdfReader(io.BytesIO(documents.signin_sheet_pdf(meeting, meeting.rsvps, BASE_URL, blank_rows=40)))
    assert len(short.pages) == 1
    assert len(long.pages) >= 2
    assert "Firma" in long.pages[1].extract_text()  # the table header repeats


def test_sign_in_sheet_without_venue_or_answers(app, crema):
    meeting_id = make_meeting(app, area="B")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        text = pdf_text(documents.signin_sheet_pdf(meeting, [], BASE_URL))
    assert "Sede da definire" in text
    assert "Firma" in text


def test_minutes_list_entities_people_notes_and_ignore_undone_marks(app, meeting_with_answers):
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_with_answers)
        org = db.session.scalar(sa.select(Organization).where(Organization.name == "Cooperativa Sociale Il Girasole"))
        db.session.add_all([
            Attendance(meeting=meeting, organization=org, person_name="Maria Rossi", person_role="Presidente",
                       method=AttendanceMethod.QR),
            Attendance(meeting=meeting, organization=org, person_name="Persona Annullata",
                       method=AttendanceMethod.HAND, undone_at=utcnow()),
            Attendance(meeting=meeting, person_name="Carlo Ospite", guest_organization="Parrocchia San Giacomo",
                       method=AttendanceMethod.WALK_IN),
        ])
        meeting.register_notes = "Discussi i bisogni delle famiglie.\nProssimo incontro a giugno."
        meeting.register_closed_at = utcnow()
        db.session.commit()
        data = documents.minutes_pdf(meeting, meeting.attendances, ["Paola Facilitatrice"], BASE_URL)
        when = format_day(meeting.starts_at)
        track_name = meeting.track.name

    text = one_line(pdf_text(data))
    assert "Verbale" in text
    assert "Piano di Zona" in text
    assert track_name.replace("–", "-") in text
    assert when in text
    assert "Sala Pietro da Cemmo" in text
    assert "Paola Facilitatrice" in text
    assert "Cooperativa Sociale Il Girasole" in text
    assert "Maria Rossi (Presidente)" in text
    assert "Parrocchia San Giacomo (ospite)" in text and "Carlo Ospite" in text
    assert "Persona Annullata" not in text
    assert "Enti presenti: 1 - persone presenti: 2" in text
    assert "Discussi i bisogni delle famiglie." in text and "Prossimo incontro a giugno." in text
    assert "Registro chiuso il" in text


def test_minutes_of_a_seed_meeting_carry_its_italian_date(app, crema):
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting).join(Track).order_by(Meeting.starts_at))
        data = documents.minutes_pdf(meeting, [], [], BASE_URL)
        expected_day = format_day(meeting.starts_at)
    text = one_line(pdf_text(data))
    assert expected_day in text
    assert "Nessuna presenza registrata." in text
    assert "bozza" in text


def test_pdf_text_keeps_italian_accents_and_replaces_the_rest():
    assert documents.pdf_text("Attività – perché “sì” … Ω") == 'Attività - perché "sì" ... ?'


SMALL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SMALL_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SMALL_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("foglio.pdf", SMALL_PDF, "application/pdf"),
    ("scan.PNG", SMALL_PNG, "image/png"),
    ("foto.jpeg", SMALL_JPEG, "image/jpeg"),
    ("senza-estensione", SMALL_PDF, "application/pdf"),
])
def test_uploads_are_recognised_by_content(name, data, content_type):
    assert documents.check_upload(name, data) == content_type


@pytest.mark.parametrize(("name", "data"), [
    ("foglio.pdf", b"<html><script>alert(1)</script></html>"),
    ("setup.exe", b"MZ\x90\x00\x03" + b"\x00" * 40),
    ("vuoto.pdf", b""),
])
def test_uploads_of_other_kinds_are_refused_whatever_their_name(name, data):
    with pytest.raises(documents.DocumentError) as refused:
        documents.check_upload(name, data)
    assert refused.value.status == 400
    assert str(refused.value)


def test_uploads_over_the_limit_are_refused_with_the_limit_in_the_message():
    with pytest.raises(documents.DocumentError) as refused:
        documents.check_upload("grande.pdf", SMALL_PDF + b"\x00" * 2048, max_bytes=1024)
    assert refused.value.status == 413
    assert "troppo grande" in str(refused.value)


def test_stored_names_take_the_extension_of_the_content():
    assert documents.safe_filename("../../Foglio firmato 15/05.PDF.exe", "application/pdf") == "05-PDF.pdf"
    assert documents.safe_filename("", "image/png") == "foglio-firmato.png"
    assert documents.safe_filename("C:\\scan\\Registro città.jpg", "image/jpeg") == "Registro-citta.jpg"


def test_meeting_date_in_the_past_prints_too(app, crema):
    meeting_id = make_meeting(app, area="C", days_ahead=-2, venue=True)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.starts_at < utcnow() - timedelta(days=1)
        assert format_day(meeting.starts_at) in pdf_text(documents.minutes_pdf(meeting, [], [], BASE_URL))
