"""Meetings, venues, RSVPs, invites and feeds."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)

from scheduler.calendar import manage_views, rsvp_views, views  # noqa: E402,F401
