"""Public pages that belong to no single feature: home, privacy, health, assets, language."""

from flask import Blueprint

bp = Blueprint("site", __name__)

from scheduler.site import ambito_views, calls_views, views  # noqa: E402,F401
