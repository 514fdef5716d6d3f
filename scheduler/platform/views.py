"""The installation's administrators' pages: the Ambiti served, and a new one with its first office account."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.auth.decorators import role_required
from scheduler.auth.models import Role, User
from scheduler.calls.ambiti import SETTINGS, AmbitoError, all_ambiti
from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.links import public_url
from scheduler.platform import bp
from scheduler.platform.forms import AmbitoForm
from scheduler.platform.services import open_ambito
from scheduler.web import put_error, status_for

platform_required = role_required(Role.PLATFORM)


def _counts(column: sa.ColumnElement, *where: sa.ColumnElement) -> dict[int, int]:
    return dict(db.session.execute(sa.select(column, sa.func.count()).where(*where).group_by(column)).all())


@bp.get("/piattaforma")
@platform_required
def index() -> str:
    """Every Ambito with its address, how many calls and office accounts it has."""
    ambiti = all_ambiti()
    calls = _counts(Call.ambito_id)
    staff = _counts(User.ambito_id, User.role == Role.STAFF)
    return render_template("platform/index.html", ambiti=ambiti, calls=calls, staff=staff,
                           address=lambda ambito: public_url("", ambito))


@bp.route("/piattaforma/ambiti/nuovo", methods=["GET", "POST"])
@platform_required
def new_ambito() -> Response | tuple[str, int]:
    form = AmbitoForm()
    if not form.is_submitted():
        return render_template("platform/new.html", form=form), 200
    if not form.validate():
        return render_template("platform/new.html", form=form), 400
    settings = {name: getattr(form, name).data or "" for name in SETTINGS if hasattr(form, name)}
    try:
        opened = open_ambito(settings, slug=(form.slug.data or "").lower(), host=form.host.data,
                             staff_email=form.staff_email.data, staff_name=form.staff_name.data or "",
                             actor_id=current_user.id)
        db.session.commit()
    except AmbitoError as error:
        db.session.rollback()
        put_error(form, error)
        return render_template("platform/new.html", form=form), status_for(error)
    flash(_("Ambito «%(name)s» creato: %(email)s ha ricevuto il collegamento per scegliere la password.",
            name=opened.ambito.name, email=opened.staff.email), "success")
    return redirect("/piattaforma", 303)
