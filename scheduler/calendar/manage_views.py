"""Staff pages that plan the calendar: meetings, venues, changes and cancellations, facilitators.

Thin: parse the form, call `planning` (which calls `services`), commit once, flash what happened. A change
that concerns many entities only writes their e-mails to the outbox in the same transaction; the worker
delivers them, so the page answers at once.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.audit.labels import action_label, changed_fields
from scheduler.audit.services import entries_for
from scheduler.auth.decorators import staff_required
from scheduler.auth.services import AuthError
from scheduler.calendar import bp, meeting_documents, planning
from scheduler.calendar.manage_forms import FacilitatorsForm, MeetingForm, NewFacilitatorForm, VenueForm
from scheduler.calendar.models import DocumentVisibility, Meeting, MeetingDocument, RsvpStatus, Venue
from scheduler.calendar.services import CalendarError, Outcome, effective_capacity
from scheduler.calendar.table_forms import CancelForm, DocumentForm, RestoreForm
from scheduler.calls.models import Call, Phase, Track
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.mailing.services import sender_mismatch
from scheduler.timeutil import utcnow
from scheduler.web import call_or_404, meeting_or_404, put_error, status_for, valid_id

ViewResult = Response | str | tuple[str, int]

PHASE_LABELS = {Phase.DRAFTING: _l("Fase di stesura"), Phase.IMPLEMENTATION: _l("Fase di attuazione")}


def _track_or_404(call: Call, track_id: int) -> Track:
    track = planning.track_of_call(call, track_id) if valid_id(track_id) else None
    if track is None:
        abort(404)
    return track


def _venue_or_404(call: Call, venue_id: int) -> Venue:
    venue = planning.venue_of_call(call, venue_id) if valid_id(venue_id) else None
    if venue is None:
        abort(404)
    return venue


def _warn_overlaps(meeting: Meeting) -> None:
    """Two meetings of one track at the same time are allowed (a split table) but are usually a mistake."""
    for other in planning.overlaps(meeting.track_id, meeting.starts_at, meeting.ends_at, exclude_id=meeting.id):
        flash(_("Attenzione: l'incontro si sovrappone a un altro incontro dello stesso percorso: %(other)s.",
                other=_meeting_label(other)), "warning")


def _meeting_label(meeting: Meeting) -> str:
    label = format_when(meeting.starts_at, meeting.ends_at, str(get_locale() or "it"))
    return f"{label} ({meeting.title})" if meeting.title else label


# --- the overview ------------------------------------------------------------------------------------------------


@bp.get("/gestione/calendario")
@staff_required
def manage() -> str:
    call = call_or_404()
    tracks = planning.planning_tracks(call)
    counts = planning.answer_counts([m.id for t in tracks for m in t.meetings])
    return render_template(
        "calendar/manage_index.html", call=call, tracks=tracks, counts=counts, now=utcnow(),
        capacity_of=effective_capacity, phase_labels=PHASE_LABELS, sender=sender_mismatch(call.office_email),
    )


# --- meetings --------------------------------------------------------------------------------------------------


@bp.route("/gestione/calendario/percorsi/<int:track_id>/incontri/nuovo", methods=["GET", "POST"])
@staff_required
def manage_new_meeting(track_id: int) -> ViewResult:
    call = call_or_404()
    track = _track_or_404(call, track_id)
    form = MeetingForm.for_track(planning.venues_of(call), track)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            meeting = planning.plan_meeting(track, form.plan(), actor_id=current_user.id)
            db.session.commit()
        except CalendarError as error:
            db.session.rollback()
            put_error(form, error)
            status = status_for(error)
        else:
            flash(_("Incontro creato: %(when)s.", when=_meeting_label(meeting)), "success")
            _warn_overlaps(meeting)
            return redirect(url_for("calendar.manage", _anchor=f"percorso-{track.id}"), 303)
    return render_template("calendar/manage_meeting_new.html", call=call, track=track, form=form), status


def _edit_page(call: Call, meeting: Meeting, form: MeetingForm | None = None, status: int = 200, *,
               cancel_form: CancelForm | None = None, restore_form: RestoreForm | None = None,
               document_form: DocumentForm | None = None) -> tuple[str, int]:
    if form is None:
        form = MeetingForm.for_meeting(planning.venues_of(call), meeting, formdata=None)
    return render_template(
        "calendar/manage_meeting_edit.html", call=call, meeting=meeting, track=meeting.track, form=form,
        answers=planning.answers_of(meeting), capacity=effective_capacity(meeting), RsvpStatus=RsvpStatus,
        now=utcnow(), cancel_form=cancel_form or CancelForm(formdata=None),
        restore_form=restore_form or RestoreForm.for_meeting(meeting, formdata=None),
        document_form=document_form or DocumentForm(formdata=None),
        documents=meeting_documents.documents_for(meeting, current_user),
        history=entries_for("meeting", meeting.id), action_label=action_label, changed_fields=changed_fields,
    ), status


def _edit_flash(outcome: Outcome) -> None:
    if outcome.event_changed:
        flash(ngettext("Incontro aggiornato: %(num)d destinatario riceverà l'invito aggiornato.",
                       "Incontro aggiornato: %(num)d destinatari riceveranno l'invito aggiornato.",
                       outcome.notified), "success")
    else:
        flash(_("Incontro aggiornato."), "success")
    if outcome.promoted:
        flash(ngettext("%(num)d ente passa dalla lista d'attesa ai posti confermati e riceve l'invito.",
                       "%(num)d enti passano dalla lista d'attesa ai posti confermati e ricevono l'invito.",
                       len(outcome.promoted)), "info")


@bp.route("/gestione/calendario/incontri/<int:meeting_id>", methods=["GET", "POST"])
@staff_required
def manage_meeting(meeting_id: int) -> ViewResult:
    call = call_or_404()
    meeting = meeting_or_404(meeting_id, call)
    if request.method == "GET":
        return _edit_page(call, meeting, MeetingForm.for_meeting(planning.venues_of(call), meeting, formdata=None))
    form = MeetingForm(planning.venues_of(call))
    if not form.validate():
        return _edit_page(call, meeting, form, 400)
    try:
        outcome = planning.edit_meeting(meeting, form.plan(), actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        put_error(form, error)
        return _edit_page(call, meeting_or_404(meeting_id, call), form, status_for(error))
    _edit_flash(outcome)
    if outcome.moved:
        _warn_overlaps(meeting)
    return redirect(url_for("calendar.manage_meeting", meeting_id=meeting.id), 303)


@bp.post("/gestione/calendario/incontri/<int:meeting_id>/annulla")
@staff_required
def manage_cancel_meeting(meeting_id: int) -> ViewResult:
    call = call_or_404()
    meeting = meeting_or_404(meeting_id, call)
    form = CancelForm()
    if meeting.is_cancelled:
        flash(_("L'incontro era già annullato."), "info")
        return redirect(url_for("calendar.manage_meeting", meeting_id=meeting.id), 303)
    if not form.validate():
        return _edit_page(call, meeting, status=400, cancel_form=form)
    try:
        notified = planning.cancel_meeting(meeting, form.reason.data, actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        put_error(form, error, form.reason)
        return _edit_page(call, meeting_or_404(meeting_id, call), status=status_for(error), cancel_form=form)
    flash(ngettext("Incontro annullato: %(num)d destinatario riceverà l'annullamento.",
                   "Incontro annullato: %(num)d destinatari riceveranno l'annullamento.", notified), "success")
    return redirect(url_for("calendar.manage_meeting", meeting_id=meeting.id), 303)


@bp.post("/gestione/calendario/incontri/<int:meeting_id>/ripristina")
@staff_required
def manage_restore_meeting(meeting_id: int) -> ViewResult:
    """A cancelled meeting back in the calendar (same event, higher SEQUENCE), on its day or a new one."""
    call = call_or_404()
    meeting = meeting_or_404(meeting_id, call)
    form = RestoreForm()
    if not form.validate():
        return _edit_page(call, meeting, status=400, restore_form=form)
    try:
        outcome = planning.restore_meeting(meeting, *form.times(), actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        put_error(form, error)
        return _edit_page(call, meeting_or_404(meeting_id, call), status=status_for(error), restore_form=form)
    flash(ngettext("Incontro di nuovo in programma: %(num)d destinatario riceverà l'invito aggiornato.",
                   "Incontro di nuovo in programma: %(num)d destinatari riceveranno l'invito aggiornato.",
                   outcome.notified), "success")
    return redirect(url_for("calendar.manage_meeting", meeting_id=meeting.id), 303)


# --- venues ----------------------------------------------------------------------------------------------------


@bp.get("/gestione/calendario/sedi")
@staff_required
def manage_venues() -> str:
    call = call_or_404()
    venues = planning.venues_of(call)
    return render_template("calendar/manage_venues.html", call=call, venues=venues,
                           upcoming=planning.meetings_per_venue([v.id for v in venues]))


@bp.route("/gestione/calendario/sedi/nuova", methods=["GET", "POST"])
@staff_required
def manage_new_venue() -> ViewResult:
    call = call_or_404()
    form = VenueForm(call)
    if form.validate_on_submit():
        try:
            venue = planning.create_venue(call, form.data_for_service(), actor_id=current_user.id)
            db.session.commit()
        except CalendarError as error:
            db.session.rollback()
            put_error(form, error)
        else:
            flash(_("Sede aggiunta: %(name)s.", name=venue.location), "success")
            return redirect(url_for("calendar.manage_venues"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("calendar/manage_venue_form.html", call=call, form=form, venue=None), status


@bp.route("/gestione/calendario/sedi/<int:venue_id>", methods=["GET", "POST"])
@staff_required
def manage_venue(venue_id: int) -> ViewResult:
    call = call_or_404()
    venue = _venue_or_404(call, venue_id)
    form = VenueForm(call) if request.method == "POST" else VenueForm.for_venue(call, venue, formdata=None)
    if form.validate_on_submit():
        try:
            outcome = planning.update_venue(venue, form.data_for_service(), actor_id=current_user.id)
            db.session.commit()
        except CalendarError as error:
            db.session.rollback()
            put_error(form, error)
        else:
            if outcome.venue_changed and outcome.notified:
                flash(ngettext("Sede aggiornata: %(num)d destinatario riceverà l'invito aggiornato.",
                               "Sede aggiornata: %(num)d destinatari riceveranno l'invito aggiornato.",
                               outcome.notified), "success")
            else:
                flash(_("Sede aggiornata."), "success")
            if outcome.promoted:
                flash(ngettext("%(num)d ente passa dalla lista d'attesa ai posti confermati e riceve l'invito.",
                               "%(num)d enti passano dalla lista d'attesa ai posti confermati e ricevono l'invito.",
                               len(outcome.promoted)), "info")
            return redirect(url_for("calendar.manage_venues"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("calendar/manage_venue_form.html", call=call, form=form, venue=venue,
                           upcoming=planning.upcoming_at(venue), history=entries_for("venue", venue.id),
                           action_label=action_label, changed_fields=changed_fields), status


# --- facilitators ------------------------------------------------------------------------------------------------


def _facilitators_page(call: Call, track: Track, assign_form: FacilitatorsForm | None = None,
                       new_form: NewFacilitatorForm | None = None, created: tuple | None = None,
                       status: int = 200) -> tuple[str, int]:
    people = planning.facilitators(call.ambito_id)
    if assign_form is None:
        assign_form = FacilitatorsForm(_facilitator_choices(people), formdata=None,
                                       facilitators=[u.id for u in track.facilitators])
    return render_template(
        "calendar/manage_facilitators.html", call=call, track=track, people=people, assign_form=assign_form,
        new_form=new_form or NewFacilitatorForm(formdata=None), created=created,
    ), status


def _facilitator_choices(people: list) -> list[tuple[int, str]]:
    return [(u.id, u.display_name) for u in people]


@bp.route("/gestione/calendario/percorsi/<int:track_id>/facilitatori", methods=["GET", "POST"])
@staff_required
def manage_facilitators(track_id: int) -> ViewResult:
    call = call_or_404()
    track = _track_or_404(call, track_id)
    if request.method == "GET":
        return _facilitators_page(call, track)
    if request.form.get("azione") == "crea":
        return _create_facilitator(call, track)
    form = FacilitatorsForm(_facilitator_choices(planning.facilitators(call.ambito_id)))
    if not form.validate():
        return _facilitators_page(call, track, assign_form=form, status=400)
    try:
        added, removed = planning.assign_facilitators(track, set(form.facilitators.data or []),
                                                      actor_id=current_user.id)
        db.session.commit()
    except CalendarError as error:
        db.session.rollback()
        put_error(form, error)
        return _facilitators_page(call, track, assign_form=form, status=status_for(error))
    flash(_("Facilitatori del percorso aggiornati: %(added)s, %(removed)s.",
            added=ngettext("%(num)d aggiunto", "%(num)d aggiunti", len(added)),
            removed=ngettext("%(num)d tolto", "%(num)d tolti", len(removed))), "success")
    return redirect(url_for("calendar.manage_facilitators", track_id=track.id), 303)


def _create_facilitator(call: Call, track: Track) -> tuple[str, int]:
    """The password is shown on this response only (never stored in the session or sent by e-mail)."""
    form = NewFacilitatorForm()
    if not form.validate():
        return _facilitators_page(call, track, new_form=form, status=400)
    try:
        user, password = planning.create_facilitator(track, form.email.data, form.full_name.data,
                                                     ambito=call.ambito, actor_id=current_user.id)
        db.session.commit()
    except AuthError as error:
        db.session.rollback()
        form.email.errors = [*form.email.errors, str(error)]
        return _facilitators_page(call, track, new_form=form, status=400)
    except CalendarError as error:
        db.session.rollback()
        form.email.errors = [*form.email.errors, error.message]
        return _facilitators_page(call, track, new_form=form, status=status_for(error))
    return _facilitators_page(call, track, created=(user, password))


# --- documents -----------------------------------------------------------------------------------------------


@bp.post("/gestione/calendario/incontri/<int:meeting_id>/documenti")
@staff_required
def manage_add_document(meeting_id: int) -> ViewResult:
    call = call_or_404()
    meeting = meeting_or_404(meeting_id, call)
    form = DocumentForm()
    if not form.validate():
        return _edit_page(call, meeting, status=400, document_form=form)
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        form.document.errors = [*form.document.errors, _("Scegli il file da pubblicare.")]
        return _edit_page(call, meeting, status=400, document_form=form)
    limit = int(current_app.config.get("MEETING_DOCUMENT_MAX_BYTES", meeting_documents.DEFAULT_MAX_BYTES))
    try:
        document = meeting_documents.add_document(
            meeting, form.title.data, upload.filename, upload.stream.read(limit + 1),
            DocumentVisibility(form.visibility.data), max_bytes=limit, actor_id=current_user.id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        put_error(form, error)
        return _edit_page(call, meeting_or_404(meeting_id, call), status=status_for(error), document_form=form)
    flash(_("Documento pubblicato: %(title)s.", title=document.title), "success")
    return redirect(url_for("calendar.manage_meeting", meeting_id=meeting.id, _anchor="documenti"), 303)


@bp.post("/gestione/calendario/incontri/<int:meeting_id>/documenti/<int:document_id>/elimina")
@staff_required
def manage_remove_document(meeting_id: int, document_id: int) -> ViewResult:
    call = call_or_404()
    meeting = meeting_or_404(meeting_id, call)
    document = db.session.get(MeetingDocument, document_id) if valid_id(document_id) else None
    if document is None or document.meeting_id != meeting.id:
        abort(404)
    title = document.title
    meeting_documents.remove_document(document, actor_id=current_user.id)
    db.session.commit()
    flash(_("Documento tolto: %(title)s.", title=title), "success")
    return redirect(url_for("calendar.manage_meeting", meeting_id=meeting.id, _anchor="documenti"), 303)
