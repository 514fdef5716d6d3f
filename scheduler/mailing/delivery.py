"""Turning an outbox row into MIME bytes, and handing them to an SMTP server or to a file.

`build_message()` is pure (the row and the sender in, an `EmailMessage` out), so the structure that calendar
clients rely on is tested without a server, and the staff page can show or download exactly what is sent.
"""

from __future__ import annotations

import base64
import binascii
import smtplib
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from flask import Flask
from flask_mail import Connection

from scheduler.mailing.models import OutboxMessage

#: Filename of the calendar attachment, for clients that ignore the inline text/calendar part.
ICS_FILENAME = "invito.ics"
#: RFC 5322 line-length limit used by the SMTP policy; longer or non-ASCII text goes quoted-printable.
_MAX_LINE = 78


class MessageBuildError(ValueError):
    """The row cannot become a valid e-mail (bad address, header or attachment): retrying will not help."""


def _cte(text: str) -> str | None:
    """Quoted-printable for accented or long-lined text: 7-bit safe for any server, readable unlike base64."""
    if text.isascii() and all(len(line) <= _MAX_LINE for line in text.splitlines()):
        return None
    return "quoted-printable"


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


def build_message(row: OutboxMessage, sender: str | tuple[str, str] | None) -> EmailMessage:
    """The e-mail for one outbox row, identical on every attempt (same Message-ID and Date).

    With an invite: multipart/mixed [multipart/alternative [text/plain, text/html, text/calendar; method=X],
    invito.ics, other attachments]; that is the iMIP layout Outlook, Gmail and Apple recognise.
    """
    try:
        msg = EmailMessage(policy=policy.SMTP)
        msg["From"] = sender_address(sender)
        msg["To"] = _address(row.to_name or "", row.to_address)
        msg["Subject"] = row.subject
        msg["Date"] = format_datetime(row.created_at)
        msg["Message-ID"] = row.message_id
        for name, value in (row.headers or {}).items():
            msg[name] = value

        msg.set_content(row.body_text, cte=_cte(row.body_text))
        if row.body_html:
            msg.add_alternative(row.body_html, subtype="html", cte=_cte(row.body_html))
        if row.ics:
            method = (row.ics_method or "PUBLISH").upper()
            msg.add_alternative(row.ics, subtype="calendar", params={"method": method}, cte=_cte(row.ics))
        if row.ics or row.attachments:
            msg.make_mixed()
        if row.ics:
            msg.add_attachment(
                row.ics.encode("utf-8"), maintype="application", subtype="ics", filename=ICS_FILENAME
            )
        for item in row.attachments or []:
            maintype, _, subtype = (item.get("content_type") or "application/octet-stream").partition("/")
            msg.add_attachment(
                base64.b64decode(item["data"], validate=True),
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=item.get("filename") or "allegato",
            )
        msg.as_bytes()  # header problems (line breaks, unencodable addresses) surface now, not mid-SMTP
    except MessageBuildError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error) as error:
        raise MessageBuildError(f"{type(error).__name__}: {error}") from error
    return msg


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

    def send_mime(self, msg: EmailMessage, envelope_from: str, to_address: str) -> None:
        """Hand one message to the server; raises smtplib errors (refusals are per message)."""
        assert self.host is not None, "connection not open"
        self.host.sendmail(envelope_from, [to_address], msg.as_bytes())

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


def write_eml(directory: str | Path, row: OutboxMessage, msg: EmailMessage) -> Path:
    """Write the full MIME bytes where a developer can open them; atomic so a reader never sees half."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / eml_filename(row)
    partial = path.with_suffix(".eml.part")
    partial.write_bytes(msg.as_bytes())
    partial.replace(path)
    return path
