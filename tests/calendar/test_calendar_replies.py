"""Accept and Decline pressed in a calendar app become answers: the REPLY e-mails that Outlook, Gmail and Apple
Calendar send to the office's mailbox are read from a real IMAP server (Dovecot) and applied with the rules of
the web form, or refused and logged when they do not prove who sent them."""

from __future__ import annotations

import base64
import hashlib
import itertools
import logging
import quopri
from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from scheduler.auth.models import User
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus, Venue
from scheduler.calendar.notifications import Notice, NoticeText
from scheduler.calendar.replies import (
    authentication_failed,
    fetch_and_apply,
    message_hash,
    parse_reply,
    read_replies,
)
from scheduler.calendar.reply_models import CalendarReply, ReplyOutcome
from scheduler.calendar.services import answer, change_meeting, set_venue
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Organization
from scheduler.registry.recipients import Purpose, addresses
from scheduler.timeutil import utcnow
from tests.factories import make_entity, make_meeting
from tests.imap_server import free_port

OFFICE = "udpcrema@comune.crema.cr.it"
_ids = itertools.count(1)


# --- the messages calendar apps send -------------------------------------------------------------------------


def reply_ics(uid: str, attendee: str, partstat: str, *, scheme: str = "mailto:", cn: str = "Referente",
              prodid: str = "-//Google Inc//Google Calendar 70.9054//EN", newline: str = "\r\n",
              extra: str = "") -> str:
    lines = [
        "BEGIN:VCALENDAR", f"PRODID:{prodid}", "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:REPLY",
        "BEGIN:VEVENT", "DTSTART:20300515T073000Z", "DTEND:20300515T110000Z", "DTSTAMP:20300501T101500Z",
        f"ORGANIZER;CN=Ufficio di Piano:mailto:{OFFICE}", f"UID:{uid}",
        f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};CN={cn};X-NUM-GUESTS=0:{scheme}{attendee}",
        # a long line, folded as RFC 5545 wants (continuation lines start with a space)
        "DESCRIPTION:Incontro del tavolo tematico dell'Ambito di Crema per la co-progr",
        " ammazione del Piano di Zona 2025-2027: ordine del giorno e materiali sul sito.",
        "SEQUENCE:0", "STATUS:CONFIRMED", "SUMMARY:Percorso Minori e Famiglia", "TRANSP:OPAQUE",
    ]
    if extra:
        lines.append(extra)
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return newline.join(lines) + newline


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")


def _qp(data: bytes) -> str:
    return quopri.encodestring(data).decode("ascii").replace("\r\n", "\n").replace("\n", "\r\n")


def _headers(sender: str, subject: str, message_id: str | None, extra: list[str]) -> list[str]:
    headers = [*extra, f"From: Referente <{sender}>", f"To: Ufficio di Piano <{OFFICE}>", f"Subject: {subject}",
               "Date: Wed, 01 May 2030 12:15:00 +0200", "MIME-Version: 1.0"]
    if message_id is not False:
        headers.append(f"Message-ID: <{message_id or f'reply-{next(_ids)}'}@mail.example.org>")
    return headers


def outlook_reply(uid: str, attendee: str, partstat: str = "ACCEPTED", *, sender: str | None = None,
                  message_id: str | None = None, headers: list[str] | None = None) -> bytes:
    """Outlook / Exchange: multipart/alternative with text/calendar; method=REPLY in base64, MAILTO: upper case,
    "Accepted:" in the subject, and the same calendar again as an invite.ics attachment."""
    word = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}[partstat]
    ics = reply_ics(uid, attendee, partstat, scheme="MAILTO:", prodid="Microsoft Exchange Server 2010",
                    cn="Referente Ente", extra="X-MICROSOFT-CDO-APPT-SEQUENCE:0").encode("utf-8")
    lines = [*_headers(sender or attendee, f"{word}: Percorso Minori e Famiglia", message_id, headers or []),
             'Content-Type: multipart/mixed; boundary="_002_outlook_"', "",
             "--_002_outlook_", 'Content-Type: multipart/alternative; boundary="_000_outlook_"', "",
             "--_000_outlook_", 'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: base64", "",
             _b64("Ci sarò.".encode()),
             "--_000_outlook_", 'Content-Type: text/calendar; charset="utf-8"; method=REPLY',
             "Content-Transfer-Encoding: base64", "", _b64(ics),
             "--_000_outlook_--", "",
             "--_002_outlook_", 'Content-Type: application/ics; name="invite.ics"',
             'Content-Disposition: attachment; filename="invite.ics"', "Content-Transfer-Encoding: base64", "",
             _b64(ics), "--_002_outlook_--", ""]
    return "\r\n".join(lines).encode("ascii")


def gmail_reply(uid: str, attendee: str, partstat: str = "ACCEPTED", *, sender: str | None = None,
                message_id: str | None = None, headers: list[str] | None = None) -> bytes:
    """Gmail: text/calendar; method=REPLY inline in quoted-printable (lines ending in LF only), and invite.ics as
    application/ics, whose MIME type carries no method."""
    word = {"ACCEPTED": "Accettato", "DECLINED": "Rifiutato", "TENTATIVE": "Forse"}[partstat]
    ics = reply_ics(uid, attendee, partstat, newline="\n").encode("utf-8")
    lines = [*_headers(sender or attendee, f"{word}: Percorso Minori e Famiglia @ mer 15 mag 2030", message_id,
                       headers or []),
             'Content-Type: multipart/mixed; boundary="000000000000gmailmixed"', "",
             "--000000000000gmailmixed", 'Content-Type: multipart/alternative; boundary="000000000000gmailalt"', "",
             "--000000000000gmailalt", 'Content-Type: text/plain; charset="UTF-8"',
             "Content-Transfer-Encoding: quoted-printable", "",
             _qp(f"Referente ha {word.lower()} questo invito.".encode()),
             "--000000000000gmailalt", 'Content-Type: text/calendar; charset="UTF-8"; method=REPLY',
             "Content-Transfer-Encoding: quoted-printable", "", _qp(ics),
             "--000000000000gmailalt--",
             "--000000000000gmailmixed", 'Content-Type: application/ics; name="invite.ics"',
             'Content-Disposition: attachment; filename="invite.ics"', "Content-Transfer-Encoding: base64", "",
             _b64(ics), "--000000000000gmailmixed--", ""]
    return "\r\n".join(lines).encode("ascii")


def apple_reply(uid: str, attendee: str, partstat: str = "ACCEPTED", *, sender: str | None = None,
                message_id: str | None = None, headers: list[str] | None = None) -> bytes:
    """Apple Calendar: multipart/mixed, the calendar as text/calendar with no method parameter (CRLF lines),
    attached as iCal-<date>.ics."""
    ics = reply_ics(uid, attendee, partstat, prodid="-//Apple Inc.//macOS 14.4//EN",
                    cn='"Referente"').encode("utf-8")
    name = "iCal-20300501-121500.ics"
    lines = [*_headers(sender or attendee, "Risposta all'invito: Percorso Minori e Famiglia", message_id,
                       headers or []),
             'Content-Type: multipart/mixed; boundary="Apple-Mail=_6C1B2F4E"', "",
             "--Apple-Mail=_6C1B2F4E", "Content-Type: text/plain; charset=utf-8",
             "Content-Transfer-Encoding: quoted-printable", "", _qp(b"Risposta all'invito."),
             "--Apple-Mail=_6C1B2F4E", f"Content-Type: text/calendar; charset=utf-8; name={name}",
             f"Content-Disposition: attachment; filename={name}", "Content-Transfer-Encoding: quoted-printable", "",
             _qp(ics), "--Apple-Mail=_6C1B2F4E--", ""]
    return "\r\n".join(lines).encode("ascii")


def plain_mail(sender: str) -> bytes:
    lines = [*_headers(sender, "R: Invito: Percorso Minori e Famiglia", None, []),
             'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit", "",
             "Grazie, ci saremo in due.", ""]
    return "\r\n".join(lines).encode("utf-8")


SHAPES = {"outlook": outlook_reply, "gmail": gmail_reply, "apple": apple_reply}


# --- reading a message ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_each_calendar_apps_reply_is_read(shape):
    raw = SHAPES[shape]("abc-123@tavoli", "Ente1@Example.org", "DECLINED")
    reply = parse_reply(raw)
    assert reply is not None
    assert (reply.uid, reply.attendee, reply.partstat, reply.sender) == (
        "abc-123@tavoli", "ente1@example.org", "DECLINED", "ente1@example.org")
    assert not reply.forged


def test_a_reply_in_another_charset_with_lf_lines_is_read():
    ics = reply_ics("uid-latin@tavoli", "ente@example.org", "ACCEPTED", cn="Società Cooperativa",
                    newline="\n").encode("iso-8859-1")
    raw = ("From: ente@example.org\r\nTo: " + OFFICE + "\r\nSubject: Accettato\r\nMIME-Version: 1.0\r\n"
           'Content-Type: text/calendar; charset="iso-8859-1"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n').encode(
        "ascii") + ics
    reply = parse_reply(raw)
    assert reply is not None and reply.partstat == "ACCEPTED" and reply.attendee == "ente@example.org"


@pytest.mark.parametrize("raw", [
    plain_mail("ente@example.org"),
    b"",
    b"\x00\xff garbage \r\n\r\n\x80",
    # an invitation, not a reply
    ("From: ente@example.org\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
     + reply_ics("u@tavoli", "ente@example.org", "ACCEPTED").replace("METHOD:REPLY", "METHOD:REQUEST")).encode(),
    # two attendees in one reply
    ("From: ente@example.org\r\nContent-Type: text/calendar\r\n\r\n"
     + reply_ics("u@tavoli", "ente@example.org", "ACCEPTED", extra="ATTENDEE;PARTSTAT=DECLINED:mailto:b@example.org")
     ).encode(),
    # no PARTSTAT
    ("From: ente@example.org\r\nContent-Type: text/calendar\r\n\r\n"
     + reply_ics("u@tavoli", "ente@example.org", "X").replace(";PARTSTAT=X", "")).encode(),
    # broken base64 and a calendar that is not one
    b"From: a@b.it\r\nContent-Type: text/calendar\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
    b"From: a@b.it\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n",
], ids=["no-calendar", "empty", "garbage", "request", "two-attendees", "no-partstat", "bad-base64", "truncated"])
def test_what_is_not_a_readable_reply_gives_none(raw):
    assert parse_reply(raw) is None


def test_parts_that_disagree_are_not_read():
    first = reply_ics("u@tavoli", "ente@example.org", "ACCEPTED")
    second = reply_ics("u@tavoli", "ente@example.org", "DECLINED")
    raw = ("From: ente@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           f"--b\r\nContent-Type: text/calendar; method=REPLY\r\n\r\n{first}--b\r\n"
           f"Content-Type: application/octet-stream; name=reply.ics\r\n\r\n{second}--b--\r\n").encode()
    assert parse_reply(raw) is None


def test_a_calendar_attached_as_octet_stream_is_read_and_messages_are_known_by_their_message_id():
    ics = reply_ics("u@tavoli", "ente@example.org", "ACCEPTED")
    raw = ("From: ente@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nSi.\r\n--b\r\n"
           f'Content-Type: application/octet-stream; name="reply.ics"\r\n\r\n{ics}--b--\r\n').encode()
    assert parse_reply(raw).partstat == "ACCEPTED"
    assert message_hash(raw) == hashlib.sha256(raw).hexdigest()
    with_id = b"Message-ID: <abc@example.org>\r\n" + raw
    assert message_hash(with_id) == hashlib.sha256(b"<abc@example.org>").hexdigest()


@pytest.mark.parametrize(("results", "failed"), [
    (["mx.comune.it; spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org; dmarc=pass"], False),
    (["mx.comune.it; spf=fail smtp.mailfrom=example.org; dkim=none; dmarc=fail header.from=example.org"], True),
    (["mx.comune.it; spf=fail smtp.mailfrom=example.org; dkim=pass header.d=example.org"], False),
    (["mx.comune.it; dkim=fail (body hash did not verify) header.d=example.org"], True),
    (["mx.comune.it; dmarc=fail header.from=example.org; dkim=pass header.d=other.example"], True),
    (["mx.comune.it; spf=softfail smtp.mailfrom=example.org"], False),
    (["mx.comune.it; spf=fail (not spf=pass) smtp.mailfrom=example.org"], True),
    # only the topmost header is the receiving server's: one written by the sender below it does not count
    (["mx.comune.it; spf=fail smtp.mailfrom=example.org", "forged.example; spf=pass; dkim=pass; dmarc=pass"], True),
    ([], False),
])
def test_failed_sender_checks_are_read_from_the_receiving_servers_header(results, failed):
    from email import message_from_bytes, policy

    raw = "".join(f"Authentication-Results: {r}\r\n" for r in results) + "From: a@example.org\r\n\r\nx\r\n"
    assert authentication_failed(message_from_bytes(raw.encode(), policy=policy.default)) is failed


# --- through the mailbox -------------------------------------------------------------------------------------


@pytest.fixture
def mailbox(imap_mailbox, app_config):
    """The office's replies mailbox on a real IMAP server, configured for the app under test."""
    app_config.update(imap_mailbox.settings)
    return imap_mailbox


def _read(app):
    with app.app_context():
        return fetch_and_apply(app.config)


def _rsvp(app, meeting_id, organization_id) -> Rsvp | None:
    with app.app_context():
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.meeting_id == meeting_id,
                                                       Rsvp.organization_id == organization_id))
        if rsvp is not None:
            db.session.expunge(rsvp)
        return rsvp


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def _log(app) -> list[CalendarReply]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(CalendarReply).order_by(CalendarReply.id)))
        db.session.expunge_all()
        return rows


def _uid(app, meeting_id) -> str:
    with app.app_context():
        return db.session.get(Meeting, meeting_id).uid


def _says_yes_on_the_site(app, meeting_id, entity) -> None:
    with app.app_context():
        answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
               db.session.get(User, entity["user"]), True, [{"name": "Maria Rossi", "role": "Presidente"}])
        db.session.commit()


def _venue_notice(app, meeting_id, *entities) -> None:
    """Staff communicate the venue to entities that have not answered yet: their message carries the event
    (METHOD:REQUEST, NEEDS-ACTION), so their calendar shows Accept and Decline."""
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        venue = Venue(call=meeting.track.call, name="Sala Alessandrini", address="Via Manini 21, Crema")
        db.session.add(venue)
        audience = [a for entity in entities
                    for a in addresses(db.session.get(Organization, entity["organization"]), Purpose.ANNOUNCEMENT)]
        set_venue(meeting, venue, Notice(
            render=lambda address, status: NoticeText("Sede dell'incontro", "L'incontro sarà in Sala Alessandrini.",
                                                      "<p>L'incontro sarà in Sala Alessandrini.</p>"),
            audience=audience,
        ))
        db.session.commit()


def _calendar(message: OutboxMessage):
    calendar = Calendar.from_ical(message.ics)
    [event] = calendar.walk("VEVENT")
    assert event.errors == []
    return calendar, event


def test_accept_in_outlook_confirms_the_seat_and_sends_the_invitation(mailbox, app, crema):
    entity = make_entity(app, "Cooperativa Il Ponte", areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _venue_notice(app, meeting_id, entity)
    [notice] = _outbox(app)
    assert notice.to_address == entity["email"]
    assert _calendar(notice)[1]["ATTENDEE"].params["PARTSTAT"] == "NEEDS-ACTION"
    assert _rsvp(app, meeting_id, entity["organization"]) is None

    mailbox.deliver(outlook_reply(_uid(app, meeting_id), entity["email"].capitalize(), "ACCEPTED"))
    stats = _read(app)

    assert stats[ReplyOutcome.APPLIED] == 1 and stats.total == 1
    rsvp = _rsvp(app, meeting_id, entity["organization"])
    assert rsvp.status is RsvpStatus.YES
    assert rsvp.checkin_code
    [_, invitation] = _outbox(app)
    assert invitation.to_address == entity["email"]
    assert invitation.subject.startswith("Invito: ")
    assert invitation.ics_method == "REQUEST"
    calendar, event = _calendar(invitation)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == _uid(app, meeting_id)
    assert str(event["ATTENDEE"]).lower() == f"mailto:{entity['email']}"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    [row] = _log(app)
    assert (row.outcome, row.meeting_id, row.organization_id, row.partstat) == (
        ReplyOutcome.APPLIED, meeting_id, entity["organization"], "ACCEPTED")
    assert mailbox.flags() == [{"\\Seen"}]


def test_decline_in_gmail_frees_the_seat_for_the_waiting_list(mailbox, app, crema):
    first = make_entity(app, "Associazione Primi", areas=("A",))
    waiting = make_entity(app, "Associazione In Attesa", areas=("A",))
    meeting_id = make_meeting(app, area="A", capacity=1)
    _says_yes_on_the_site(app, meeting_id, first)
    _says_yes_on_the_site(app, meeting_id, waiting)
    assert _rsvp(app, meeting_id, waiting["organization"]).status is RsvpStatus.WAITLIST
    before = len(_outbox(app))

    mailbox.deliver(gmail_reply(_uid(app, meeting_id), first["email"], "DECLINED"))
    stats = _read(app)

    assert stats[ReplyOutcome.APPLIED] == 1
    assert _rsvp(app, meeting_id, first["organization"]).status is RsvpStatus.NO
    assert _rsvp(app, meeting_id, waiting["organization"]).status is RsvpStatus.YES
    new = {m.to_address: m for m in _outbox(app)[before:]}
    assert new[first["email"]].subject.startswith("Partecipazione annullata: ")
    assert _calendar(new[first["email"]])[0]["METHOD"] == "CANCEL"
    assert new[waiting["email"]].subject.startswith("Posto confermato: ")
    assert _calendar(new[waiting["email"]])[1]["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    [row] = _log(app)
    assert (row.outcome, row.organization_id, row.partstat) == (
        ReplyOutcome.APPLIED, first["organization"], "DECLINED")
    assert mailbox.flags() == [{"\\Seen"}]


def test_accept_in_apple_calendar_when_the_room_is_full_joins_the_waiting_list(mailbox, app, crema):
    seated = make_entity(app, "Associazione Seduta", areas=("A",))
    late_comer = make_entity(app, "Associazione Ritardataria", areas=("A",))
    meeting_id = make_meeting(app, area="A", capacity=1)
    _says_yes_on_the_site(app, meeting_id, seated)
    _venue_notice(app, meeting_id, late_comer)
    before = len(_outbox(app))

    mailbox.deliver(apple_reply(_uid(app, meeting_id), late_comer["email"], "ACCEPTED"))
    stats = _read(app)

    assert stats[ReplyOutcome.APPLIED] == 1
    assert _rsvp(app, meeting_id, late_comer["organization"]).status is RsvpStatus.WAITLIST
    assert _rsvp(app, meeting_id, seated["organization"]).status is RsvpStatus.YES
    [message] = _outbox(app)[before:]
    assert message.to_address == late_comer["email"]
    assert message.subject.startswith("Lista d'attesa: ")
    assert _calendar(message)[1]["ATTENDEE"].params["PARTSTAT"] == "TENTATIVE"
    assert [r.outcome for r in _log(app)] == [ReplyOutcome.APPLIED]


@pytest.mark.parametrize("case", ["other-sender", "failed-checks"])
def test_a_reply_that_does_not_prove_its_sender_changes_nothing(mailbox, app, crema, case):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _says_yes_on_the_site(app, meeting_id, entity)
    before = len(_outbox(app))
    if case == "other-sender":
        raw = outlook_reply(_uid(app, meeting_id), entity["email"], "DECLINED", sender="qualcuno@example.com")
    else:
        raw = gmail_reply(_uid(app, meeting_id), entity["email"], "DECLINED", headers=[
            "Authentication-Results: mx.comune.crema.cr.it; spf=fail smtp.mailfrom=example.org; dkim=none; "
            "dmarc=fail header.from=example.org"])
    mailbox.deliver(raw)

    stats = _read(app)

    assert stats[ReplyOutcome.FORGED] == 1 and stats[ReplyOutcome.APPLIED] == 0
    assert _rsvp(app, meeting_id, entity["organization"]).status is RsvpStatus.YES
    assert len(_outbox(app)) == before
    [row] = _log(app)
    assert (row.outcome, row.meeting_id, row.organization_id) == (ReplyOutcome.FORGED, meeting_id, None)
    assert mailbox.flags() == [{"\\Seen"}]


def test_a_reply_about_an_unknown_event_or_from_an_address_never_invited_is_unknown(mailbox, app, crema):
    entity = make_entity(app, areas=("A",))
    stranger = make_entity(app, "Ente Mai Invitato", areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _says_yes_on_the_site(app, meeting_id, entity)
    before = len(_outbox(app))
    mailbox.deliver(apple_reply("non-esiste@altro-calendario", entity["email"], "DECLINED"))
    mailbox.deliver(outlook_reply(_uid(app, meeting_id), stranger["email"], "ACCEPTED"))

    stats = _read(app)

    assert stats[ReplyOutcome.UNKNOWN] == 2
    assert _rsvp(app, meeting_id, entity["organization"]).status is RsvpStatus.YES
    assert _rsvp(app, meeting_id, stranger["organization"]) is None
    assert len(_outbox(app)) == before
    assert [(r.outcome, r.meeting_id) for r in _log(app)] == [(ReplyOutcome.UNKNOWN, None),
                                                              (ReplyOutcome.UNKNOWN, meeting_id)]
    assert mailbox.flags() == [{"\\Seen"}, {"\\Seen"}]


def test_a_reply_after_the_deadline_is_late_and_changes_nothing(mailbox, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _says_yes_on_the_site(app, meeting_id, entity)
    with app.app_context():
        change_meeting(db.session.get(Meeting, meeting_id), rsvp_deadline=utcnow() - timedelta(minutes=5))
        db.session.commit()
    before = len(_outbox(app))
    mailbox.deliver(gmail_reply(_uid(app, meeting_id), entity["email"], "DECLINED"))

    stats = _read(app)

    assert stats[ReplyOutcome.LATE] == 1
    assert _rsvp(app, meeting_id, entity["organization"]).status is RsvpStatus.YES
    assert len(_outbox(app)) == before
    [row] = _log(app)
    assert (row.outcome, row.meeting_id, row.organization_id, row.partstat) == (
        ReplyOutcome.LATE, meeting_id, entity["organization"], "DECLINED")
    assert mailbox.flags() == [{"\\Seen"}]


def test_a_reply_from_an_entity_that_withdrew_its_application_is_refused(mailbox, app, crema):
    from scheduler.registry.models import Application
    from scheduler.registry.services import withdraw

    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _venue_notice(app, meeting_id, entity)
    with app.app_context():
        withdraw(db.session.get(Application, entity["application"]), db.session.get(User, entity["user"]))
        db.session.commit()
    before = len(_outbox(app))
    mailbox.deliver(outlook_reply(_uid(app, meeting_id), entity["email"], "ACCEPTED"))

    stats = _read(app)

    assert stats[ReplyOutcome.REFUSED] == 1
    assert _rsvp(app, meeting_id, entity["organization"]) is None
    assert len(_outbox(app)) == before
    [row] = _log(app)
    assert (row.outcome, row.meeting_id, row.organization_id) == (
        ReplyOutcome.REFUSED, meeting_id, entity["organization"])
    assert mailbox.flags() == [{"\\Seen"}]


def test_the_same_message_twice_is_applied_once(mailbox, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _venue_notice(app, meeting_id, entity)
    raw = outlook_reply(_uid(app, meeting_id), entity["email"], "ACCEPTED", message_id="same-message")
    mailbox.deliver(raw)
    assert _read(app)[ReplyOutcome.APPLIED] == 1
    mailbox.deliver(raw)  # delivered again (a retry upstream, a copy moved back to the inbox)

    stats = _read(app)

    assert stats[ReplyOutcome.DUPLICATE] == 1 and stats.total == 1
    assert [r.outcome for r in _log(app)] == [ReplyOutcome.APPLIED]
    assert len([m for m in _outbox(app) if m.subject.startswith("Invito: ")]) == 1
    assert mailbox.flags() == [{"\\Seen"}, {"\\Seen"}]


def test_a_message_without_a_calendar_is_unreadable_and_tentative_is_ignored(mailbox, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _says_yes_on_the_site(app, meeting_id, entity)
    before = len(_outbox(app))
    mailbox.deliver(plain_mail(entity["email"]))
    mailbox.deliver(outlook_reply(_uid(app, meeting_id), entity["email"], "TENTATIVE"))

    stats = _read(app)

    assert (stats[ReplyOutcome.UNREADABLE], stats[ReplyOutcome.IGNORED]) == (1, 1)
    assert _rsvp(app, meeting_id, entity["organization"]).status is RsvpStatus.YES
    assert len(_outbox(app)) == before
    assert [(r.outcome, r.meeting_id, r.partstat) for r in _log(app)] == [
        (ReplyOutcome.UNREADABLE, None, None), (ReplyOutcome.IGNORED, meeting_id, "TENTATIVE")]
    assert mailbox.flags() == [{"\\Seen"}, {"\\Seen"}]


def test_only_unread_messages_are_read(mailbox, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _says_yes_on_the_site(app, meeting_id, entity)
    mailbox.deliver(plain_mail(entity["email"]))
    assert _read(app).total == 1

    assert _read(app).total == 0
    assert len(_log(app)) == 1


def test_the_command_reads_the_mailbox_once_and_tells_what_it_did(mailbox, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _says_yes_on_the_site(app, meeting_id, entity)
    mailbox.deliver(gmail_reply(_uid(app, meeting_id), entity["email"], "DECLINED"))
    mailbox.deliver(plain_mail(entity["email"]))

    result = app.test_cli_runner().invoke(args=["replies", "fetch"])

    assert result.exit_code == 0, result.output
    assert "Messaggi letti: 2." in result.output
    assert "registrate: 1" in result.output
    assert "senza risposta di calendario leggibile: 1" in result.output
    assert _rsvp(app, meeting_id, entity["organization"]).status is RsvpStatus.NO


def test_the_mail_worker_reads_the_replies_and_delivers_the_confirmation(mailbox, app, crema):
    from scheduler.mailing.models import OutboxStatus
    from scheduler.mailing.worker import run_worker

    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    _venue_notice(app, meeting_id, entity)
    mailbox.deliver(apple_reply(_uid(app, meeting_id), entity["email"], "ACCEPTED"))

    run_worker(app, once=True, worker_id="test-worker")  # periodic tasks first, then the outbox

    assert _rsvp(app, meeting_id, entity["organization"]).status is RsvpStatus.YES
    invitation = _outbox(app)[-1]
    assert invitation.subject.startswith("Invito: ")
    assert invitation.status is OutboxStatus.SENT
    assert mailbox.flags() == [{"\\Seen"}]


@pytest.fixture
def wrong_password(imap_server, app_config):
    app_config.update(imap_server.settings)
    app_config["REPLY_IMAP_PASSWORD"] = "password-sbagliata"
    return imap_server


def test_a_mailbox_that_refuses_the_login_is_logged_without_credentials(wrong_password, app, caplog):
    with app.app_context(), caplog.at_level(logging.WARNING, logger="scheduler.calendar.replies"):
        read_replies()  # the worker's task: never raises

    assert "calendar replies: mailbox 127.0.0.1 not read" in caplog.text
    assert "AUTHENTICATIONFAILED" in caplog.text
    assert "password-sbagliata" not in caplog.text and wrong_password.user not in caplog.text


def test_the_command_says_when_the_mailbox_does_not_answer(app_config, imap_server):
    from scheduler import create_app

    app_config.update(imap_server.settings, REPLY_IMAP_PORT=free_port())  # nobody listens there
    result = create_app(app_config).test_cli_runner().invoke(args=["replies", "fetch"])

    assert result.exit_code == 1
    assert "Casella 127.0.0.1 non letta: ConnectionRefusedError" in result.output
    assert imap_server.password not in result.output


def test_without_a_mailbox_nothing_is_read(app, caplog):
    with app.app_context(), caplog.at_level(logging.INFO, logger="scheduler.calendar.replies"):
        read_replies()
    assert caplog.text == ""
    result = app.test_cli_runner().invoke(args=["replies", "fetch"])
    assert result.exit_code == 1
    assert "REPLY_IMAP_HOST non è impostato" in result.output
