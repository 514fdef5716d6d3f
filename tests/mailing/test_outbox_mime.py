"""The e-mail built from an outbox row: the structure calendar clients need, stable identity, safe headers."""

from __future__ import annotations

import base64
import re
from email import message_from_bytes, policy

import pytest
from outbox_helpers import INVITE, RECIPIENT, RECIPIENT_NAME, SUBJECT, queue

from scheduler.extensions import db
from scheduler.mailing.delivery import MessageBuildError, build_message
from scheduler.mailing.models import OutboxMessage


def _text(part) -> str:
    """A text part's content with the line endings a mail client shows."""
    return part.get_content().replace("\r\n", "\n")


def _built(app, message_id: int):
    """The row's e-mail as a receiving client parses it."""
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        raw = build_message(row, app.config["MAIL_DEFAULT_SENDER"])
        return row.message_id, message_from_bytes(raw, policy=policy.default), raw


def test_invite_is_mixed_with_alternative_bodies_calendar_part_and_ics_attachment(app):
    message_id = queue(app, ics=INVITE, ics_method="request")

    row_message_id, mail, _ = _built(app, message_id)

    assert mail.get_content_type() == "multipart/mixed"
    alternative, attachment = mail.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, calendar = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert _text(plain) == "Buongiorno,\nl'incontro è confermato.\n"
    assert html.get_content_type() == "text/html"
    assert "<p>l'incontro è confermato.</p>" in _text(html)
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_param("method") == "REQUEST"
    assert "METHOD:REQUEST" in calendar.get_content().splitlines()
    assert _text(calendar) == INVITE.replace("\r\n", "\n")

    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invito.ics"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content().decode("utf-8") == INVITE

    assert mail["Message-ID"] == row_message_id
    assert mail["Subject"] == SUBJECT
    assert mail["To"].addresses[0].display_name == RECIPIENT_NAME
    assert mail["To"].addresses[0].addr_spec == RECIPIENT
    assert str(mail["From"]) == "Ufficio di Piano <noreply@tavoli.localhost>"
    assert mail["Date"] is not None


def test_cancel_method_is_repeated_on_the_part(app):
    message_id = queue(app, ics=INVITE.replace("METHOD:REQUEST", "METHOD:CANCEL"), ics_method="CANCEL")

    _, mail, _ = _built(app, message_id)

    calendar = mail.get_payload()[0].get_payload()[2]
    assert calendar.get_param("method") == "CANCEL"
    assert "METHOD:CANCEL" in calendar.get_content().splitlines()


def test_text_and_html_without_invite_is_just_alternative(app):
    _, mail, _ = _built(app, queue(app))

    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.get_payload()] == ["text/plain", "text/html"]


def test_text_only_is_a_single_part(app):
    _, mail, _ = _built(app, queue(app, html=None))

    assert mail.get_content_type() == "text/plain"
    assert _text(mail) == "Buongiorno,\nl'incontro è confermato.\n"


def test_accented_text_travels_as_7bit_safe_bytes(app):
    _, _, raw = _built(app, queue(app, ics=INVITE, ics_method="REQUEST"))

    assert raw.isascii()  # no 8BITMIME needed from the server
    assert b"\r\n" in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_extra_headers_and_attachments_are_kept(app):
    pdf = b"%PDF-1.4 sample"
    message_id = queue(
        app,
        ics=INVITE,
        ics_method="REQUEST",
        headers={"List-Unsubscribe": "<https://tavoli.test/disiscriviti/abc>"},
        attachments=[
            {"filename": "ordine del giorno.pdf", "content_type": "application/pdf",
             "data": base64.b64encode(pdf).decode()}
        ],
    )

    _, mail, _ = _built(app, message_id)

    assert mail["List-Unsubscribe"] == "<https://tavoli.test/disiscriviti/abc>"
    parts = mail.get_payload()
    assert [p.get_filename() for p in parts[1:]] == ["invito.ics", "ordine del giorno.pdf"]
    assert parts[2].get_content_type() == "application/pdf"
    assert parts[2].get_content() == pdf


def test_message_id_and_bytes_are_the_same_on_every_build(app):
    message_id = queue(app, ics=INVITE, ics_method="REQUEST")

    first = _built(app, message_id)
    second = _built(app, message_id)

    assert first[1]["Message-ID"] == second[1]["Message-ID"] == first[0]
    assert first[1]["Date"] == second[1]["Date"]
    assert first[2] == second[2], "a retry sends the same bytes, boundaries included"


def test_awkward_text_comes_back_exactly(app):
    """Lines a naive encoder breaks: a boundary look-alike, a lone dot, trailing spaces, a 2,000-character line."""
    text = ("=_alt_0123456789abcdef\n.\nriga con spazi finali   \n" + "parola " * 300 + "\n"
            "Perché sì: «citazione» – fine.\n")
    html = "<p>" + "è" * 1500 + "</p>\n<p>=_mix_ciao</p>"
    _, mail, raw = _built(app, queue(app, text=text, html=html, ics=INVITE, ics_method="REQUEST"))
    plain, rich, _calendar = mail.get_payload()[0].get_payload()
    assert _text(plain) == text
    assert _text(rich) == html
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_long_headers_fold_the_right_way(app):
    subject = "Aggiornamento (nuova sede): Percorso Minori e Famiglia – mercoledì 15 maggio 2024, 9:30-13:00"
    unsubscribe = "<https://tavoli.test/email/disiscrizione/" + "x" * 120 + ">"
    _, mail, raw = _built(app, queue(app, subject=subject, headers={"List-Unsubscribe": unsubscribe}))
    assert mail["Subject"] == subject
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    # encoded words of at most 75 characters for the accented subject...
    assert re.search(r"=\?utf-8\?[bq]\?", head, re.IGNORECASE)
    assert all(len(word) <= 75 for word in re.findall(r"=\?utf-8\?[bq]\?[^?]*\?=", head, re.IGNORECASE))
    # ...and the unbreakable URL kept on the header's own line, as one-click unsubscribe parsers expect
    assert f"List-Unsubscribe: {unsubscribe}" in head.splitlines()
    assert mail["List-Unsubscribe"] == unsubscribe


@pytest.mark.parametrize(
    "overrides",
    [
        {"headers": {"X-Note": "riga\r\nBcc: altri@example.org"}},
        {"to": "senza-dominio"},
        {"attachments": [{"filename": "x.bin", "content_type": "application/octet-stream", "data": "%%%"}]},
    ],
    ids=["header-injection", "address-without-domain", "bad-base64"],
)
def test_a_row_that_cannot_be_a_valid_email_is_refused(app, overrides):
    message_id = queue(app, **overrides)

    with app.app_context(), pytest.raises(MessageBuildError):
        build_message(db.session.get(OutboxMessage, message_id), app.config["MAIL_DEFAULT_SENDER"])
