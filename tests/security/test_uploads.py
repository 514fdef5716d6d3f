"""The scan of the signed sheet is judged by its content, never by its name or declared type, and is served
back so that a browser cannot run it."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from scheduler.attendance.documents import DEFAULT_MAX_BYTES
from scheduler.attendance.models import SignedSheet
from scheduler.extensions import db
from tests.factories import csrf_from
from tests.security.conftest import sign_in_as

NOT_A_SCAN = "Il file non è un PDF, un PNG o un JPEG: carica la scansione in uno di questi formati."
TOO_BIG = "Il file o i dati inviati sono troppo grandi."

HOSTILE = [
    ("foglio.pdf", "application/pdf", b"<html><script>alert(document.cookie)</script></html>"),
    ("foglio.png", "image/png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ("foglio.jpg", "image/jpeg", b"#!/bin/sh\nrm -rf /\n"),
    ("foglio.pdf", "application/pdf", b"  %PDF-1.4 with leading spaces, then <script>alert(1)</script>"),
    ("foglio.PDF", "application/pdf", b"PK\x03\x04 a zip archive"),
    ("foglio.pdf", "application/pdf", b"MZ\x90\x00 a windows program"),
]


@pytest.fixture
def staff(app, client, world):
    sign_in_as(client, app, world, "staff")
    return client


def _upload(client, world, name: str, data: bytes, content_type: str = "application/pdf"):
    return client.post(
        f"/gestione/presenze/{world.meeting}/foglio-firmato",
        data={"csrf_token": csrf_from(client, f"/gestione/presenze/{world.meeting}"),
              "sheet": (io.BytesIO(data), name, content_type)},
        content_type="multipart/form-data",
    )


def _sheets(app) -> list[tuple[str, str, int]]:
    with app.app_context():
        return [(s.filename, s.content_type, s.size)
                for s in db.session.scalars(sa.select(SignedSheet).order_by(SignedSheet.id))]


def test_a_file_that_is_not_a_scan_is_refused_whatever_its_name(app, staff, world):
    before = _sheets(app)
    for name, content_type, data in HOSTILE:
        response = _upload(staff, world, name, data, content_type)

        assert response.status_code == 400, data
        assert NOT_A_SCAN in response.get_data(as_text=True)
        assert _sheets(app) == before


def test_a_real_pdf_with_a_hostile_name_is_kept_as_a_pdf_and_served_as_a_download(app, staff, world):
    data = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n"
    response = _upload(staff, world, "../../<script>alert(1)</script>.html", data, "text/html")
    assert response.status_code == 303

    filename, content_type, size = _sheets(app)[-1]
    assert content_type == "application/pdf" and size == len(data)
    assert filename.endswith(".pdf") and "/" not in filename and "<" not in filename
    page = staff.get(f"/gestione/presenze/{world.meeting}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page

    with app.app_context():
        sheet_id = db.session.scalar(sa.select(sa.func.max(SignedSheet.id)))
    download = staff.get(f"/gestione/presenze/{world.meeting}/foglio-firmato/{sheet_id}")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.data == data


def test_a_scan_over_the_sheet_limit_is_refused_with_413_and_the_limit(app, staff, world):
    before = _sheets(app)
    response = _upload(staff, world, "foglio.pdf", b"%PDF-1.4\n" + b"0" * DEFAULT_MAX_BYTES)
    assert response.status_code == 413
    assert "il massimo è 8 MB" in response.get_data(as_text=True)
    assert _sheets(app) == before


def test_a_huge_request_is_refused_with_413_before_it_is_read(app, staff, world):
    huge = app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024
    before = _sheets(app)

    response = _upload(staff, world, "foglio.pdf", b"%PDF-1.4\n" + b"0" * huge)

    assert response.status_code == 413
    assert TOO_BIG in response.get_data(as_text=True)
    assert _sheets(app) == before
    # the session goes on
    assert staff.get(f"/gestione/presenze/{world.meeting}").status_code == 200


def test_a_huge_form_anywhere_is_a_413_not_a_server_error(app, client, world):
    huge = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    for path in ("/candidatura", "/accedi", "/accedi/link"):
        response = client.post(path, data={"csrf_token": csrf_from(client, "/accedi"), "name": huge})
        assert response.status_code == 413, path
        assert TOO_BIG in response.get_data(as_text=True)
