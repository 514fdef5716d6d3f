"""Staff pages of the tables: create and edit a table, close and reopen it, plan a series of meetings.

Thin: parse the form, call `tables`, commit once, flash what happened.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from scheduler.audit.labels import action_label, changed_fields
from scheduler.audit.services import entries_for
from scheduler.auth.decorators import staff_required
from scheduler.calendar import bp, planning, tables
from scheduler.calendar.manage_views import PHASE_LABELS, ViewResult, _track_or_404
from scheduler.calendar.services import CalendarError
from scheduler.calendar.table_forms import SeriesForm, TableForm, describe_rule
from scheduler.calls.models import Call, Track
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.web import call_or_404, put_error, status_for


def _facilitator_choices(call: Call) -> list[tuple[int, str]]:
    """The facilitators of the call's Ambito: those its tables may have."""
    return [(u.id, u.display_name) for u in planning.facilitators(call.ambito_id)]


def _table_form(call: Call, track: Track | None = None) -> TableForm:
    venues, people = planning.venues_of(call), _facilitator_choices(call)
    if request.method == "POST" or track is None:
        return TableForm(call, venues, people)
    return TableForm.for_track(call, venues, people, track, formdata=None)


def _table_page(call: Call, form: TableForm, track: Track | None, status: int = 200,
                close_error: str | None = None) -> tuple[str, int]:
    return render_template(
        "calendar/manage_table.html", call=call, form=form, track=track, phase_labels=PHASE_LABELS,
        upcoming=tables.upcoming_of(track) if track else [], close_error=close_error,
        history=entries_for("track", track.id) if track else [], action_label=action_label,
        changed_fields=changed_fields,
    ), status


@bp.route("/gestione/calendario/percorsi/nuovo", methods=["GET", "POST"])
@staff_required
def manage_new_table() -> ViewResult:
    call = call_or_404()
    form = _table_form(call)
    if not form.validate_on_submit():
        return _table_page(call, form, None, 400 if form.is_submitted() else 200)
    try:
        track = tables.create_table(call, form.table_data(), actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        put_error(form, error)
        return _table_page(call, form, None, status_for(error))
    flash(_("Tavolo creato: %(name)s. Ora puoi fissarne gli incontri, uno per volta o in serie.", name=track.name),
          "success")
    return redirect(url_for("calendar.manage_table", track_id=track.id), 303)


@bp.route("/gestione/calendario/percorsi/<int:track_id>", methods=["GET", "POST"])
@staff_required
def manage_table(track_id: int) -> ViewResult:
    call = call_or_404()
    track = _track_or_404(call, track_id)
    form = _table_form(call, track)
    if request.method == "GET":
        return _table_page(call, form, track)
    if not form.validate():
        return _table_page(call, form, track, 400)
    try:
        tables.update_table(track, form.table_data(), actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        put_error(form, error)
        return _table_page(call, form, _track_or_404(call, track_id), status_for(error))
    flash(_("Tavolo aggiornato. Gli incontri già fissati restano come sono."), "success")
    return redirect(url_for("calendar.manage_table", track_id=track.id), 303)


@bp.post("/gestione/calendario/percorsi/<int:track_id>/chiudi")
@staff_required
def manage_close_table(track_id: int) -> ViewResult:
    call = call_or_404()
    track = _track_or_404(call, track_id)
    try:
        tables.close_table(track, actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        track = _track_or_404(call, track_id)
        return _table_page(call, _table_form(call, track), track, status_for(error), close_error=error.message)
    flash(_("Tavolo chiuso: resta con la sua storia, non compare più tra i tavoli in corso."), "success")
    return redirect(url_for("calendar.manage_table", track_id=track.id), 303)


@bp.post("/gestione/calendario/percorsi/<int:track_id>/riapri")
@staff_required
def manage_reopen_table(track_id: int) -> ViewResult:
    call = call_or_404()
    track = _track_or_404(call, track_id)
    try:
        tables.reopen_table(track, actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        flash(error.message, "info")
    else:
        flash(_("Tavolo riaperto."), "success")
    return redirect(url_for("calendar.manage_table", track_id=track.id), 303)


def _series_page(call: Call, track: Track, form: SeriesForm, status: int = 200,
                 preview: list | None = None) -> tuple[str, int]:
    locale = str(get_locale() or "it")
    dates = [format_when(starts, ends, locale) for starts, ends in preview or []]
    return render_template("calendar/manage_series.html", call=call, track=track, form=form, preview=dates,
                           rule=describe_rule(form.plan()) if preview else None), status


@bp.route("/gestione/calendario/percorsi/<int:track_id>/serie", methods=["GET", "POST"])
@staff_required
def manage_series(track_id: int) -> ViewResult:
    """A first post shows the dates ("Mostra le date"); "Crea gli incontri" plans them."""
    call = call_or_404()
    track = _track_or_404(call, track_id)
    form = SeriesForm.for_track(planning.venues_of(call), track)
    if request.method == "GET":
        return _series_page(call, track, form)
    if not form.validate():
        return _series_page(call, track, form, 400)
    try:
        if request.form.get("azione") != "crea":
            return _series_page(call, track, form, preview=tables.check_series(track, form.plan()))
        meetings = tables.plan_series(track, form.plan(), actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        put_error(form, error)
        return _series_page(call, track, form, status_for(error))
    flash(ngettext("%(num)d incontro creato.", "%(num)d incontri creati.", len(meetings)), "success")
    return redirect(url_for("calendar.manage", _anchor=f"percorso-{track.id}"), 303)

