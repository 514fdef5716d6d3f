"""The facilitator's register on a phone: thin views over attendance.services.

Every POST answers JSON to fetch() (Accept: application/json) and redirects back for a plain form post.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from scheduler.attendance import bp
from scheduler.attendance import services as register
from scheduler.attendance.models import Attendance, AttendanceMethod
from scheduler.auth.decorators import role_required
from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, PersonPass, Rsvp, RsvpStatus
from scheduler.extensions import db
from scheduler.links import public_url
from scheduler.registry.models import Organization
from scheduler.textutil import clean_line
from scheduler.timeutil import ROME, utcnow
from scheduler.web import int_arg, meeting_or_404, status_for

takers = role_required(Role.STAFF, Role.FACILITATOR)


def _taker_meeting(meeting_id: int) -> Meeting:
    meeting = meeting_or_404(meeting_id)
    if not register.can_take_attendance(current_user, meeting):
        abort(403)
    return meeting


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _attendance_json(attendance: Attendance) -> dict:
    return {
        "id": attendance.id, "person_name": attendance.person_name, "rsvp_id": attendance.rsvp_id,
        "organization_id": attendance.organization_id, "method": attendance.method.value,
        "client_ref": attendance.client_ref, "undone": attendance.undone_at is not None,
        "checked_in_at": attendance.checked_in_at.isoformat(),
    }


def _done(meeting: Meeting, message: str, payload: dict | None = None, anchor: str = ""):
    if _wants_json():
        return jsonify({"ok": True, "message": message, **(payload or {})})
    flash(message, "success")
    return redirect(url_for("attendance.register", meeting_id=meeting.id) + anchor, code=303)


def _refused(meeting: Meeting, error: register.RegisterError):
    db.session.rollback()
    if _wants_json():
        return jsonify({"ok": False, "error": str(error)}), error.status
    flash(str(error), "error")
    return redirect(url_for("attendance.register", meeting_id=meeting.id), code=303)


def _render_register(meeting: Meeting, *, highlight: Rsvp | None = None, code: str | None = None,
                     code_error: str | None = None, status: int = 200, person: PersonPass | None = None):
    view = register.register_view(meeting)
    return render_template(
        "attendance/register.html", view=view, meeting=meeting, highlight=highlight, code=code, person=person,
        code_error=code_error, can_change=register.can_change(current_user, meeting),
        is_staff=current_user.role is Role.STAFF, Method=AttendanceMethod,
    ), status


def _by_day(meetings: list[Meeting], now: datetime) -> dict[str, list[Meeting]]:
    """The registers a taker opens today first (held today or under way), then the next ones, soonest first,
    then the ones that ended recently (since yesterday), most recent first."""
    today = now.astimezone(ROME).date()
    groups: dict[str, list[Meeting]] = {"today": [], "next": [], "recent": []}
    for meeting in meetings:
        if meeting.starts_at.astimezone(ROME).date() == today or meeting.starts_at <= now < meeting.ends_at:
            groups["today"].append(meeting)
        elif meeting.starts_at > now:
            groups["next"].append(meeting)
        else:
            groups["recent"].append(meeting)
    groups["recent"].reverse()
    return groups


@bp.route("/presenze")
@takers
def my_registers():
    meetings = register.meetings_for_register(current_user)
    return render_template("attendance/register_list.html", meetings=meetings, groups=_by_day(meetings, utcnow()))


@bp.route("/presenze/<int:meeting_id>", endpoint="register")
@takers
def register_page(meeting_id: int):
    return _render_register(_taker_meeting(meeting_id))


@bp.route("/presenze/<int:meeting_id>/segna", methods=["POST"])
@takers
def mark(meeting_id: int):
    meeting = _taker_meeting(meeting_id)
    form = request.form
    kind = form.get("kind", "rsvp")
    try:
        method = AttendanceMethod(form.get("method", "hand"))
    except ValueError:
        method = AttendanceMethod.HAND
    rsvp = organization = None
    if kind == "rsvp":
        rsvp = db.session.get(Rsvp, int_arg("rsvp_id", 0, minimum=0, values=form))
        if rsvp is None or rsvp.meeting_id != meeting.id:
            return _refused(meeting, register.RegisterError("Adesione non trovata per questo incontro."))
    elif kind == "entity":
        organization = db.session.get(Organization, int_arg("organization_id", 0, minimum=0, values=form))
        if organization is None:
            return _refused(meeting, register.RegisterError("Scegli l'ente."))
    elif kind == "guest":
        if not clean_line(form.get("guest_organization")):
            return _refused(meeting, register.RegisterError("Indica l'organizzazione dell'ospite."))
    elif kind != "individual":
        return _refused(meeting, register.RegisterError("Tipo di presenza sconosciuto."))
    names = [n for n in form.getlist("person_name") if clean_line(n)][:20]
    roles = form.getlist("person_role")
    if not names:
        return _refused(meeting, register.RegisterError("Indica il nome della persona presente."))
    client_ref = form.get("client_ref", "").strip()[:60]
    marked = []
    try:
        for i, name in enumerate(names):
            ref = client_ref if len(names) == 1 or not client_ref else f"{client_ref}:{i}"
            marked.append(register.check_in(
                meeting, current_user, organization=organization, rsvp=rsvp, person_name=name,
                person_role=roles[i] if i < len(roles) else "", method=method, client_ref=ref or None,
                guest_organization=form.get("guest_organization") if kind == "guest" else None,
                guest_email=form.get("guest_email") if kind == "guest" else None,
            ))
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    names_text = ", ".join(a.person_name for a in marked)
    return _done(meeting, f"Presente: {names_text}.", {"attendances": [_attendance_json(a) for a in marked]},
                 anchor=f"#rsvp-{rsvp.id}" if rsvp else "#walk-ins")


@bp.route("/presenze/<int:meeting_id>/annulla", methods=["POST"])
@takers
def undo(meeting_id: int):
    meeting = _taker_meeting(meeting_id)
    attendance = None
    if (attendance_id := int_arg("attendance_id", values=request.form)):
        attendance = db.session.get(Attendance, attendance_id)
    elif (client_ref := request.form.get("client_ref", "").strip()):
        attendance = register.by_client_ref(client_ref)
    if attendance is None or attendance.meeting_id != meeting.id:
        if _wants_json() and request.form.get("client_ref"):  # a mark never received: nothing to undo
            return jsonify({"ok": True, "message": "Nulla da annullare."})
        if _wants_json():
            return jsonify({"ok": False, "error": "Presenza non trovata."}), 404
        abort(404)
    try:
        register.undo(attendance, current_user)
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    return _done(meeting, f"Annullata la presenza di {attendance.person_name}.",
                 {"attendance": _attendance_json(attendance)})


@bp.route("/presenze/<int:meeting_id>/note", methods=["POST"])
@takers
def notes(meeting_id: int):
    meeting = _taker_meeting(meeting_id)
    try:
        register.set_notes(meeting, current_user, request.form.get("notes", ""))
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    return _done(meeting, "Note salvate.", anchor="#notes")


@bp.route("/presenze/<int:meeting_id>/chiudi", methods=["POST"])
@takers
def close(meeting_id: int):
    meeting = _taker_meeting(meeting_id)
    try:
        register.close_register(meeting, current_user)
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    return _done(meeting, "Registro chiuso: da ora solo l'Ufficio di Piano può modificarlo.")


@bp.route("/presenze/<int:meeting_id>/riapri", methods=["POST"])
@takers
def reopen(meeting_id: int):
    meeting = _taker_meeting(meeting_id)
    try:
        register.reopen_register(meeting, current_user)
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    return _done(meeting, "Registro riaperto.")


@bp.route("/presenze/<int:meeting_id>/codice", methods=["POST"])
@takers
def enter_code(meeting_id: int):
    """The facilitator types the short code read aloud: the same page as the scanned QR."""
    meeting = _taker_meeting(meeting_id)
    code = "".join(request.form.get("code", "").split())[:64]
    if not code:
        flash("Scrivi il codice.", "error")
        return redirect(url_for("attendance.register", meeting_id=meeting.id), code=303)
    return redirect(url_for("attendance.by_code", meeting_id=meeting.id, code=code), code=303)


@bp.route("/presenze/<int:meeting_id>/codice/<code>")
def by_code(meeting_id: int, code: str):
    """The URL in the QR code. The facilitator sees the entity highlighted; anyone else only the code."""
    g.private_page = True
    meeting = meeting_or_404(meeting_id)
    if not register.can_take_attendance(current_user, meeting):
        match = register.find_code(meeting, code)
        shown = None
        if match is not None and match.rsvp.meeting_id == meeting.id:
            shown = checkin_pass(match.rsvp, match.person.email if match.person else None)
        return render_template("attendance/checkin_show.html", short_code=shown.short_code if shown else None,
                               qr=shown.svg if shown else None)
    try:
        match = register.checkin_by_code(meeting, code)
    except register.CodeRefused as error:
        return _render_register(meeting, code_error=error.message, status=status_for(error))
    return _render_register(meeting, highlight=match.rsvp, code=code, person=match.person)


@bp.route("/presenze/<int:meeting_id>/codice/<code>", methods=["POST"])
@takers
def confirm_code(meeting_id: int, code: str):
    """One tap on "Conferma presenza": the people ticked (all those named, unless unticked) are present."""
    meeting = _taker_meeting(meeting_id)
    try:
        match = register.checkin_by_code(meeting, code)
        rsvp, person = match.rsvp, match.person
        names = [n for n in request.form.getlist("person_name") if clean_line(n)][:20]
        if not names:  # a person's own code stands for that person; the entity's, for its first one
            names = ([person.name] if person else
                     [p["name"] for p in rsvp.people or [] if p.get("name")][:1] or [rsvp.organization.name])
        roles = {p.get("name"): p.get("role", "") for p in rsvp.people or []}
        client_ref = request.form.get("client_ref", "").strip()[:60]
        marked = [register.check_in(meeting, current_user, rsvp=rsvp, person_name=name,
                                    person_role=roles.get(name, ""), method=AttendanceMethod.QR,
                                    client_ref=f"{client_ref}:{i}" if client_ref else None)
                  for i, name in enumerate(names)]
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    names_text = ", ".join(a.person_name for a in marked)
    return _done(meeting, f"{rsvp.organization.name}: presenza confermata ({names_text}).",
                 {"attendances": [_attendance_json(a) for a in marked]}, anchor=f"#rsvp-{rsvp.id}")


# --- helpers for the e-mail and the entity's area ---------------------------------------------------------------


class CheckinPass:
    """A confirmed RSVP's check-in code as templates show it; the QR is drawn only where it is shown.

    E-mails print the short code and the link, never the picture, and drawing a QR costs far more than the
    rest of a message: an invitation to hundreds of entities must not draw hundreds of them.
    """

    def __init__(self, short_code: str, url: str) -> None:
        self.short_code = short_code
        self.url = url

    @cached_property
    def svg(self) -> Markup:
        return Markup(register.qr_svg(self.url))  # noqa: S704 (SVG made by segno)


@bp.app_template_global()
def checkin_pass(rsvp: Rsvp | None, person_email: str | None = None) -> CheckinPass | None:
    """The check-in code of a confirmed RSVP for a template: short code, URL and (on demand) an inline SVG QR;
    with `person_email`, the code of that named person (their own invitation).

    Codes are made when the seat is confirmed (`calendar.services`): showing one never writes.
    """
    if rsvp is None or rsvp.status is not RsvpStatus.YES or not rsvp.checkin_code or not rsvp.short_code:
        return None
    person = rsvp.pass_of(person_email)
    if person is not None:
        return CheckinPass(person.short_code, public_url(register.person_checkin_path(person)))
    return CheckinPass(rsvp.short_code, public_url(register.checkin_path(rsvp)))
