"""Staff announcements: messages to the right audience, the venue notice, and their delivery log."""

from flask import Blueprint

bp = Blueprint("announcements", __name__)

from scheduler.announcements import views  # noqa: E402,F401
