"""Request logs without the secrets that travel in URLs.

A sign-in link, a link to choose a new password, a private calendar feed, an unsubscribe link, a delegate's
confirmation, a meeting's answer link and an entity's check-in code each carry a token that acts for someone:
whoever reads it in a log (or in the office's outbox) can use it. Every request log goes through `redact`, and
the outbox pages and `.eml` downloads through `redact_secret_paths` (gunicorn's access and error logs through
`deploy/gunicorn.conf.py`, the werkzeug dev server's through `RedactingFilter`, installed by `create_app`).

Standard library only, and nothing of the app but the route shapes below: gunicorn's master loads this file by
path without importing the `scheduler` package (which would keep old code in the workers after a reload).
A test builds every route of the app with a string argument and checks each is either redacted here or
listed as public, so a new secret route cannot be forgotten.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

PLACEHOLDER = "[redacted]"

#: The path up to a secret segment, for each route whose segment is a secret.
SECRET_ROUTES = (
    r"/accedi/link/",  # one-time sign-in link (auth.services.LOGIN_LINK_PATH)
    r"/accedi/password/",  # a link to choose a new password (auth.services.PASSWORD_RESET_PATH)
    r"/feed/",  # private calendar feed, /feed/<token>.ics (calendar.views.feed_private)
    r"/email/disiscrizione/",  # unsubscribe link (mailing.preferences.unsubscribe_url)
    r"/contatti/conferma/",  # a delegate's confirmation (registry.notifications)
    r"/incontri/\d+/risposta/",  # a meeting's answer link (calendar.answer_links.ANSWER_PATH)
    r"/presenze/\d+/codice/",  # an entity's check-in code, in its QR (attendance.services.checkin_path)
)
#: Query parameters whose value is a secret wherever they appear (none of the app's routes takes one today:
#: this keeps a future `?token=` or a pasted third-party link out of the logs too).
REDACTED_PARAMETERS = r"(?:[\w.-]*[_-])?(?:token|code|key|secret|password|passwd|signature|sig)"
#: Request and response headers that are credentials in themselves, as gunicorn's log atoms name them.
SECRET_HEADERS = frozenset({
    "{cookie}i", "{authorization}i", "{proxy-authorization}i", "{x-csrftoken}i", "{set-cookie}o",
    "{http_cookie}e", "{http_authorization}e", "{http_proxy_authorization}e", "{http_x_csrftoken}e",
})

#: Where a URL ends in a log line (a request line, a quoted referer, a message).
_END = r"/?#&\s\"'<>\\"
_SEGMENT = re.compile(
    rf"(?P<route>{'|'.join(SECRET_ROUTES)})(?P<secret>[^{_END}]+?)(?P<suffix>\.ics)?(?=[{_END}]|$)",
    re.IGNORECASE,
)
_PARAMETER = re.compile(rf"(?P<name>(?:^|[?&;]){REDACTED_PARAMETERS}=)(?P<secret>[^&#;\s\"'<>]*)", re.IGNORECASE)


def redact_secret_paths(text: str, placeholder: str = PLACEHOLDER) -> str:
    """The text with the secret segment of every secret route replaced: what the office's outbox pages show of
    a message's links (its own placeholder, in Italian), so staff never read a link that acts for someone."""
    if not text:
        return text or ""
    return _SEGMENT.sub(lambda m: m["route"] + placeholder + (m["suffix"] or ""), text)


def has_secret_path(text: str) -> bool:
    return bool(text) and _SEGMENT.search(text) is not None


def _redact_plain(text: str) -> str:
    text = _SEGMENT.sub(lambda m: m["route"] + PLACEHOLDER + (m["suffix"] or ""), text)
    return _PARAMETER.sub(lambda m: m["name"] + (PLACEHOLDER if m["secret"] else ""), text)


def redact(text: str) -> str:
    """The text with every secret path segment and query value replaced by the placeholder.

    A percent-encoded path (`/accedi%2Flink/…`, `?next=%2Ffeed%2F…`) reaches the same routes once the server
    decodes it: when decoding shows a secret, the decoded text is written, redacted, instead of the raw one.
    """
    if not text:
        return text
    redacted = _redact_plain(text)
    decoded = redacted
    for _ in range(3):  # "%252F" is decoded twice by a proxy and the app: look as deep as they would
        if "%" not in decoded:
            break
        decoded = unquote(decoded)
        if _redact_plain(decoded) != decoded:
            return _redact_plain(decoded)
    return redacted


def redact_atoms(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """gunicorn's access log atoms (request line, path, query, referer, headers, environ) with the secrets
    replaced, whichever of them the log format uses."""
    return {key: _redact_atom(key, value) for key, value in atoms.items()}


def _redact_atom(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key.lower() in SECRET_HEADERS:
        return PLACEHOLDER if value else value
    return redact(value)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message through `redact` (werkzeug's request lines,
    gunicorn's error log): the record still goes out, without the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the handler's own error path
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


#: One filter for every logger, so that installing it again (each `create_app`) adds nothing.
FILTER = RedactingFilter()


def install(*logger_names: str) -> None:
    """Redact what these loggers write (records logged on them directly: filters do not apply to children)."""
    for name in logger_names:
        logging.getLogger(name).addFilter(FILTER)
