"""Absolute links for e-mails, invites, feeds and QR codes, which are read outside any request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import current_app


def public_url(path: str = "", ambito: Any = None) -> str:
    """BASE_URL followed by `path` (which starts with '/'), or BASE_URL alone without a trailing slash.

    With an `ambito` that has a host name of its own, that host in place of BASE_URL's (its scheme and port kept):
    a link in an Ambito's e-mail opens that Ambito's pages."""
    base = current_app.config["BASE_URL"].rstrip("/")
    host = getattr(ambito, "host", None)
    if host:
        parts = urlsplit(base)
        netloc = f"{host}:{parts.port}" if parts.port else host
        base = urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")
    return base + path
