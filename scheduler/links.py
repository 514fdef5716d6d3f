"""Absolute links for e-mails, invites, feeds and QR codes, which are read outside any request."""

from __future__ import annotations

from flask import current_app


def public_url(path: str = "") -> str:
    """BASE_URL followed by `path` (which starts with '/'), or BASE_URL alone without a trailing slash."""
    return current_app.config["BASE_URL"].rstrip("/") + path
