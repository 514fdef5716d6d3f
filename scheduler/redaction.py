"""The secrets that travel in URLs, and how they are hidden wherever they would otherwise be read.

A sign-in link, a meeting's answer link, an unsubscribe link, a delegate's confirmation and a private calendar
feed each carry a token that acts for someone. They are sent to that someone and never shown to anyone else:
the office's outbox pages show them redacted, and the access logs write the placeholder instead. One list of
the shapes, here, serves both (it depends on nothing in the app, so the server's logger can load it).
"""

from __future__ import annotations

import re

PLACEHOLDER = "[riservato]"

#: Each secret-bearing path, the token its last segment (signed tokens contain dots; the feed ends in .ics).
_SECRET_PATHS = re.compile(
    r"(?P<prefix>/accedi/link/|/incontri/\d+/risposta/|/email/disiscrizione/|/contatti/conferma/)"
    r"(?P<token>[A-Za-z0-9_\-.~%]+)"
    r"|(?P<feed>/feed/)(?P<feed_token>[A-Za-z0-9_\-%]+)(?=\.ics)"
)


def _replace(match: re.Match[str]) -> str:
    return (match.group("prefix") or match.group("feed")) + PLACEHOLDER


def redact(text: str | None) -> str:
    """The text with every secret token in a URL or path replaced by a placeholder."""
    if not text:
        return text or ""
    return _SECRET_PATHS.sub(_replace, text)


def has_secret(text: str) -> bool:
    return bool(_SECRET_PATHS.search(text or ""))
