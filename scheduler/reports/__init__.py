"""Participation reports for staff: by meeting, entity, area and comune; exports, certificates, notes to the absent."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from scheduler.reports import views  # noqa: E402,F401
