"""The entity's one step into a new call: confirm the participation staff invited it to."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.auth.decorators import role_required
from scheduler.auth.models import Role
from scheduler.calls.services import call_by_slug
from scheduler.extensions import db
from scheduler.registry import bp, carry_over
from scheduler.registry.services import RegistryError
from scheduler.web import request_ambito, status_for


@bp.route("/area-riservata/avvisi/<slug>/conferma", methods=["GET", "POST"])
@role_required(Role.ENTITY)
def confirm_participation(slug: str) -> Response | tuple[str, int]:
    g.private_page = True
    call = call_by_slug(slug, ambito=request_ambito()) if len(slug) <= 80 else None
    invitation = carry_over.pending_invitation(current_user.acting_for_id, call) if call else None
    if invitation is None:
        abort(404)
    previous = carry_over.previous_application(invitation)
    areas = carry_over.carried_areas(invitation, previous) if previous else []
    error = None
    if request.method == "POST":
        try:
            application = carry_over.confirm(invitation, current_user)
            db.session.commit()
        except RegistryError as exc:
            db.session.rollback()
            error, status = exc.message, status_for(exc)
        else:
            flash(_("Partecipazione confermata: la candidatura all'avviso «%(title)s» ha il protocollo %(p)s. "
                    "Ti abbiamo inviato la ricevuta per e-mail.", title=call.title, p=application.protocol),
                  "success")
            return redirect(url_for("registry.my_area"), 303)
    return render_template("registry/confirm_participation.html", call=call, invitation=invitation,
                           previous=previous, areas=areas, error=error), status if error else 200
