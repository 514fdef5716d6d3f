"""Turning an outbox row into MIME bytes, and handing them to an SMTP server or to a file.

`build_message()` is pure (the row and the sender in, the bytes of the e-mail out), so the structure that
calendar clients rely on is tested without a server, and the staff page can show or download exactly what is
sent. It assembles the message with the standard library's `email.mime` classes and encodes the bodies with
`binascii`'s quoted-printable codec, written in C: the worker builds every message it delivers, and the
`email` package's modern API (header objects, content managers) costs several times the SMTP dialogue itself.

An attachment sent with hundreds of messages (an announcement's PDF) is kept once by the feature that owns it:
the rows name it (`store`, `id`, `sha256`) and whoever builds them reads those files first (`stored_files`, one
query per store for a whole batch) and hands them to `build_message`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import smtplib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from email import encoders, message_from_bytes, policy
from email.charset import BASE64, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from pathlib import Path

from flask import Flask
from flask_mail import Connection

from scheduler.mailing.models import OutboxMessage

#: Filename of the calendar attachment, for clients that ignore the inline text/calendar part.
ICS_FILENAME = "invito.ics"


class _WirePolicy(type(policy.compat32)):  # type: ignore[misc]  (the class of compat32)
    """compat32 with CRLF line ends, writing header values as the builder made them.

    Non-ASCII header text is encoded (and folded) by the builder, as RFC 2047 words of at most 75 characters;
    ASCII text is left whole up to the hard limit of 998 characters, so an unsubscribe URL is never broken
    across lines. compat32 would re-parse and re-fold every header of every part, which costs more than
    the rest of the message.
    """

    def fold_binary(self, name: str, value) -> bytes:
        if isinstance(value, str) and value.isascii():
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_WIRE = _WirePolicy(linesep="\r\n", max_line_length=998)
#: Encoded words in base64 ("B"): as standard as quoted-printable, and their length is known without
#: measuring every character, which makes long accented subjects cheap to split.
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = BASE64


class MessageBuildError(ValueError):
    """The row cannot become a valid e-mail (bad address, header or attachment): retrying will not help."""


# --- files kept once for many messages ---------------------------------------------------------------------

#: How each feature above the outbox reads the files its messages name: ids in, {id: bytes} out.
_STORES: dict[str, Callable[[Collection[int]], Mapping[int, bytes]]] = {}
#: A stored file as `build_message` receives it: (store, id) -> bytes.
StoredFiles = Mapping[tuple[str, int], bytes]


def register_attachment_store(name: str, load: Callable[[Collection[int]], Mapping[int, bytes]]) -> None:
    """Let rows name files of `name` as {"filename", "content_type", "store": name, "id", "sha256"} in their
    attachments; `load` reads the bytes of several ids at once (a feature registers it when imported)."""
    _STORES[name] = load


def stored_attachment(store: str, file_id: int, filename: str, content_type: str, sha256: str) -> dict:
    """An item of `OutboxMessage.attachments` that names a stored file instead of carrying its bytes."""
    return {"filename": filename, "content_type": content_type, "store": store, "id": file_id, "sha256": sha256}


def stored_files(rows: Iterable[OutboxMessage]) -> dict[tuple[str, int], bytes]:
    """The bytes of every stored file the rows name, each read once (one query per store): for a batch of the
    worker, or the one message a staff page shows. A file that is gone is left out (its row cannot be built)."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        for item in row.attachments or []:
            if isinstance(item, dict) and "data" not in item and isinstance(item.get("id"), int):
                wanted.setdefault(str(item.get("store")), set()).add(item["id"])
    files: dict[tuple[str, int], bytes] = {}
    for store, ids in wanted.items():
        load = _STORES.get(store)
        if load is not None:
            files.update(((store, file_id), data) for file_id, data in load(ids).items())
    return files


def _attachment_bytes(item: dict, files: StoredFiles | None) -> bytes:
    """The bytes of one attachment item: carried in the row (base64), or a stored file checked by its hash."""
    if "data" in item:
        return base64.b64decode(item["data"], validate=True)
    data = (files or {}).get((str(item.get("store")), item.get("id")))
    if data is None:
        raise MessageBuildError(f"attachment {item.get('filename')!r} is no longer stored")
    if hashlib.sha256(data).hexdigest() != item.get("sha256"):
        raise MessageBuildError(f"attachment {item.get('filename')!r} changed since the message was written")
    return data


def _address(display_name: str, addr: str) -> Address:
    if "@" not in addr:
        raise MessageBuildError("address without a domain")
    local, domain = addr.rsplit("@", 1)
    return Address(display_name=display_name, username=local, domain=domain)


def sender_address(default_sender: str | tuple[str, str] | None) -> Address:
    """MAIL_DEFAULT_SENDER as an Address, whether configured as "Name <addr>" or (name, addr)."""
    if isinstance(default_sender, tuple | list):
        name, addr = default_sender
    else:
        name, addr = parseaddr(default_sender or "tavoli@localhost")
    return _address(name, addr)


def _mailbox(display_name: str, addr: str) -> str:
    """`Name <local@domain>` for a header: the name quoted or encoded as needed, the domain in IDNA."""
    address = _address(display_name or "", addr.strip())  # refuses line breaks and a missing domain
    if not address.username.isascii() or not address.username:
        raise MessageBuildError("the local part of the address is not ASCII")
    try:
        domain = address.domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise MessageBuildError(f"invalid domain: {error}") from error
    addr_spec = f"{address.username}@{domain}"
    name = address.display_name
    if name and not name.isascii():
        return f"{_encoded(name)} <{addr_spec}>"
    return formataddr((name, addr_spec))


@lru_cache(maxsize=512)
def _encoded(text: str, header_name: str | None = None) -> str:
    """RFC 2047 encoded words, split to fit the line, as the generator writes them unchanged (kept for the
    next messages: one change or announcement sends the same subject to hundreds of recipients)."""
    return Header(text, _UTF8, header_name=header_name).encode(linesep="\r\n", maxlinelen=75)


def _header_value(value: str, name: str | None = None) -> str:
    """A header's text, refused with a line break (header injection), RFC 2047-encoded when not ASCII."""
    value = str(value)
    if "\r" in value or "\n" in value:
        raise MessageBuildError("line break in a header")
    if value.isascii():
        return value
    return _encoded(value, name)


def _boundary(row: OutboxMessage, part: str) -> str:
    """Derived from the Message-ID, so every attempt sends the same bytes. "=_" cannot occur in
    quoted-printable or base64 text, so the boundary never collides with the content."""
    digest = hashlib.sha256(f"{row.message_id}/{part}".encode()).hexdigest()[:32]
    return f"=_{part}_{digest}"


def _text_part(text: str, subtype: str, **params: str) -> MIMENonMultipart:
    """A UTF-8 text part, always quoted-printable: 7-bit safe for any server, readable unlike base64."""
    part = MIMENonMultipart("text", subtype, charset="utf-8", **params)
    del part["MIME-Version"]
    data = text.replace("\r\n", "\n").encode("utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(data, istext=True, header=False).decode("ascii"))
    return part


def _attachment(data: bytes, maintype: str, subtype: str, filename: str) -> MIMEBase:
    part = MIMEBase(maintype, subtype)
    part.set_payload(data)
    encoders.encode_base64(part)
    del part["MIME-Version"]
    if "\r" in filename or "\n" in filename:
        raise MessageBuildError("line break in a file name")
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def build_message(row: OutboxMessage, sender: str | tuple[str, str] | None,
                  files: StoredFiles | None = None) -> bytes:
    """The e-mail for one outbox row, byte for byte the same on every attempt (Message-ID, Date, boundaries).
    It leaves from the row's own sender (its Ambito's) when it has one, else from `sender`.

    With an invite: multipart/mixed [multipart/alternative [text/plain, text/html, text/calendar; method=X],
    invito.ics, other attachments]; that is the iMIP layout Outlook, Gmail and Apple recognise. The stored
    files the row names come in `files` (`stored_files`); a row naming one that is missing is not built.
    """
    try:
        bodies: list[Message] = [_text_part(row.body_text, "plain")]
        if row.body_html:
            bodies.append(_text_part(row.body_html, "html"))
        if row.ics:
            method = (row.ics_method or "PUBLISH").upper()
            bodies.append(_text_part(row.ics, "calendar", method=method))
        if len(bodies) > 1:
            top: Message = MIMEMultipart("alternative", boundary=_boundary(row, "alt"), _subparts=bodies)
        else:
            top = bodies[0]
        attachments: list[Message] = []
        if row.ics:
            attachments.append(_attachment(row.ics.encode("utf-8"), "application", "ics", ICS_FILENAME))
        for item in row.attachments or []:
            maintype, _, subtype = (item.get("content_type") or "application/octet-stream").partition("/")
            data = _attachment_bytes(item, files)
            attachments.append(_attachment(data, maintype, subtype or "octet-stream",
                                           item.get("filename") or "allegato"))
        if attachments:
            top = MIMEMultipart("mixed", boundary=_boundary(row, "mix"), _subparts=[top, *attachments])
            del top.get_payload()[0]["MIME-Version"]
        if "MIME-Version" not in top:
            top["MIME-Version"] = "1.0"
        own = row.sender or (tuple(sender) if isinstance(sender, list) else sender)
        top["From"] = _mailbox(*_name_and_address(own))
        top["To"] = _mailbox(row.to_name or "", row.to_address)
        top["Subject"] = _header_value(row.subject, "Subject")
        top["Date"] = format_datetime(row.created_at)
        top["Message-ID"] = _header_value(row.message_id)
        for name, value in (row.headers or {}).items():
            if not str(name).isascii():
                raise MessageBuildError("header name not ASCII")
            top[_header_value(name)] = _header_value(value, name)
        return top.as_bytes(policy=_WIRE)
    except MessageBuildError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, UnicodeError, binascii.Error) as error:
        raise MessageBuildError(f"{type(error).__name__}: {error}") from error


@lru_cache(maxsize=8)
def _name_and_address(sender: str | tuple[str, str] | None) -> tuple[str, str]:
    address = sender_address(sender)
    return address.display_name, address.addr_spec


def parse_message(raw: bytes) -> EmailMessage:
    """The bytes as a receiving client reads them (decoded headers), for the staff page."""
    return message_from_bytes(raw, policy=policy.default)


# --- SMTP -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpFailure:
    """What went wrong with one message, as stored in last_error and the attempt row."""

    error: str
    #: The SMTP reply code, or the exception's class name: safe to log (no address, no text).
    kind: str
    #: True when the server refused this message for good (5xx): retrying would bounce again.
    permanent: bool


def _decode(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def describe_error(error: BaseException) -> SmtpFailure:
    """The SMTP code and text of an error, and whether it is a permanent refusal of this message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [(code, _decode(text)) for code, text in error.recipients.values()]
        code, text = codes[0] if codes else (0, str(error))
        return SmtpFailure(f"{code} {text}".strip(), str(code), permanent=500 <= code < 600)
    if isinstance(error, smtplib.SMTPSenderRefused):
        # The server dislikes our sender, not this message: retry, staff will see it on every row.
        code = error.smtp_code
        return SmtpFailure(f"{code} {_decode(error.smtp_error)}", str(code), permanent=False)
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        return SmtpFailure(f"{code} {_decode(error.smtp_error)}", str(code), permanent=500 <= code < 600)
    text = str(error) or type(error).__name__
    return SmtpFailure(f"{type(error).__name__}: {text}", type(error).__name__, permanent=False)


def is_connection_error(error: BaseException) -> bool:
    """Errors after which the SMTP connection cannot carry the rest of the batch.

    smtplib's errors are OSErrors too, so the order of the tests matters: a refusal is about one message,
    a disconnect, a 421 (server closing) or a socket error is about the connection.
    """
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    if isinstance(error, smtplib.SMTPException):
        return False
    return isinstance(error, OSError)


class TimedConnection(Connection):
    """Flask-Mail's connection (SSL, STARTTLS, login from MAIL_* settings) with MAIL_TIMEOUT applied.

    Flask-Mail opens sockets without a timeout, so a silent server would hang the worker forever; and it
    suppresses sending when TESTING, while here "do not send" is spelled "MAIL_SERVER unset" (files).
    """

    def __init__(self, app: Flask) -> None:
        super().__init__(app.extensions["mail"])
        self.timeout = float(app.config.get("MAIL_TIMEOUT") or 20)

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        state = self.mail
        host: smtplib.SMTP | smtplib.SMTP_SSL
        if state.use_ssl:
            host = smtplib.SMTP_SSL(state.server, state.port, timeout=self.timeout)
        else:
            host = smtplib.SMTP(state.server, state.port, timeout=self.timeout)
        try:
            host.set_debuglevel(int(state.debug))
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host

    def open(self) -> TimedConnection:
        self.host = self.configure_host()
        return self

    def send_bytes(self, raw: bytes, envelope_from: str, to_address: str) -> None:
        """Hand one message to the server; raises smtplib errors (refusals are per message)."""
        assert self.host is not None, "connection not open"
        self.host.sendmail(envelope_from, [to_address], raw)

    def close(self) -> None:
        """QUIT politely; a server that already hung up is not an error worth reporting."""
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        finally:
            self.host = None


# --- Files ----------------------------------------------------------------------------------------------


def eml_filename(row: OutboxMessage) -> str:
    """`YYYYmmdd-HHMMSS-<id>.eml`: sorts by time in a directory listing and names the outbox row."""
    return f"{row.created_at:%Y%m%d-%H%M%S}-{row.id}.eml"


def write_eml(directory: str | Path, row: OutboxMessage, raw: bytes) -> Path:
    """Write the full MIME bytes where a developer can open them; atomic so a reader never sees half."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / eml_filename(row)
    partial = path.with_suffix(".eml.part")
    partial.write_bytes(raw)
    partial.replace(path)
    return path
