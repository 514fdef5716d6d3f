"""The office's page of its own Ambito: what its pages and mail say of it (name, lead municipality, office and
mailbox, sender, privacy, responsible person, header line)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.auth.decorators import staff_required
from scheduler.calls.ambiti import SETTINGS, AmbitoError, update_settings
from scheduler.extensions import db
from scheduler.platform.forms import AmbitoOfficeForm
from scheduler.site import bp
from scheduler.web import put_error, request_ambito, status_for


@bp.route("/gestione/ambito", methods=["GET", "POST"])
@staff_required
def ambito_settings() -> Response | tuple[str, int]:
    ambito = request_ambito()
    if ambito is None:
        abort(404)
    form = AmbitoOfficeForm(obj=ambito)
    if not form.is_submitted():
        return render_template("site/ambito.html", form=form, ambito=ambito), 200
    if not form.validate():
        return render_template("site/ambito.html", form=form, ambito=ambito), 400
    try:
        changed = update_settings(ambito, {name: getattr(form, name).data for name in SETTINGS},
                                  actor_id=current_user.id)
        db.session.commit()
    except AmbitoError as error:
        db.session.rollback()
        put_error(form, error)
        return render_template("site/ambito.html", form=form, ambito=ambito), status_for(error)
    flash(_("Impostazioni dell'Ambito salvate.") if changed else _("Nessuna modifica."), "success")
    return redirect(url_for("site.ambito_settings"), 303)
