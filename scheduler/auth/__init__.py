"""Sign-in: passwords for staff and facilitators, one-time links for entities."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from scheduler.auth import views  # noqa: E402,F401
