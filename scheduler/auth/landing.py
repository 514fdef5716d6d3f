"""Where each role lands after signing in, when the sign-in did not ask for a page (`next`).

The endpoints are names, not imports: auth sits below the features whose pages these are, so it never imports
them. A role whose page is not registered (an app built without that feature) lands on the home page.
"""

from __future__ import annotations

from flask import current_app, url_for

from scheduler.auth.models import Role, User
from scheduler.auth.services import safe_next_path

#: The page each role works from: the entity's reserved area, the facilitator's registers, the staff dashboard,
#: the list of the installation's Ambiti.
LANDING_ENDPOINTS: dict[Role, str] = {
    Role.ENTITY: "registry.my_area",
    Role.FACILITATOR: "attendance.my_registers",
    Role.STAFF: "site.dashboard",
    Role.PLATFORM: "platform.index",
}

HOME = "/"


def landing_path(user: User) -> str:
    """The local path `user` is sent to after signing in without a `next`."""
    endpoint = LANDING_ENDPOINTS.get(user.role)
    if endpoint is None or endpoint not in current_app.view_functions:
        return HOME
    return url_for(endpoint)


def after_sign_in(user: User, next_path: str | None) -> str:
    """A safe `next` asked for by the sign-in wins; otherwise the user's own page."""
    return safe_next_path(next_path) or landing_path(user)
