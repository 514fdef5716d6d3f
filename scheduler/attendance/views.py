"""The facilitator's register on a phone: thin views over attendance.services.

Every POST answers JSON to fetch() (Accept: application/json) and redirects back for a plain form post.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from functools import cached_property

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from scheduler.attendance import bp
from scheduler.attendance import services as register
from scheduler.attendance.models import Attendance, AttendanceMethod
from scheduler.auth.decorators import role_required
from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, PersonPass, Rsvp, RsvpStatus
from scheduler.extensions import db
from scheduler.formatting import format_clock
from scheduler.links import public_url
from scheduler.registry.models import Organization
from scheduler.textutil import clean_line
from scheduler.timeutil import ROME, utcnow
from scheduler.web import content_security_policy, int_arg, meeting_or_404, status_for

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
        "checked_in_at": attendance.checked_in_at.isoformat(), "already": attendance.already_present,
        "left_at": attendance.left_at.isoformat() if attendance.left_at else None,
    }


def _marked_message(marked: list[Attendance], done: str = "Presente: {names}.") -> str:
    """What the register says of the people just marked, and "Già presente: …" for those another phone (or an
    earlier tap) had marked already."""
    new = ", ".join(a.person_name for a in marked if not a.already_present)
    old = ", ".join(a.person_name for a in marked if a.already_present)
    return " ".join(([done.format(names=new)] if new else []) + ([f"Già presente: {old}."] if old else []))


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
    can_change = register.can_change(current_user, meeting)
    response = make_response(render_template(
        "attendance/register.html", view=view, meeting=meeting, highlight=highlight, code=code, person=person,
        code_error=code_error, can_change=can_change, is_staff=current_user.role is Role.STAFF,
        Method=AttendanceMethod, local_codes=register.local_codes(view) if can_change else [],
    ), status)
    # the scanner's QR decoder is compiled WebAssembly where the browser has no BarcodeDetector of its own
    response.headers["Content-Security-Policy"] = content_security_policy("'self' 'wasm-unsafe-eval'")
    return response


#: What the register's service worker serves: the list of registers and every register page.
SCOPE = "/presenze"

#: How many of the next meetings' registers the list keeps on the phone, beside today's.
OFFLINE_NEXT_REGISTERS = 10

#: What the register keeps for use with no connection: the assets of its pages (the pages themselves are kept as
#: they are opened, and the list of registers asks for today's and the next ones).
OFFLINE_ASSETS = (
    ("site.assets", "css/bootstrap-italia.min.css"), ("site.assets", "js/bootstrap-italia.bundle.min.js"),
    ("site.assets", "svg/sprites.svg"),
    ("site.assets", "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2"),
    ("site.assets", "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600.woff2"),
    ("site.assets", "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.woff2"),
    ("site.assets", "fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-regular.woff2"),
    ("static", "css/app.css"), ("static", "js/app.js"), ("static", "js/register.js"), ("static", "js/scanner.js"),
    ("static", "favicon.svg"),
    ("site.vendor", "barcode-detector.js"), ("site.vendor", "zxing_reader.wasm"),
)


def _asset_urls() -> list[str]:
    return [url_for(endpoint, **({"name": name} if endpoint == "site.vendor" else {"filename": name}))
            for endpoint, name in OFFLINE_ASSETS]


def _assets_version() -> str:
    """Changes whenever one of the kept assets may have: the app's own files, or the npm packages installed again
    (npm rewrites its lock file in node_modules), so phones fetch the new ones."""
    folder = current_app.static_folder or ""
    files = [os.path.join(folder, name) for endpoint, name in OFFLINE_ASSETS if endpoint == "static"]
    files.append(os.path.join(current_app.root_path, os.pardir, "node_modules", ".package-lock.json"))
    mtimes = [os.path.getmtime(path) if os.path.exists(path) else 0 for path in files]
    return hashlib.sha256(repr(mtimes).encode()).hexdigest()[:12]


@bp.get("/presenze/sw.js")
def service_worker():
    """The register's service worker: public (it holds no data), never cached by the browser's HTTP cache, so an
    update reaches the phones at their next visit."""
    body = render_template("attendance/sw.js", version=_assets_version(), assets=_asset_urls(),
                           offline_page=render_template("attendance/offline.html"))
    response = make_response(body)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    # its scope is /presenze, the list of registers included (a script's own folder, /presenze/, would leave it out)
    response.headers["Service-Worker-Allowed"] = SCOPE
    return response


@bp.get("/presenze/manifest.webmanifest")
def manifest():
    """Lets the facilitator add the register to the phone's home screen, to open it like an app."""
    data = {
        "name": _("Registro presenze – Tavoli"), "short_name": _("Registro"), "lang": str(get_locale() or "it"),
        "start_url": url_for("attendance.my_registers"), "scope": SCOPE, "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0066cc",
        "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = make_response(json.dumps(data, ensure_ascii=False))
    response.mimetype = "application/manifest+json"
    return response


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
    groups = _by_day(meetings, utcnow())
    # kept on the phone in advance, to open with no connection: today's registers and the next ones
    offline = [url_for("attendance.register", meeting_id=m.id)
               for m in groups["today"] + groups["next"][:OFFLINE_NEXT_REGISTERS] if not m.is_cancelled]
    return render_template("attendance/register_list.html", meetings=meetings, groups=groups, offline_urls=offline)


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
                guest_email=form.get("guest_email") if kind == "guest" else None, at=_tapped(form),
            ))
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    return _done(meeting, _marked_message(marked), {"attendances": [_attendance_json(a) for a in marked],
                                                    "already": all(a.already_present for a in marked)},
                 anchor=f"#rsvp-{rsvp.id}" if rsvp else "#walk-ins")


def _marked_attendance(meeting: Meeting) -> Attendance | None:
    """The mark a form names, by its id or, for one made offline, by the client_ref the phone gave it."""
    attendance = None
    if (attendance_id := int_arg("attendance_id", values=request.form)):
        attendance = db.session.get(Attendance, attendance_id)
    elif (client_ref := request.form.get("client_ref", "").strip()):
        attendance = register.by_client_ref(client_ref)
    return attendance if attendance is not None and attendance.meeting_id == meeting.id else None


def _tapped(form) -> datetime | None:
    """The phone's time of a queued mark (ISO 8601), or None."""
    try:
        return datetime.fromisoformat((form.get("at") or "").strip()[:40].replace("Z", "+00:00"))
    except ValueError:
        return None


@bp.route("/presenze/<int:meeting_id>/uscite", methods=["POST"])
@takers
def departures(meeting_id: int):
    """Turn on (or off) the recording of departures for this meeting."""
    meeting = _taker_meeting(meeting_id)
    try:
        register.set_departures(meeting, current_user, request.form.get("on") == "1")
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    return _done(meeting, "Le uscite si registrano." if meeting.records_departures
                 else "Le uscite non si registrano più.", anchor="#departures")


@bp.route("/presenze/<int:meeting_id>/uscita", methods=["POST"])
@takers
def depart(meeting_id: int):
    """A person leaves (or, with back=1, the departure is taken back)."""
    meeting = _taker_meeting(meeting_id)
    attendance = _marked_attendance(meeting)
    if attendance is None:
        return _refused(meeting, register.RegisterError("Presenza non trovata.", code="not_found"))
    try:
        if request.form.get("back") == "1":
            register.undo_departure(attendance, current_user)
            message = f"{attendance.person_name} è di nuovo presente."
        else:
            register.record_departure(attendance, current_user, _tapped(request.form))
            message = f"Uscita di {attendance.person_name} alle {format_clock(attendance.left_at)}."
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    return _done(meeting, message, {"attendance": _attendance_json(attendance)})


@bp.route("/presenze/<int:meeting_id>/annulla", methods=["POST"])
@takers
def undo(meeting_id: int):
    meeting = _taker_meeting(meeting_id)
    attendance = _marked_attendance(meeting)
    if attendance is None:
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
                                    client_ref=f"{client_ref}:{i}" if client_ref else None,
                                    at=_tapped(request.form))
                  for i, name in enumerate(names)]
        db.session.commit()
    except register.RegisterError as error:
        return _refused(meeting, error)
    return _done(meeting, f"{rsvp.organization.name}: "
                 + _marked_message(marked, "presenza confermata ({names})."),
                 {"attendances": [_attendance_json(a) for a in marked],
                  "already": all(a.already_present for a in marked)}, anchor=f"#rsvp-{rsvp.id}")


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
    ambito = rsvp.meeting.track.call.ambito  # the code opens the register on its Ambito's host
    if person is not None:
        return CheckinPass(person.short_code, public_url(register.person_checkin_path(person), ambito))
    return CheckinPass(rsvp.short_code, public_url(register.checkin_path(rsvp), ambito))
