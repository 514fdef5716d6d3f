"""Printable sheets of a meeting, the scanned signed sheet and the paper-only register: thin views.

- the sign-in sheet (PDF): staff and the track's facilitators;
- the minutes (PDF): staff at any time, the track's facilitators once the register is closed;
- the meeting's documents page, the upload and download of the signed sheet, the paper-only register: staff.
"""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from scheduler.attendance import bp, documents, paper
from scheduler.attendance import minutes as public_minutes
from scheduler.attendance.models import Attendance, RegisterEvent, SignedSheet
from scheduler.auth.decorators import role_required, staff_required
from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, Rsvp
from scheduler.calls.models import Track
from scheduler.extensions import db
from scheduler.formatting import format_day
from scheduler.links import public_url
from scheduler.timeutil import ROME
from scheduler.web import meeting_or_404, request_ambito, status_for

ViewResult = Response | str | tuple[str, int]


class SignedSheetForm(FlaskForm):
    sheet = FileField("Foglio firmato (PDF, PNG o JPEG)")


class MinutesForm(FlaskForm):
    """The text of the public minutes, as staff approve it."""

    minutes = TextAreaField(_l("Testo del verbale pubblico"),
                            validators=[Optional(), Length(max=20_000, message=_l("Al massimo 20000 caratteri."))])


class PaperForm(FlaskForm):
    """Only the CSRF token: the entities and names are read from the request, one pair per entity."""


#: What the documents of a meeting show and check (facilitators, call, area, venue), loaded with the meeting.
MEETING_PAGE = (
    selectinload(Meeting.track).selectinload(Track.facilitators),
    selectinload(Meeting.track).selectinload(Track.call),
    selectinload(Meeting.track).selectinload(Track.area),
    selectinload(Meeting.venue),
)


def _is_track_facilitator(meeting: Meeting) -> bool:
    return current_user.role is Role.FACILITATOR and any(u.id == current_user.id for u in meeting.track.facilitators)


def _printable_meeting(meeting_id: int) -> Meeting:
    meeting = meeting_or_404(meeting_id, options=MEETING_PAGE)
    if current_user.role is not Role.STAFF and not _is_track_facilitator(meeting):
        abort(403)
    return meeting


def _pdf(data: bytes, name: str) -> Response:
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=name, as_attachment=False,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def _file_stem(meeting: Meeting) -> str:
    return f"{meeting.starts_at.astimezone(ROME).date().isoformat()}-{meeting.track.area.code}-{meeting.id}"


def _base_url() -> str:
    return public_url("", request_ambito())


def _max_bytes() -> int:
    return int(current_app.config.get("SIGNED_SHEET_MAX_BYTES", documents.DEFAULT_MAX_BYTES))


# --- printable sheets --------------------------------------------------------------------------------------------


@bp.get("/presenze/<int:meeting_id>/foglio-firme.pdf")
@role_required(Role.STAFF, Role.FACILITATOR)
def signin_sheet(meeting_id: int) -> Response:
    meeting = _printable_meeting(meeting_id)
    rsvps = list(db.session.scalars(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id).options(selectinload(Rsvp.organization))
    ))
    data = documents.signin_sheet_pdf(meeting, rsvps, _base_url())
    return _pdf(data, f"foglio-firme-{_file_stem(meeting)}.pdf")


@bp.get("/presenze/<int:meeting_id>/verbale.pdf")
@role_required(Role.STAFF, Role.FACILITATOR)
def minutes(meeting_id: int) -> Response:
    meeting = _printable_meeting(meeting_id)
    if meeting.register_closed_at is None and current_user.role is not Role.STAFF:
        flash(_("Il verbale si stampa dopo la chiusura del registro."), "warning")
        target = (url_for("attendance.register", meeting_id=meeting.id)
                  if "attendance.register" in current_app.view_functions else url_for("site.index"))
        return redirect(target, 303)
    attendances = list(db.session.scalars(
        sa.select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.undone_at.is_(None))
        .options(selectinload(Attendance.organization)).order_by(Attendance.checked_in_at, Attendance.id)
    ))
    names = [user.display_name for user in meeting.track.facilitators]
    data = documents.minutes_pdf(meeting, attendances, names, _base_url())
    return _pdf(data, f"verbale-{_file_stem(meeting)}.pdf")


# --- staff: documents page, signed sheet -------------------------------------------------------------------------


def _sheets_of(meeting: Meeting) -> list[SignedSheet]:
    return list(db.session.scalars(
        sa.select(SignedSheet).where(SignedSheet.meeting_id == meeting.id)
        .options(selectinload(SignedSheet.uploaded_by)).order_by(SignedSheet.uploaded_at.desc(), SignedSheet.id.desc())
    ))


def _documents_page(meeting: Meeting, form: SignedSheetForm, status: int = 200,
                    upload_error: str | None = None, minutes_form: MinutesForm | None = None) -> tuple[str, int]:
    events = list(db.session.scalars(
        sa.select(RegisterEvent).where(RegisterEvent.meeting_id == meeting.id,
                                       RegisterEvent.action.in_(("sheet_uploaded", "paper_recorded")))
        .options(selectinload(RegisterEvent.actor)).order_by(RegisterEvent.at.desc()).limit(20)
    ))
    present = db.session.scalar(
        sa.select(sa.func.count()).select_from(Attendance)
        .where(Attendance.meeting_id == meeting.id, Attendance.undone_at.is_(None))
    ) or 0
    minutes_form = minutes_form or MinutesForm(formdata=None, minutes=meeting.minutes_text or (
        public_minutes.draft(meeting) if meeting.register_closed_at else ""))
    return render_template(
        "attendance/documents.html", meeting=meeting, form=form, sheets=_sheets_of(meeting), events=events,
        present=present, upload_error=upload_error, max_mb=_max_bytes() / 1048576, minutes_form=minutes_form,
    ), status


@bp.get("/gestione/presenze/<int:meeting_id>")
@staff_required
def documents_page(meeting_id: int) -> ViewResult:
    return _documents_page(meeting_or_404(meeting_id, options=MEETING_PAGE), SignedSheetForm())


@bp.post("/gestione/presenze/<int:meeting_id>/foglio-firmato")
@staff_required
def upload_signed_sheet(meeting_id: int) -> ViewResult:
    meeting = meeting_or_404(meeting_id, options=MEETING_PAGE)
    form = SignedSheetForm()
    if not form.validate_on_submit():
        return _documents_page(meeting, form, 400)
    upload = request.files.get("sheet")
    if upload is None or not upload.filename:
        return _documents_page(meeting, form, 400, _("Scegli il file della scansione del foglio firmato."))
    limit = _max_bytes()
    data = upload.stream.read(limit + 1)
    try:
        sheet = documents.store_signed_sheet(meeting, upload.filename, data, current_user.id, limit)
        db.session.commit()
    except documents.DocumentError as error:
        db.session.rollback()
        return _documents_page(meeting, form, status_for(error), error.message)
    flash(_("Foglio firmato caricato: %(name)s.", name=sheet.filename), "success")
    return redirect(url_for("attendance.documents_page", meeting_id=meeting.id), 303)


@bp.get("/gestione/presenze/<int:meeting_id>/foglio-firmato/<int:sheet_id>")
@staff_required
def download_signed_sheet(meeting_id: int, sheet_id: int) -> Response:
    """A scanned sheet of the meeting; the meeting is found first, so another Ambito's sheets are not found."""
    meeting = meeting_or_404(meeting_id)
    sheet = db.session.scalar(
        sa.select(SignedSheet).where(SignedSheet.id == sheet_id, SignedSheet.meeting_id == meeting.id)
        .options(sa.orm.undefer(SignedSheet.data))
    )
    if sheet is None:
        abort(404)
    response = send_file(io.BytesIO(sheet.data), mimetype=sheet.content_type, as_attachment=True,
                         download_name=sheet.filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- staff: paper-only register ----------------------------------------------------------------------------------

#: The checkbox and the names of entity <id>: ASCII digits, at most ten of them (a forged field name is not an
#: entity of the list, never a number Python cannot convert).
_ENTITY_FIELD = re.compile(r"^ente-([0-9]{1,10})$")
_PEOPLE_FIELD = re.compile(r"^persone-([0-9]{1,10})$")


def _paper_page(meeting: Meeting, form: PaperForm, *, ticked: set[int], texts: dict[int, str],
                error: str | None = None, error_org: int | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "attendance/paper.html", meeting=meeting, form=form, entities=paper.admitted_entities(meeting),
        ticked=ticked, texts=texts, error=error, error_org=error_org, day=format_day(meeting.starts_at),
    ), status


@bp.route("/gestione/presenze/<int:meeting_id>/cartaceo", methods=["GET", "POST"])
@staff_required
def paper_register(meeting_id: int) -> ViewResult:
    meeting = meeting_or_404(meeting_id, options=MEETING_PAGE)
    form = PaperForm()
    if not form.is_submitted():
        return _paper_page(meeting, form, ticked=set(), texts={})
    ticked = {int(m.group(1)) for key in request.form if (m := _ENTITY_FIELD.match(key))}
    texts = {int(m.group(1)): value for key, value in request.form.items() if (m := _PEOPLE_FIELD.match(key))}
    if not form.validate():
        return _paper_page(meeting, form, ticked=ticked, texts=texts, status=400)
    entries = {org_id: paper.parse_people(texts.get(org_id, "")) for org_id in ticked}
    try:
        rows = paper.record_paper_meeting(meeting, entries, current_user.id)
        db.session.commit()
    except paper.PaperError as error:
        db.session.rollback()
        return _paper_page(meeting, form, ticked=ticked, texts=texts, error=error.message,
                           error_org=error.organization_id, status=status_for(error))
    flash(_("Registro cartaceo inserito: %(num)d presenze.", num=len(rows)), "success")
    return redirect(url_for("attendance.documents_page", meeting_id=meeting.id), 303)


@bp.post("/gestione/presenze/<int:meeting_id>/verbale-pubblico")
@staff_required
def publish_minutes(meeting_id: int) -> ViewResult:
    """Staff approve the minutes for the meeting's public page (or take them off with `azione=ritira`)."""
    meeting = meeting_or_404(meeting_id, options=MEETING_PAGE)
    form = MinutesForm()
    if not form.validate():
        return _documents_page(meeting, SignedSheetForm(formdata=None), 400, minutes_form=form)
    try:
        if request.form.get("azione") == "ritira":
            public_minutes.withdraw(meeting, actor_id=current_user.id)
            message = _("Verbale tolto dalla pagina dell'incontro.")
        else:
            public_minutes.publish(meeting, form.minutes.data, actor_id=current_user.id)
            message = _("Verbale pubblicato sulla pagina dell'incontro.")
        db.session.commit()
    except public_minutes.MinutesError as error:
        db.session.rollback()
        form.minutes.errors = [*form.minutes.errors, error.message]
        return _documents_page(meeting_or_404(meeting_id, options=MEETING_PAGE), SignedSheetForm(formdata=None),
                               status_for(error), minutes_form=form)
    flash(message, "success")
    return redirect(url_for("attendance.documents_page", meeting_id=meeting.id, _anchor="verbale-pubblico"), 303)
