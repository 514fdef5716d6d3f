"""Helpers shared by the sign-in tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask

from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage

ENTITY_EMAIL = "referente@ente-esempio.it"
STAFF_EMAIL = "staff@example.org"
STAFF_PASSWORD = "password-di-prova-1"


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def set_active(app: Flask, user_id: int, active: bool) -> None:
    from scheduler.auth.models import User

    with app.app_context():
        db.session.get(User, user_id).active = active
        db.session.commit()


def outbox(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return list(rows)
