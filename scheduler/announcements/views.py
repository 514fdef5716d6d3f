"""Staff pages of announcements: list, composer, preview and test, sending, the delivery log, the venue notice.

Thin: parse the form, call `services`, commit once, say what happened. Sending to hundreds only writes their
messages to the outbox; the worker delivers them, so the page answers at once.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.announcements import attachments as files
from scheduler.announcements import bp
from scheduler.announcements import services as announcements
from scheduler.announcements.audience import AUDIENCE_KINDS, Audience, describe, meeting_of
from scheduler.announcements.compose import PLACEHOLDERS
from scheduler.announcements.forms import AnnouncementForm, ScheduleForm, VenueNoticeForm
from scheduler.announcements.models import Announcement, AnnouncementStatus
from scheduler.auth.decorators import staff_required
from scheduler.bounds import valid_id, whole_number
from scheduler.calendar import planning
from scheduler.calendar.models import Meeting
from scheduler.calls.models import Call, Track
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.mailing.models import OutboxStatus
from scheduler.mailing.views import STATUS_BADGES, STATUS_LABELS
from scheduler.timeutil import utcnow
from scheduler.web import call_or_404, int_arg, meeting_or_404, object_or_404, put_error, status_for

ViewResult = Response | str | tuple[str, int]


def _locale() -> str:
    return str(get_locale() or "it")

ANNOUNCEMENT_LABELS = {
    AnnouncementStatus.DRAFT: (_l("Bozza"), "bg-secondary"),
    AnnouncementStatus.SCHEDULED: (_l("Programmata"), "bg-warning text-dark"),
    AnnouncementStatus.SENDING: (_l("In invio"), "bg-info text-dark"),
    AnnouncementStatus.SENT: (_l("Inviata"), "bg-success"),
}
PER_PAGE = 30


def _announcement_or_404(call: Call, announcement_id: int) -> Announcement:
    announcement = object_or_404(Announcement, announcement_id)
    if announcement.call_id != call.id:
        abort(404)
    return announcement


def _meetings(call: Call) -> list[Meeting]:
    return list(db.session.scalars(
        sa.select(Meeting).join(Track).where(Track.call_id == call.id).order_by(Meeting.starts_at)
        .options(sa.orm.selectinload(Meeting.track).selectinload(Track.area))
    ))


@bp.get("/gestione/comunicazioni")
@staff_required
def index() -> str:
    call = call_or_404()
    query = (sa.select(Announcement).where(Announcement.call_id == call.id)
             .order_by(Announcement.created_at.desc(), Announcement.id.desc()))
    page = db.paginate(query, page=int_arg("pagina", 1), per_page=PER_PAGE, error_out=False)
    items = list(page.items)
    return render_template(
        "announcements/index.html", call=call, page=page, items=items,
        counts=announcements.delivery_counts([a.id for a in items]),
        audiences={a.id: describe(call, Audience.from_dict(a.audience), _locale()) for a in items},
        labels=ANNOUNCEMENT_LABELS, OutboxStatus=OutboxStatus,
    )


def _file_limits() -> tuple[int, int]:
    """The largest attachment, and the most all the attachments of one announcement may weigh together."""
    config = current_app.config
    return (int(config.get("ANNOUNCEMENT_ATTACHMENT_MAX_BYTES", files.DEFAULT_MAX_BYTES)),
            int(config.get("ANNOUNCEMENT_ATTACHMENTS_MAX_TOTAL_BYTES", files.DEFAULT_MAX_TOTAL_BYTES)))


def _compose_page(call: Call, form: AnnouncementForm, announcement: Announcement | None = None,
                  status: int = 200) -> tuple[str, int]:
    max_bytes, max_total = _file_limits()
    per_request = current_app.config.get("MAX_CONTENT_LENGTH")  # what one request may carry, files included
    return render_template("announcements/compose.html", call=call, form=form, announcement=announcement,
                           placeholders=PLACEHOLDERS, audience_kinds=AUDIENCE_KINDS, size_label=files.size_label,
                           max_file=files.size_label(max_bytes), max_total=files.size_label(max_total),
                           max_files=files.MAX_FILES,
                           per_request=files.size_label(int(per_request)) if per_request else None), status


def _files_not_kept(form: AnnouncementForm) -> None:
    """Files chosen with a form refused for another reason were not kept: the browser forgets them too."""
    if any(upload.filename for upload in form.attachments.data or [] if hasattr(upload, "filename")) \
            and not form.attachments.errors:
        form.attachments.errors = [*form.attachments.errors,
                                   _("I file scelti non sono stati salvati: correggi il modulo e sceglili di nuovo.")]


def _ids(values: list[str]) -> list[int]:
    return [number for number in (whole_number(v) for v in values[:100]) if valid_id(number)]


def _save(call: Call, form: AnnouncementForm, announcement: Announcement | None) -> ViewResult:
    """Save what was typed, the files ticked "rimuovi" taken off and those chosen added, all in one commit."""
    if not form.validate():
        _files_not_kept(form)
        return _compose_page(call, form, announcement, 400)
    max_bytes, max_total = _file_limits()
    existing = announcement.id if announcement is not None else None
    status = 400
    try:
        if announcement is None:
            announcement = announcements.create_draft(call, form.draft(), current_user)
        else:
            announcements.update_draft(announcement, form.draft())
        files.remove_attachments(announcement, _ids(request.form.getlist("remove_attachments")))
        files.add_attachments(announcement, form.sent_files(max_bytes), current_user,
                              max_bytes=max_bytes, max_total=max_total)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        put_error(form, error)
        _files_not_kept(form)
        if error.field == files.FIELD:
            status = status_for(error)
        announcement = _announcement_or_404(call, existing) if existing is not None else None
        return _compose_page(call, form, announcement, status)
    flash(_("Comunicazione salvata. Controlla l'anteprima e i destinatari, poi inviala."), "success")
    return redirect(url_for("announcements.detail", announcement_id=announcement.id), 303)


@bp.route("/gestione/comunicazioni/nuova", methods=["GET", "POST"])
@staff_required
def new() -> ViewResult:
    call = call_or_404()
    meetings = _meetings(call)
    if request.method == "POST":
        return _save(call, AnnouncementForm(call, meetings), None)
    form = AnnouncementForm(call, meetings, formdata=None)
    meeting = meeting_of(call, int_arg("incontro"))
    if meeting is not None:
        form.audience.data = "meeting_attending"
        form.meeting_id.data = str(meeting.id)
    return _compose_page(call, form)


@bp.route("/gestione/comunicazioni/<int:announcement_id>/modifica", methods=["GET", "POST"])
@staff_required
def edit(announcement_id: int) -> ViewResult:
    call = call_or_404()
    announcement = _announcement_or_404(call, announcement_id)
    if announcement.status in announcements.GONE:
        flash(_("La comunicazione è già stata inviata: non si può modificare."), "warning")
        return redirect(url_for("announcements.detail", announcement_id=announcement.id), 303)
    meetings = _meetings(call)
    if request.method == "POST" and "remove_attachment" in request.form:  # the detail page's button
        return _remove_attachment(announcement)
    if request.method == "POST":
        return _save(call, AnnouncementForm(call, meetings), announcement)
    form = AnnouncementForm.from_draft(call, meetings, announcements.draft_of(announcement), formdata=None)
    return _compose_page(call, form, announcement)


def _remove_attachment(announcement: Announcement) -> Response:
    """*Rimuovi* next to a file on the detail page: the file goes, nothing else changes."""
    try:
        removed = files.remove_attachment(announcement, whole_number(request.form.get("remove_attachment", "")))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.code == "not_found":
            abort(404)
        flash(error.message, "error")
    else:
        flash(_("Allegato rimosso: %(name)s.", name=removed.filename), "success")
    return redirect(url_for("announcements.detail", announcement_id=announcement.id), 303)


def _detail_page(call: Call, announcement: Announcement, schedule_form: ScheduleForm | None = None,
                 status: int = 200) -> tuple[str, int]:
    context = {"call": call, "announcement": announcement, "labels": ANNOUNCEMENT_LABELS,
               "audience": describe(call, Audience.from_dict(announcement.audience), _locale()),
               "status_labels": STATUS_LABELS, "status_badges": STATUS_BADGES, "OutboxStatus": OutboxStatus,
               "size_label": files.size_label}
    if announcement.status in announcements.GONE:
        context["delivery"] = announcements.delivery_log(announcement)
    else:
        index = int_arg("destinatario", 0, minimum=0, clamp=True)
        rendered, resolution = announcements.preview(announcement, index)
        context.update(rendered=rendered, resolution=resolution, index=min(max(index, 0),
                                                                            max(resolution.count - 1, 0)),
                       schedule_form=schedule_form or ScheduleForm(formdata=None))
    return render_template("announcements/detail.html", **context), status


@bp.get("/gestione/comunicazioni/<int:announcement_id>")
@staff_required
def detail(announcement_id: int) -> ViewResult:
    call = call_or_404()
    return _detail_page(call, _announcement_or_404(call, announcement_id))


@bp.get("/gestione/comunicazioni/<int:announcement_id>/anteprima")
@staff_required
def preview_html(announcement_id: int) -> Response:
    """The HTML body exactly as the chosen recipient receives it, for the preview frame (no scripts run)."""
    call = call_or_404()
    announcement = _announcement_or_404(call, announcement_id)
    rendered, _resolution = announcements.preview(announcement, int_arg("destinatario", 0, minimum=0, clamp=True))
    html = rendered.html if rendered else "<p>" + _("Nessun destinatario.") + "</p>"
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


def _after_action(announcement: Announcement) -> Response:
    return redirect(url_for("announcements.detail", announcement_id=announcement.id), 303)


def _refuse(call: Call, announcement_id: int, error: DomainError,
            schedule_form: ScheduleForm | None = None) -> tuple[str, int]:
    db.session.rollback()
    announcement = _announcement_or_404(call, announcement_id)
    if schedule_form is not None and error.field == "send_at":
        schedule_form.day.errors = [*schedule_form.day.errors, error.message]
    else:
        flash(error.message, "error")
    return _detail_page(call, announcement, schedule_form, status_for(error))


def _act(announcement_id: int, action: Callable[[Announcement], str]) -> ViewResult:
    """One button of the detail page: do it, commit, say what happened; a broken rule is said on the page."""
    call = call_or_404()
    announcement = _announcement_or_404(call, announcement_id)
    try:
        message = action(announcement)
        db.session.commit()
    except DomainError as error:
        return _refuse(call, announcement_id, error)
    flash(message, "success")
    return _after_action(announcement)


@bp.post("/gestione/comunicazioni/<int:announcement_id>/prova")
@staff_required
def send_test(announcement_id: int) -> ViewResult:
    def test(announcement: Announcement) -> str:
        announcements.send_test(announcement, current_user)
        return _("Prova inviata a %(email)s: la riceverai tra poco.", email=current_user.email)

    return _act(announcement_id, test)


@bp.post("/gestione/comunicazioni/<int:announcement_id>/invia")
@staff_required
def send_now(announcement_id: int) -> ViewResult:
    def send(announcement: Announcement) -> str:
        queued = announcements.send_now(announcement, current_user)
        return ngettext("Comunicazione inviata: %(num)d messaggio in consegna.",
                        "Comunicazione inviata: %(num)d messaggi in consegna.", queued)

    return _act(announcement_id, send)


@bp.post("/gestione/comunicazioni/<int:announcement_id>/programma")
@staff_required
def schedule(announcement_id: int) -> ViewResult:
    call = call_or_404()
    announcement = _announcement_or_404(call, announcement_id)
    form = ScheduleForm()
    if not form.validate():
        return _detail_page(call, announcement, form, 400)
    try:
        announcements.schedule(announcement, form.when(), current_user)
        db.session.commit()
    except DomainError as error:
        return _refuse(call, announcement_id, error, form)
    flash(_("Invio programmato."), "success")
    return _after_action(announcement)


@bp.post("/gestione/comunicazioni/<int:announcement_id>/annulla-programmazione")
@staff_required
def unschedule(announcement_id: int) -> ViewResult:
    def back_to_draft(announcement: Announcement) -> str:
        announcements.unschedule(announcement)
        return _("Invio programmato annullato: la comunicazione torna bozza.")

    return _act(announcement_id, back_to_draft)


@bp.post("/gestione/comunicazioni/<int:announcement_id>/elimina")
@staff_required
def delete(announcement_id: int) -> ViewResult:
    call = call_or_404()
    announcement = _announcement_or_404(call, announcement_id)
    try:
        announcements.delete_draft(announcement)
        db.session.commit()
    except DomainError as error:
        return _refuse(call, announcement_id, error)
    flash(_("Bozza eliminata."), "success")
    return redirect(url_for("announcements.index"), 303)


@bp.post("/gestione/comunicazioni/<int:announcement_id>/ritenta")
@staff_required
def retry(announcement_id: int) -> ViewResult:
    def requeue(announcement: Announcement) -> str:
        count = announcements.retry_failed(announcement)
        return ngettext("%(num)d messaggio rimesso in coda.", "%(num)d messaggi rimessi in coda.", count)

    return _act(announcement_id, requeue)


# --- the venue notice ------------------------------------------------------------------------------------------


def _venue_page(call: Call, meeting: Meeting, form: VenueNoticeForm, status: int = 200) -> tuple[str, int]:
    venue = form.venue()
    rendered = resolution = None
    if venue is not None and form.subject.data and form.body.data and not form.errors:
        try:
            rendered, resolution = announcements.preview_venue_notice(meeting, venue, form.draft(meeting))
        except DomainError as error:
            put_error(form, error)
            status = 400
    return render_template("announcements/venue_notice.html", call=call, meeting=meeting, form=form,
                           venue=venue, rendered=rendered, resolution=resolution,
                           placeholders=PLACEHOLDERS), status


@bp.route("/gestione/calendario/incontri/<int:meeting_id>/comunica-sede", methods=["GET", "POST"])
@staff_required
def venue_notice(meeting_id: int) -> ViewResult:
    call = call_or_404()
    meeting = meeting_or_404(meeting_id, call)
    venues = planning.venues_of(call)
    if meeting.is_cancelled or meeting.ends_at <= utcnow():
        flash(_("L'incontro è annullato o concluso: non c'è una sede da comunicare."), "warning")
        return redirect(url_for("calendar.manage_meeting", meeting_id=meeting.id), 303)
    if request.method == "GET":
        form = VenueNoticeForm(venues, formdata=None)
        chosen = request.args.get("sede") or (str(meeting.venue_id) if meeting.venue_id else "")
        form.venue_id.data = chosen
        if form.venue() is not None:
            form.subject.data, form.body.data = announcements.venue_notice_text(meeting, form.venue())
        return _venue_page(call, meeting, form)
    form = VenueNoticeForm(venues)
    if request.form.get("action") == "prefill":  # a new venue chosen: the message is written again for it
        if form.venue() is None:
            form.venue_id.errors = [_("Scegli la sede.")]
            return _venue_page(call, meeting, form, 400)
        form.subject.data, form.body.data = announcements.venue_notice_text(meeting, form.venue())
        return _venue_page(call, meeting, form)
    if not form.validate():
        return _venue_page(call, meeting, form, 400)
    if request.form.get("action") != "send":
        return _venue_page(call, meeting, form)
    try:
        announcement = announcements.announce_venue(meeting, form.venue(), form.draft(meeting), current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        put_error(form, error)
        return _venue_page(call, meeting_or_404(meeting_id, call), form, 400)
    flash(_("Sede impostata. La comunicazione con l'invito aggiornato è in invio: tra pochi istanti il "
            "registro qui sotto mostra ogni messaggio."), "success")
    return redirect(url_for("announcements.detail", announcement_id=announcement.id), 303)
