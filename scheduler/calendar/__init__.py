"""Meetings, venues, RSVPs, invites and feeds."""

from importlib import import_module

from flask import Blueprint

bp = Blueprint("calendar", __name__)

from scheduler.calendar import rsvp_views, views  # noqa: E402,F401

try:  # the staff planning pages arrive in their own change; the public pages work without them
    import_module("scheduler.calendar.manage_views")
except ModuleNotFoundError as error:
    if error.name != "scheduler.calendar.manage_views":
        raise
