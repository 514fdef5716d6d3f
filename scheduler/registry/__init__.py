"""Third Sector entities: the application form, the entity's own area, staff review and the public list."""

from flask import Blueprint

bp = Blueprint("registry", __name__)

from scheduler.registry import public_views, review_views, views  # noqa: E402,F401
