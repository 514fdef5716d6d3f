"""Access rules for views: who must be signed in, with which role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, url_for
from flask_login import current_user

from scheduler.auth.models import Role
from scheduler.extensions import login_manager
from scheduler.web import request_ambito_id

F = TypeVar("F", bound=Callable[..., Any])
#: The roles that work for one Ambito and act within it only.
AMBITO_ROLES = frozenset({Role.STAFF, Role.FACILITATOR})


def role_required(*roles: Role) -> Callable[[F], F]:
    """Only users with one of `roles`: anonymous visitors go to the sign-in page (with `next`), others 403; staff
    and facilitators of another Ambito 404.

    Roles are not ranked: list every role allowed, e.g. role_required(Role.STAFF, Role.FACILITATOR).
    Pages behind it are private, so they are sent with Cache-Control: no-store. An entity account that has not
    chosen which of its entities it acts for is sent to choose first.
    """
    if not roles or not all(isinstance(role, Role) for role in roles):
        raise TypeError("role_required() takes one or more Role members")
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            g.private_page = True
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            if current_user.role in AMBITO_ROLES and current_user.ambito_id != request_ambito_id():
                abort(404)  # another Ambito's office: nothing of this one exists for it
            if current_user.role is Role.ENTITY and current_user.acting_for_id is None:
                # an account of several entities acts for none until it chooses (nothing of any is shown)
                return redirect(url_for("auth.choose_entity", next=request.full_path.rstrip("?")))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


#: The Ufficio di Piano's pages.
staff_required = role_required(Role.STAFF)
