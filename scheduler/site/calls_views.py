"""Staff pages of the calls: which one is current, the archive, inviting the entities of an earlier call."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.auth.decorators import staff_required
from scheduler.calls import services as calls
from scheduler.calls.models import Call
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.registry import carry_over
from scheduler.site import bp
from scheduler.site.calls import overview
from scheduler.web import int_arg, object_or_404, request_ambito, status_for


def _page(status: int = 200, error: str | None = None, error_call: int | None = None) -> tuple[str, int]:
    rows = overview(request_ambito())
    return render_template("site/calls.html", rows=rows, error=error, error_call=error_call), status


@bp.get("/gestione/avvisi")
@staff_required
def manage_calls() -> tuple[str, int]:
    return _page()


def _act(call_id: int, action, done: str) -> Response | tuple[str, int]:
    call = object_or_404(Call, call_id)
    try:
        action(call, actor_id=current_user.id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _page(status_for(error), error.message, call_id)
    flash(done % {"title": call.title}, "success")
    return redirect(url_for("site.manage_calls"), 303)


@bp.post("/gestione/avvisi/<int:call_id>/corrente")
@staff_required
def make_current_call(call_id: int) -> Response | tuple[str, int]:
    return _act(call_id, calls.make_current,
                _("«%(title)s» è ora l'avviso corrente: le pagine /candidatura, /elenco e /calendario mostrano "
                  "questo avviso."))


@bp.post("/gestione/avvisi/<int:call_id>/archivia")
@staff_required
def archive_call(call_id: int) -> Response | tuple[str, int]:
    return _act(call_id, calls.archive, _("«%(title)s» è nell'archivio degli avvisi conclusi."))


@bp.post("/gestione/avvisi/<int:call_id>/riapri")
@staff_required
def reopen_call(call_id: int) -> Response | tuple[str, int]:
    return _act(call_id, calls.reopen, _("«%(title)s» è di nuovo tra gli avvisi aperti."))


@bp.post("/gestione/avvisi/<int:call_id>/invita")
@staff_required
def invite_entities(call_id: int) -> Response | tuple[str, int]:
    """Invite in one step the entities admitted to an earlier call to confirm for this one."""
    call = object_or_404(Call, call_id)
    from_id = int_arg("from_call", values=request.form)
    from_call = db.session.get(Call, from_id) if from_id else None
    if from_call is None:
        return _page(400, _("Scegli l'avviso da cui invitare gli enti ammessi."), call_id)
    try:
        invitations = carry_over.invite_admitted(call, from_call, actor=current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _page(status_for(error), error.message, call_id)
    if invitations:
        flash(ngettext("%(num)d ente invitato a confermare la partecipazione: riceve un'e-mail.",
                       "%(num)d enti invitati a confermare la partecipazione: ricevono un'e-mail.",
                       len(invitations)), "success")
    else:
        flash(_("Nessun ente da invitare: gli ammessi a quell'avviso sono già stati invitati o hanno già una "
                "candidatura per questo."), "info")
    return redirect(url_for("site.manage_calls"), 303)
