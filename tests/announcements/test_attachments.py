"""Files attached to an announcement: judged by their content, limited in size, kept once with the announcement,
shown in the composer and the detail page, and received as parts of every message over SMTP."""

from __future__ import annotations

import base64
import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from scheduler.announcements.models import Announcement, AnnouncementAttachment
from scheduler.extensions import db
from scheduler.mailing.delivery import MessageBuildError, build_message, stored_files
from scheduler.mailing.models import OutboxMessage
from scheduler.mailing.worker import deliver_all_due
from scheduler.uploads import DOCX, ODS, ODT, PDF, XLSX, sniff_content_type
from tests.factories import csrf_from

NEW = "/gestione/comunicazioni/nuova"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + bytes(range(256)) * 8
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode."
WRONG_KIND = "Il file non è di un tipo che si può allegare"


def office(kind: str, *, macros: bool = False) -> bytes:
    """A minimal office document as the suites write them: a ZIP with the entries that say what it is."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if kind in ("odt", "ods"):
            mimetype = ODT if kind == "odt" else ODS
            archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
            archive.writestr("content.xml", "<office:document-content/>")
            archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
            if macros:
                archive.writestr("Basic/Standard/Module1.xml", "<script:module/>")
        else:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<document/>")
            if macros:
                archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")
    return buffer.getvalue()


def compose(client, files=(), path: str = NEW, **fields):
    data = {"csrf_token": csrf_from(client, path), "audience": "areas", "areas": ["B"],
            "subject": "Materiali per {ente}", "body": "Gentile {destinatario},\n\nin allegato i materiali."}
    data.update(fields)
    data["attachments"] = [(io.BytesIO(content), name, declared) for name, content, declared in files]
    return client.post(path, data=data, content_type="multipart/form-data")


def announcement_id(response) -> int:
    return int(re.search(r"/gestione/comunicazioni/(\d+)$", response.headers["Location"]).group(1))


def stored(app) -> list[tuple[str, str, int]]:
    with app.app_context():
        return [(a.filename, a.content_type, a.size) for a in db.session.scalars(
            sa.select(AnnouncementAttachment).order_by(AnnouncementAttachment.id))]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def field_error(page: str, field_id: str = "attachments") -> str:
    match = re.search(rf'id="{field_id}-error"[^>]*>([^<]*)<', page)
    return match.group(1) if match else ""


def post_action(client, ann_id: int, action: str, **data):
    data["csrf_token"] = csrf_from(client, f"/gestione/comunicazioni/{ann_id}")
    return client.post(f"/gestione/comunicazioni/{ann_id}/{action}", data=data)


# --- what is accepted ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "content_type"), [("docx", DOCX), ("xlsx", XLSX), ("odt", ODT), ("ods", ODS)])
def test_office_documents_are_recognised_by_what_the_archive_holds(kind, content_type):
    assert sniff_content_type(office(kind)) == content_type


@pytest.mark.parametrize("data", [
    office("docx", macros=True), office("odt", macros=True), b"PK\x03\x04 not really a zip",
    b"PK\x03\x04" + b"\x00" * 100, EXECUTABLE,
])
def test_archives_that_are_not_plain_office_documents_are_not_recognised(data):
    assert sniff_content_type(data) is None


def test_the_other_uploads_still_take_only_what_they_took():
    from scheduler.attendance import documents
    from scheduler.calendar.meeting_documents import DOCUMENT
    from scheduler.uploads import UploadError, accept_upload

    for rule in (documents.SCAN, DOCUMENT):
        with pytest.raises(UploadError):
            accept_upload("verbale.docx", office("docx"), rule, 1024 * 1024)


# --- the composer ------------------------------------------------------------------------------------------------


def test_an_executable_renamed_pdf_is_refused_next_to_the_field_and_nothing_is_stored(app, staff, cast):
    response = compose(staff, files=[("relazione.pdf", EXECUTABLE, "application/pdf")],
                       subject="Oggetto scritto a mano", body="Testo scritto **a mano**")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = field_error(page)
    assert WRONG_KIND in error and "relazione.pdf" in error
    assert 'value="Oggetto scritto a mano"' in page and "Testo scritto **a mano**" in page  # what was typed stays
    assert count(app, Announcement) == 0 and stored(app) == []


def test_a_refused_file_on_a_saved_draft_leaves_its_files_and_text_as_they_were(app, staff, cast):
    ann = announcement_id(compose(staff, files=[("Programma.pdf", PDF_BYTES, "application/pdf")]))
    edit = f"/gestione/comunicazioni/{ann}/modifica"
    response = compose(staff, path=edit, files=[("setup.pdf", EXECUTABLE, "application/pdf")], subject="Cambiato")
    assert response.status_code == 400 and WRONG_KIND in field_error(response.get_data(as_text=True))
    assert stored(app) == [("Programma.pdf", PDF, len(PDF_BYTES))]
    with app.app_context():
        assert db.session.get(Announcement, ann).subject == "Materiali per {ente}"


@pytest.fixture
def app_config(app_config):
    """Small limits, so that a test need not send megabytes."""
    app_config.update({"ANNOUNCEMENT_ATTACHMENT_MAX_BYTES": 4096, "ANNOUNCEMENT_ATTACHMENTS_MAX_TOTAL_BYTES": 6000})
    return app_config


def test_files_are_limited_each_and_together(app, staff, cast):
    big = compose(staff, files=[("grande.pdf", b"%PDF-1.4\n" + b"0" * 5000, "application/pdf")])
    assert big.status_code == 413
    assert "troppo grande" in field_error(big.get_data(as_text=True))
    assert count(app, Announcement) == 0

    three = [(f"parte-{n}.pdf", b"%PDF-1.4\n" + bytes([n]) * 2500, "application/pdf") for n in range(3)]
    together = compose(staff, files=three)
    assert together.status_code == 413
    assert "il massimo per una comunicazione è" in field_error(together.get_data(as_text=True))
    assert stored(app) == []

    ann = announcement_id(compose(staff, files=three[:2]))
    third = compose(staff, path=f"/gestione/comunicazioni/{ann}/modifica", files=three[2:])
    assert third.status_code == 413 and len(stored(app)) == 2
    # ticking "Rimuovi" frees the room in the same save
    with app.app_context():
        first = db.session.scalar(sa.select(AnnouncementAttachment.id).order_by(AnnouncementAttachment.id))
    swap = compose(staff, path=f"/gestione/comunicazioni/{ann}/modifica", files=three[2:],
                   remove_attachments=[str(first)])
    assert swap.status_code == 303
    assert [name for name, _type, _size in stored(app)] == ["parte-1.pdf", "parte-2.pdf"]


def test_files_are_shown_and_removed_from_the_composer_and_the_detail_page(app, staff, cast):
    response = compose(staff, files=[("Programma Giornata.pdf", PDF_BYTES, "application/pdf"),
                                     ("verbale.docx", office("docx"), "application/octet-stream"),
                                     ("foto.jpeg", PNG_BYTES, "image/jpeg")])
    assert response.status_code == 303
    ann = announcement_id(response)
    # kept under a plain name with the extension of the real content (the "JPEG" was a PNG)
    assert stored(app) == [("Programma-Giornata.pdf", PDF, len(PDF_BYTES)),
                           ("verbale.docx", DOCX, len(office("docx"))), ("foto.png", "image/png", len(PNG_BYTES))]
    detail = staff.get(f"/gestione/comunicazioni/{ann}").get_data(as_text=True)
    assert "Programma-Giornata.pdf" in detail and "verbale.docx" in detail
    preview = re.search(r'id="preview-attachments">(.*?)</dd>', detail, re.S).group(1)
    assert "Programma-Giornata.pdf" in preview and "foto.png" in preview
    composer = staff.get(f"/gestione/comunicazioni/{ann}/modifica").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in composer and composer.count('name="remove_attachments"') == 3

    with app.app_context():
        ids = list(db.session.scalars(sa.select(AnnouncementAttachment.id).order_by(AnnouncementAttachment.id)))
    # from the detail page: one button per file
    removed = staff.post(f"/gestione/comunicazioni/{ann}/modifica",
                         data={"csrf_token": csrf_from(staff, f"/gestione/comunicazioni/{ann}"),
                               "remove_attachment": str(ids[2])})
    assert removed.status_code == 303 and removed.headers["Location"].endswith(f"/gestione/comunicazioni/{ann}")
    assert "Allegato rimosso: foto.png" in staff.get(removed.headers["Location"]).get_data(as_text=True)
    # from the composer: ticked, it goes when the draft is saved, with what was typed
    saved = compose(staff, path=f"/gestione/comunicazioni/{ann}/modifica", subject="Nuovo oggetto",
                    remove_attachments=[str(ids[1])])
    assert saved.status_code == 303
    assert [name for name, _type, _size in stored(app)] == ["Programma-Giornata.pdf"]
    # another announcement's file, or one already gone, is not found
    other = announcement_id(compose(staff, files=[("altro.pdf", PDF_BYTES + b"x", "application/pdf")]))
    with app.app_context():
        others = db.session.scalar(sa.select(AnnouncementAttachment.id).where(
            AnnouncementAttachment.announcement_id == other))
    assert staff.post(f"/gestione/comunicazioni/{ann}/modifica",
                      data={"csrf_token": csrf_from(staff, f"/gestione/comunicazioni/{ann}"),
                            "remove_attachment": str(others)}).status_code == 404
    assert len(stored(app)) == 2


def test_deleting_a_draft_deletes_its_files(app, staff, cast):
    ann = announcement_id(compose(staff, files=[("a.pdf", PDF_BYTES, "application/pdf")]))
    assert post_action(staff, ann, "elimina").status_code == 303
    assert stored(app) == []


# --- the messages --------------------------------------------------------------------------------------------------


def attachment_parts(message) -> dict[str, tuple[str, bytes]]:
    return {part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
            for part in message.iter_attachments()}


def test_every_message_carries_the_files_as_received_over_smtp(smtp_app_config, app, staff, cast, smtp_server):
    docx = office("docx")
    response = compose(staff, files=[("Programma.pdf", PDF_BYTES, "application/pdf"),
                                     ("verbale.docx", docx, "application/vnd.ms-word")])
    ann = announcement_id(response)
    assert post_action(staff, ann, "invia").status_code == 303
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.announcement_id == ann)))
        assert len(rows) == 2
        # the rows name the files kept once with the announcement, they do not copy them
        for row in rows:
            assert [item["filename"] for item in row.attachments] == ["Programma.pdf", "verbale.docx"]
            assert all("data" not in item for item in row.attachments)
        deliver_all_due("w")
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_server.wait_for(2)}
    assert set(received) == {"beta@example.org", "epsilon@example.org"}
    for message in received.values():
        assert message.get_content_type() == "multipart/mixed"
        assert attachment_parts(message) == {"Programma.pdf": (PDF, PDF_BYTES), "verbale.docx": (DOCX, docx)}
        text = message.get_body(("plain",)).get_content()
        assert "in allegato i materiali" in text
    log = staff.get(f"/gestione/comunicazioni/{ann}").get_data(as_text=True)
    files = re.search(r'id="attachments">(.*?)</div>', log, re.S).group(1)
    assert "Programma.pdf" in files and "verbale.docx" in files and "Rimuovi" not in files
    assert "Inviati: 2" in log


def test_files_travel_with_the_invitation_too(smtp_app_config, app, staff, cast, smtp_server):
    ann = announcement_id(compose(staff, files=[("Programma.pdf", PDF_BYTES, "application/pdf")],
                                  audience="meeting_attending", meeting_id=str(cast["meeting"]), attach_invite="y"))
    post_action(staff, ann, "invia")
    with app.app_context():
        deliver_all_due("w")
    received = smtp_server.wait_for(2)
    assert len(received) == 2
    for message in received:
        parts = attachment_parts(message)
        assert parts["Programma.pdf"] == (PDF, PDF_BYTES) and "invito.ics" in parts


def test_a_test_message_carries_its_own_copy_of_the_files(smtp_app_config, app, staff, cast, smtp_server):
    ann = announcement_id(compose(staff, files=[("Programma.pdf", PDF_BYTES, "application/pdf")]))
    assert post_action(staff, ann, "prova").status_code == 303
    with app.app_context():
        attachment_id = db.session.scalar(sa.select(AnnouncementAttachment.id))
    # the draft loses its file before the worker sends the test: the test still has it
    staff.post(f"/gestione/comunicazioni/{ann}/modifica",
               data={"csrf_token": csrf_from(staff, f"/gestione/comunicazioni/{ann}"),
                     "remove_attachment": str(attachment_id)})
    with app.app_context():
        deliver_all_due("w")
    [message] = smtp_server.wait_for(1)
    assert message["Subject"].startswith("[PROVA]")
    assert attachment_parts(message) == {"Programma.pdf": (PDF, PDF_BYTES)}


def test_a_message_whose_stored_file_is_gone_or_changed_is_not_built(app, staff, cast):
    ann = announcement_id(compose(staff, files=[("Programma.pdf", PDF_BYTES, "application/pdf")]))
    post_action(staff, ann, "invia")
    with app.app_context():
        row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.announcement_id == ann).limit(1))
        sender = app.config["MAIL_DEFAULT_SENDER"]
        assert b"Programma.pdf" in build_message(row, sender, stored_files([row]))
        with pytest.raises(MessageBuildError, match="no longer stored"):
            build_message(row, sender)  # the file not read
        attachment = db.session.scalar(sa.select(AnnouncementAttachment))
        with pytest.raises(MessageBuildError, match="changed"):
            build_message(row, sender, {("announcement", attachment.id): PDF_BYTES + b"!"})
        # a row that carries its bytes still works as before
        row.attachments = [{"filename": "nota.pdf", "content_type": PDF,
                            "data": base64.b64encode(PDF_BYTES).decode()}]
        assert b"nota.pdf" in build_message(row, sender)
        db.session.rollback()
