"""Attendance registers: the facilitator's register on a phone, QR check-in, offline marks, documents."""

from importlib import import_module

from flask import Blueprint

bp = Blueprint("attendance", __name__)

# the views, and the receivers of scheduler.hooks (personal_data): importing the package, as the app factory
# does, connects them
from scheduler.attendance import personal_data, views  # noqa: E402,F401

try:  # the printable sheets and uploads arrive in their own change; the register works without them
    import_module("scheduler.attendance.document_views")
except ModuleNotFoundError as error:
    if error.name != "scheduler.attendance.document_views":
        raise
