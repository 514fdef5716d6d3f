"""Third Sector entities: the application form, the entity's own area, staff review and the public list."""

from flask import Blueprint

from scheduler.registry.labels import STATUS_BADGES

bp = Blueprint("registry", __name__)


@bp.app_template_filter("status_badge")
def status_badge(status) -> str:
    """The badge class of an application status."""
    return STATUS_BADGES[status]


from scheduler.registry import carry_over_views, public_views, review_views, views  # noqa: E402,F401
