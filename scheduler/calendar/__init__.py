"""Meetings, venues, RSVPs, invites and feeds."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)

# the views, and the receivers of scheduler.hooks (call_meetings, personal_data, scope): importing the package, as the
# app factory does, connects them
from scheduler.calendar import (  # noqa: E402,F401
    call_meetings,
    manage_views,
    personal_data,
    rsvp_views,
    scope,
    table_views,
    views,
)
