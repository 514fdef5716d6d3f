"""The printable sheets and the signed sheet through the pages: who may see them, what they answer."""

from __future__ import annotations

import hashlib
import io

import pytest
import segno
import sqlalchemy as sa
from pypdf import PdfReader, PdfWriter

from scheduler.attendance.models import Attendance, AttendanceMethod, RegisterEvent, SignedSheet
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.calendar.services import answer
from scheduler.extensions import db
from scheduler.formatting import format_day
from scheduler.registry.models import Organization
from scheduler.timeutil import utcnow
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link

PASSWORD = "password-di-prova-1"


def pdf_text(data: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def real_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def real_png() -> bytes:
    buffer = io.BytesIO()
    segno.make("foglio firmato").save(buffer, kind="png", scale=2)
    return buffer.getvalue()


@pytest.fixture
def setup(app, crema, make_user):
    """A meeting of area A with one confirmed entity, a facilitator of its track, one of another track, staff."""
    meeting_id = make_meeting(app, area="A", venue=True)
    other_meeting_id = make_meeting(app, area="B")
    entity = make_entity(app, "Cooperativa Sociale Il Girasole", areas=("A",))
    make_user("staff@example.org", role=Role.STAFF)
    own = make_user("fac@example.org", role=Role.FACILITATOR)
    other = make_user("altro@example.org", role=Role.FACILITATOR)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        answer(meeting, db.session.get(Organization, entity["organization"]), db.session.get(User, entity["user"]),
               True, [{"name": "Maria Rossi", "role": "Presidente"}])
        facilitator = db.session.get(User, own)
        facilitator.full_name = "Paola Facilitatrice"
        meeting.track.facilitators.append(facilitator)
        other_track = db.session.get(Meeting, other_meeting_id).track
        other_track.facilitators.append(db.session.get(User, other))
        db.session.commit()
    return {"meeting": meeting_id, "entity": entity}


def urls(meeting_id: int) -> list[tuple[str, str]]:
    return [
        ("get", f"/presenze/{meeting_id}/foglio-firme.pdf"),
        ("get", f"/presenze/{meeting_id}/verbale.pdf"),
        ("get", f"/gestione/presenze/{meeting_id}"),
        ("post", f"/gestione/presenze/{meeting_id}/foglio-firmato"),
        ("get", f"/gestione/presenze/{meeting_id}/foglio-firmato/1"),
        ("get", f"/gestione/presenze/{meeting_id}/cartaceo"),
        ("post", f"/gestione/presenze/{meeting_id}/cartaceo"),
    ]


def test_anonymous_visitors_are_sent_to_sign_in_everywhere(client, setup):
    for method, url in urls(setup["meeting"]):
        response = getattr(client, method)(url)
        if method == "post":
            assert response.status_code in (302, 400, 403), url  # CSRF refuses a bare POST first
        else:
            assert response.status_code == 302 and "/accedi" in response.headers["Location"], url


def test_entities_are_refused_everywhere(app, client, setup):
    sign_in_with_link(client, app, setup["entity"]["user"])
    for method, url in urls(setup["meeting"]):
        assert getattr(client, method)(url).status_code in (400, 403), url
    assert client.get(urls(setup["meeting"])[0][1]).status_code == 403


def test_a_facilitator_of_another_track_is_refused_everywhere(client, auth, setup):
    auth.login("altro@example.org", PASSWORD)
    for method, url in urls(setup["meeting"]):
        assert getattr(client, method)(url).status_code in (400, 403), url
    assert client.get(f"/presenze/{setup['meeting']}/foglio-firme.pdf").status_code == 403


def test_the_track_facilitator_prints_the_sign_in_sheet_but_not_the_staff_pages(client, auth, setup):
    auth.login("fac@example.org", PASSWORD)
    meeting_id = setup["meeting"]
    response = client.get(f"/presenze/{meeting_id}/foglio-firme.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data)
    assert "Cooperativa Sociale Il Girasole" in text and "Maria Rossi (Presidente)" in text and "Firma" in text
    assert len(PdfReader(io.BytesIO(response.data)).pages[0].images) == 1
    for path in (f"/gestione/presenze/{meeting_id}", f"/gestione/presenze/{meeting_id}/cartaceo"):
        assert client.get(path).status_code == 403


def test_the_facilitator_gets_the_minutes_only_once_the_register_is_closed(app, client, auth, setup):
    meeting_id = setup["meeting"]
    auth.login("fac@example.org", PASSWORD)
    response = client.get(f"/presenze/{meeting_id}/verbale.pdf")
    assert response.status_code == 303
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        org = db.session.get(Organization, setup["entity"]["organization"])
        db.session.add(Attendance(meeting=meeting, organization=org, person_name="Maria Rossi",
                                  person_role="Presidente", method=AttendanceMethod.QR))
        meeting.register_notes = "Condivisa la bozza del piano."
        meeting.register_closed_at = utcnow()
        db.session.commit()
        day = format_day(meeting.starts_at)
        call_title = meeting.track.call.title
    response = client.get(f"/presenze/{meeting_id}/verbale.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for expected in (day, "Sala Pietro da Cemmo", "Paola Facilitatrice", "Cooperativa Sociale Il Girasole",
                     "Maria Rossi (Presidente)", "Condivisa la bozza del piano.", " ".join(call_title.split())[:40]):
        assert expected in text


def test_staff_print_the_minutes_at_any_time(client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    response = client.get(f"/presenze/{setup['meeting']}/verbale.pdf")
    assert response.status_code == 200
    assert "bozza" in pdf_text(response.data)


def test_unknown_meeting_is_404(client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    assert client.get("/presenze/99999/foglio-firme.pdf").status_code == 404
    assert client.get("/gestione/presenze/99999").status_code == 404


# --- the signed sheet ---------------------------------------------------------------------------------------------


def upload(client, meeting_id: int, name: str, data: bytes, csrf: str | None = None):
    csrf = csrf or csrf_from(client, f"/gestione/presenze/{meeting_id}")
    return client.post(f"/gestione/presenze/{meeting_id}/foglio-firmato",
                       data={"csrf_token": csrf, "sheet": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize(("name", "data", "content_type", "stored_name"), [
    ("Foglio firmato.pdf", real_pdf(), "application/pdf", "Foglio-firmato.pdf"),
    ("scansione.png", real_png(), "image/png", "scansione.png"),
])
def test_staff_upload_a_signed_sheet_and_download_it_byte_identical(app, client, auth, setup, name, data,
                                                                    content_type, stored_name):
    auth.login("staff@example.org", PASSWORD)
    meeting_id = setup["meeting"]
    response = upload(client, meeting_id, name, data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Foglio firmato caricato" in page and stored_name in page
    with app.app_context():
        sheet = db.session.scalar(sa.select(SignedSheet))
        assert (sheet.content_type, sheet.size, sheet.sha256) == (content_type, len(data),
                                                                  hashlib.sha256(data).hexdigest())
        event = db.session.scalar(sa.select(RegisterEvent).where(RegisterEvent.action == "sheet_uploaded"))
        assert event.meeting_id == meeting_id and event.actor.email == "staff@example.org"
        assert stored_name in event.detail
        sheet_id = sheet.id
    download = client.get(f"/gestione/presenze/{meeting_id}/foglio-firmato/{sheet_id}")
    assert download.status_code == 200
    assert download.data == data
    assert download.mimetype == content_type
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert stored_name in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("name", "data"), [
    ("foglio.pdf", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ("programma.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
])
def test_files_that_are_not_a_pdf_or_an_image_are_refused_by_their_content(app, client, auth, setup, name, data):
    auth.login("staff@example.org", PASSWORD)
    response = upload(client, setup["meeting"], name, data)
    assert response.status_code == 400
    assert "non è un PDF, un PNG o un JPEG" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignedSheet)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RegisterEvent)
                                 .where(RegisterEvent.action == "sheet_uploaded")) == 0


def test_a_file_over_the_limit_is_refused_with_the_limit_in_the_message(app, client, auth, setup):
    app.config["SIGNED_SHEET_MAX_BYTES"] = 2 * 1024 * 1024
    auth.login("staff@example.org", PASSWORD)
    response = upload(client, setup["meeting"], "grande.pdf", real_pdf() + b"\x00" * (3 * 1024 * 1024))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "troppo grande" in page and "il massimo è 2 MB" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignedSheet)) == 0


def test_an_upload_without_a_file_or_without_csrf_is_refused(app, client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    meeting_id = setup["meeting"]
    csrf = csrf_from(client, f"/gestione/presenze/{meeting_id}")
    response = client.post(f"/gestione/presenze/{meeting_id}/foglio-firmato", data={"csrf_token": csrf},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Scegli il file" in response.get_data(as_text=True)
    response = client.post(f"/gestione/presenze/{meeting_id}/foglio-firmato",
                           data={"sheet": (io.BytesIO(real_pdf()), "f.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignedSheet)) == 0


def test_a_sheet_is_downloaded_only_through_its_own_meeting(app, client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    meeting_id = setup["meeting"]
    upload(client, meeting_id, "f.pdf", real_pdf())
    with app.app_context():
        sheet_id = db.session.scalar(sa.select(SignedSheet.id))
    assert client.get(f"/gestione/presenze/{meeting_id + 1}/foglio-firmato/{sheet_id}").status_code == 404
    auth.logout()
    auth.login("fac@example.org", PASSWORD)
    assert client.get(f"/gestione/presenze/{meeting_id}/foglio-firmato/{sheet_id}").status_code == 403
