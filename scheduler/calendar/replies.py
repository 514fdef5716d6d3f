"""Calendar apps' replies (iTIP REPLY over e-mail, RFC 5546 §3.2.3 and RFC 6047) become answers.

Invitations carry the call's office mailbox as ORGANIZER, so Accept and Decline in Outlook, Gmail or Apple
Calendar send a METHOD:REPLY message there. The worker reads that mailbox over IMAP (`fetch_and_apply`), every
minute when `REPLY_IMAP_HOST` is set: each unread message is parsed (`parse_reply`), checked, applied through
`calendar.services.answer_from_calendar` with the rules of the web form (capacity, waiting list, the usual
confirmation), logged as a `CalendarReply` row, and marked \\Seen whatever became of it.

A reply is applied only when it comes from the address it answers for (From equals the ATTENDEE), that
address was sent the meeting's event, and the receiving server did not find the sender's domain checks
failed (`Authentication-Results`). Nothing here stores or logs an address: rows and logs carry ids and
outcomes only.
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import re
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

import sqlalchemy as sa
from icalendar import Calendar

from scheduler.calendar.models import CalendarCopy, Meeting
from scheduler.calendar.reply_models import CalendarReply, ReplyOutcome
from scheduler.calendar.services import answer_from_calendar
from scheduler.errors import DomainError
from scheduler.extensions import db

log = logging.getLogger(__name__)

#: Unread messages handled in one run at most; the rest wait for the next one (a flood never holds the worker).
BATCH = 200
#: Content types of MIME parts that may carry the calendar; other parts count only with a `.ics` file name.
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
#: What the domain errors of `answer_from_calendar` become.
OUTCOME_BY_CODE = {"not_found": ReplyOutcome.UNKNOWN, "closed": ReplyOutcome.LATE, "forbidden": ReplyOutcome.REFUSED}
#: PARTSTAT values that are an answer; every other one (TENTATIVE, DELEGATED, NEEDS-ACTION...) is ignored.
ATTENDING = {"ACCEPTED": True, "DECLINED": False}
#: Errors of reaching or reading the mailbox: logged, and the worker goes on.
MAILBOX_ERRORS: tuple[type[BaseException], ...] = (OSError, imaplib.IMAP4.error)


class MailboxError(Exception):
    """The mailbox could not be read as configured (a setting missing, a folder refused)."""


# --- reading a message ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One attendee's answer to one event, as a calendar app sent it."""

    uid: str
    #: The ATTENDEE address, lower case, without "mailto:".
    attendee: str
    #: Its PARTSTAT, upper case (ACCEPTED, DECLINED, TENTATIVE...).
    partstat: str
    #: The From address, lower case; None when the message has none that can be read.
    sender: str | None
    #: Whether the receiving server recorded failed domain checks and no passed one (`Authentication-Results`).
    authentication_failed: bool = False

    @property
    def forged(self) -> bool:
        return self.sender != self.attendee or self.authentication_failed


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def message_hash(raw: bytes) -> str:
    """sha256 (hex) of the message's Message-ID, or of the whole message when it has none."""
    try:
        message_id = str(_parse(raw).get("Message-ID") or "").strip()
    except Exception:  # a header the parser cannot make sense of: the bytes identify the message
        message_id = ""
    return hashlib.sha256(message_id.encode("utf-8", "surrogateescape") if message_id else raw).hexdigest()


def _leaf_parts(part: Message) -> Iterator[Message]:
    """Every non-multipart part, in order; a forwarded message (message/rfc822) is someone else's and skipped."""
    if part.is_multipart():
        if part.get_content_maintype() == "message":
            return
        for child in part.get_payload():  # type: ignore[union-attr]
            if isinstance(child, Message):
                yield from _leaf_parts(child)
    else:
        yield part


def _is_calendar(part: Message) -> bool:
    if part.get_content_type() in CALENDAR_TYPES:
        return True
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:
        return False
    return isinstance(name, str) and name.strip().lower().endswith(".ics")


def _text_of(part: Message) -> str | None:
    """The part's text: transfer encoding undone (base64, quoted-printable), then its charset."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload.strip():
        return None
    for charset in (part.get_content_charset(), "utf-8"):
        if not charset:
            continue
        try:
            return payload.decode(charset).lstrip("\ufeff")
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")  # every byte is a character: the iCalendar keywords are ASCII anyway


def _address(value: object) -> str | None:
    """"mailto:Ente@Example.org" (or MAILTO:, as Outlook writes it) as "ente@example.org"."""
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:"):]
    text = text.strip().strip("<>").strip().lower()
    return text if "@" in text and not any(c.isspace() for c in text) else None


def _calendar_reply(text: str) -> tuple[str, str, str] | None:
    """(UID, attendee, PARTSTAT) of a METHOD:REPLY calendar with one event and one attendee, else None."""
    try:
        calendar = Calendar.from_ical(text)
    except Exception:
        return None
    if str(calendar.get("METHOD", "")).strip().upper() != "REPLY":
        return None
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    if len(events) != 1:
        return None
    event = events[0]
    uid = str(event.get("UID", "")).strip()
    attendees = event.get("ATTENDEE")
    if isinstance(attendees, list):
        if len(attendees) != 1:
            return None
        attendees = attendees[0]
    if not uid or attendees is None:
        return None
    attendee = _address(attendees)
    params = getattr(attendees, "params", {})
    partstat = str(params.get("PARTSTAT", "")).strip().upper()
    if attendee is None or not partstat:
        return None
    return uid, attendee, partstat


def _sender(message: EmailMessage) -> str | None:
    try:
        values = message.get_all("From") or []
        found = [addr for _, addr in getaddresses([str(v) for v in values]) if addr]
    except Exception:
        return None
    return found[0].strip().lower() if len(found) == 1 else None


_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"\b(dmarc|spf|dkim)\s*=\s*([a-z]+)", re.IGNORECASE)


def authentication_failed(message: Message) -> bool:
    """Whether the receiving server found the sender's domain checks failed.

    Only the topmost `Authentication-Results` header counts: it is the one the server in front of the mailbox
    added; lower ones came with the message and anybody can write them. DMARC failing is enough (it already
    weighs SPF and DKIM against the From domain); otherwise SPF or DKIM failing with none of them passing.
    """
    try:
        headers = message.get_all("Authentication-Results") or []
    except Exception:
        return False
    if not headers:
        return False
    results: dict[str, set[str]] = {}
    for method, result in _RESULT.findall(_COMMENT.sub(" ", str(headers[0]))):
        results.setdefault(method.lower(), set()).add(result.lower())
    if "fail" in results.get("dmarc", set()) and "pass" not in results.get("dmarc", set()):
        return True
    outcomes = set().union(*results.values()) if results else set()
    return "fail" in outcomes and "pass" not in outcomes


def parse_reply(raw: bytes) -> Reply | None:
    """The calendar reply a message carries, or None when it carries none that can be read (never raises).

    Calendar apps put it in a text/calendar part (with or without `method=REPLY`), an `.ics` attachment, or
    both with the same content (Outlook); the parts must agree.
    """
    try:
        message = _parse(raw)
        found: set[tuple[str, str, str]] = set()
        for part in _leaf_parts(message):
            if not _is_calendar(part):
                continue
            text = _text_of(part)
            reply = _calendar_reply(text) if text else None
            if reply is not None:
                found.add(reply)
        if len(found) != 1:
            return None
        uid, attendee, partstat = found.pop()
        return Reply(uid=uid, attendee=attendee, partstat=partstat, sender=_sender(message),
                     authentication_failed=authentication_failed(message))
    except Exception:
        log.debug("calendar reply not readable", exc_info=True)
        return None


# --- applying a message ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """What became of one message: the outcome and the id of its log row (for a duplicate, of the earlier one)."""

    outcome: ReplyOutcome
    reply_id: int | None = None


def _copy_organization(meeting: Meeting, email: str) -> int | None:
    """The entity an address was sent the meeting's event for (to log who a refused answer was about)."""
    return db.session.scalar(sa.select(CalendarCopy.organization_id).where(
        CalendarCopy.meeting_id == meeting.id, CalendarCopy.email == email))


def _record(digest: str, outcome: ReplyOutcome, *, meeting_id: int | None = None,
            organization_id: int | None = None, partstat: str | None = None) -> Applied:
    row = CalendarReply(message_hash=digest, outcome=outcome, meeting_id=meeting_id,
                        organization_id=organization_id, partstat=partstat)
    db.session.add(row)
    try:
        db.session.flush()
        reply_id = row.id
        db.session.commit()
    except sa.exc.IntegrityError:  # another worker logged the same message a moment ago
        db.session.rollback()
        return Applied(ReplyOutcome.DUPLICATE)
    return Applied(outcome, reply_id)


def apply_message(raw: bytes) -> Applied:
    """Check one message and apply the answer it carries; commits (or rolls back) on its own."""
    digest = message_hash(raw)
    earlier = db.session.scalar(sa.select(CalendarReply.id).where(CalendarReply.message_hash == digest))
    if earlier is not None:
        db.session.rollback()  # nothing written: end the read, so no transaction stays open while IMAP talks
        return Applied(ReplyOutcome.DUPLICATE, earlier)
    reply = parse_reply(raw)
    if reply is None:
        return _record(digest, ReplyOutcome.UNREADABLE)
    partstat = reply.partstat[:20]
    meeting = db.session.scalar(sa.select(Meeting).where(Meeting.uid == reply.uid[:120]))
    meeting_id = meeting.id if meeting is not None else None
    if reply.forged:
        return _record(digest, ReplyOutcome.FORGED, meeting_id=meeting_id, partstat=partstat)
    if meeting is None:
        return _record(digest, ReplyOutcome.UNKNOWN, partstat=partstat)
    if reply.partstat not in ATTENDING:
        return _record(digest, ReplyOutcome.IGNORED, meeting_id=meeting_id, partstat=partstat,
                       organization_id=_copy_organization(meeting, reply.attendee))

    # the log row first: a second worker reading the same message waits on it and then gives up (duplicate)
    row = CalendarReply(message_hash=digest, outcome=ReplyOutcome.APPLIED, meeting_id=meeting_id, partstat=partstat)
    db.session.add(row)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return Applied(ReplyOutcome.DUPLICATE)
    reply_id = row.id
    try:
        rsvp = answer_from_calendar(meeting, reply.attendee, ATTENDING[reply.partstat])
    except DomainError as error:
        db.session.rollback()
        outcome = OUTCOME_BY_CODE.get(error.code, ReplyOutcome.REFUSED)
        meeting = db.session.get(Meeting, meeting_id)
        organization_id = _copy_organization(meeting, reply.attendee) if meeting is not None else None
        return _record(digest, outcome, meeting_id=meeting_id, partstat=partstat, organization_id=organization_id)
    row.organization_id = rsvp.organization_id
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return Applied(ReplyOutcome.DUPLICATE)
    return Applied(ReplyOutcome.APPLIED, reply_id)


# --- the mailbox ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    ssl: bool
    starttls: bool
    user: str
    password: str
    folder: str
    timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ImapSettings:
        host = config.get("REPLY_IMAP_HOST")
        if not host:
            raise MailboxError("REPLY_IMAP_HOST non è impostato: nessuna casella da leggere.")
        user, password = config.get("REPLY_IMAP_USER"), config.get("REPLY_IMAP_PASSWORD")
        if not user or not password:
            raise MailboxError("Impostare REPLY_IMAP_USER e REPLY_IMAP_PASSWORD per leggere la casella.")
        starttls = bool(config.get("REPLY_IMAP_STARTTLS", False))
        use_ssl = bool(config.get("REPLY_IMAP_SSL", True)) and not starttls
        return cls(host=str(host), port=int(config.get("REPLY_IMAP_PORT") or (993 if use_ssl else 143)),
                   ssl=use_ssl, starttls=starttls, user=str(user), password=str(password),
                   folder=str(config.get("REPLY_IMAP_FOLDER") or "INBOX"),
                   timeout=float(config.get("REPLY_IMAP_TIMEOUT") or 30))


def describe_error(error: BaseException, config: Mapping[str, Any]) -> str:
    """The error in one line for the logs, with the mailbox's credentials taken out if a server echoed them."""
    text = f"{type(error).__name__}: {error}"
    for secret in (config.get("REPLY_IMAP_PASSWORD"), config.get("REPLY_IMAP_USER")):
        if secret:
            text = text.replace(str(secret), "***")
    return text[:300]


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    if settings.ssl:
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=ssl.create_default_context(),
                                                timeout=settings.timeout)
    else:
        imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
        if settings.starttls:
            imap.starttls(ssl_context=ssl.create_default_context())
    try:
        imap.login(settings.user, settings.password)
    except BaseException:
        _logout(imap)
        raise
    return imap


def _logout(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (*MAILBOX_ERRORS, ValueError):
        pass


def _quoted(folder: str) -> str:
    if folder.isalnum():
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(response: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = response
    if status != "OK":
        raise MailboxError(f"{what}: {status}")
    return data


def _body(data: list[Any]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


@dataclass
class ReplyStats:
    """What one reading of the mailbox did: messages per outcome, and those left unread after an error."""

    counts: dict[ReplyOutcome, int] = field(default_factory=lambda: dict.fromkeys(ReplyOutcome, 0))
    #: Messages whose application failed unexpectedly: left unread, to be tried again on the next run.
    failed: int = 0

    def add(self, outcome: ReplyOutcome) -> None:
        self.counts[outcome] += 1

    def __getitem__(self, outcome: ReplyOutcome) -> int:
        return self.counts[outcome]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        parts = [f"{o.value} {n}" for o, n in self.counts.items() if n]
        if self.failed:
            parts.append(f"failed {self.failed}")
        return ", ".join(parts) or "none"


def fetch_and_apply(app_config: Mapping[str, Any]) -> ReplyStats:
    """Read the unread messages of the replies mailbox, oldest first, apply each and mark it \\Seen.

    Runs in an application context. Raises `MailboxError` or one of `MAILBOX_ERRORS` when the mailbox cannot
    be read; a message whose application fails unexpectedly is rolled back, logged and left unread.
    """
    settings = ImapSettings.from_config(app_config)
    stats = ReplyStats()
    imap = _connect(settings)
    try:
        _check(imap.select(_quoted(settings.folder)), "SELECT")
        found = _check(imap.uid("SEARCH", None, "UNSEEN"), "SEARCH")  # type: ignore[arg-type]
        uids = sorted((found[0] or b"").split(), key=int)[:BATCH]
        for uid in uids:
            raw = _body(_check(imap.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH"))  # type: ignore[arg-type]
            if raw is None:
                continue  # gone since the search (another reader moved it)
            try:
                applied = apply_message(raw)
            except (sa.exc.OperationalError, sa.exc.InterfaceError):
                db.session.rollback()
                raise  # the database is not answering: every other message would fail the same way
            except Exception:
                db.session.rollback()
                log.exception("calendar reply in mailbox uid %s failed; left unread", uid.decode())
                stats.failed += 1
                continue
            log.info("calendar reply %s: %s", applied.reply_id, applied.outcome.value)
            stats.add(applied.outcome)
            _check(imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)"), "STORE")  # type: ignore[arg-type]
    finally:
        _logout(imap)
    return stats


def read_replies() -> None:
    """The worker's periodic task: read the mailbox when one is configured; never stops the worker."""
    from flask import current_app

    config = current_app.config
    if not config.get("REPLY_IMAP_HOST"):
        return
    try:
        stats = fetch_and_apply(config)
    except (MailboxError, *MAILBOX_ERRORS) as error:
        db.session.rollback()
        log.warning("calendar replies: mailbox %s not read: %s", config.get("REPLY_IMAP_HOST"),
                    describe_error(error, config))
        return
    if stats.total or stats.failed:
        log.info("calendar replies: %s", stats.summary())
