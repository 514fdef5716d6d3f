"""Participation reports for staff: by meeting, entity, area and comune; exports, certificates, notes to the absent;
and each entity's own record (its meetings, its certificate, its attendance) in its reserved area."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from scheduler.reports import entity_views, views  # noqa: E402,F401
