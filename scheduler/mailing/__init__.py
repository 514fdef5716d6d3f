"""Mail: the outbox, the worker that delivers it, and the staff page that shows it."""

from flask import Blueprint

bp = Blueprint("mailing", __name__)

from scheduler.mailing import views  # noqa: E402,F401
