"""Sign-in rules (to be completed)."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.auth.models import User
from scheduler.extensions import db


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, so old sessions stop working."""
    try:
        raw_id, version = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or str(user.session_version) != version or not user.active:
        return None
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
