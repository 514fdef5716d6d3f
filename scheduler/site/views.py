from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, current_app, jsonify, redirect, render_template, request, send_from_directory, session

from scheduler.auth.decorators import staff_required
from scheduler.calendar.planning import tracks_with_meetings
from scheduler.calls.services import all_calls, current_call
from scheduler.registry.labels import STATUS_LABELS
from scheduler.registry.services import accepts_applications
from scheduler.site import bp
from scheduler.site import services as site_services
from scheduler.site.dashboard import staff_dashboard
from scheduler.timeutil import utcnow
from scheduler.web import page_call, request_ambito, request_ambito_id


@bp.get("/")
def index():
    """The current call's page (or, at /avvisi/<slug>, that call's), with the other open calls and the archive."""
    call = page_call()
    tracks = tracks_with_meetings(call) if call else []
    dates = site_services.call_dates(call) if call else None
    others = [c for c in all_calls(request_ambito()) if call is None or c.id != call.id]
    return render_template(
        "site/index.html", call=call, tracks=tracks,
        deadline_passed=dates.deadline_passed if dates else False,
        implementation_started=dates.implementation_started if dates else False,
        accepting=accepts_applications(call) if call else False,
        open_calls=[c for c in others if not c.is_archived], archived_calls=[c for c in others if c.is_archived],
    )


@bp.get("/gestione")
@staff_required
def dashboard():
    """What needs the office's action, each with a link to the page where it is done."""
    call = current_call(ambito=request_ambito())
    board = staff_dashboard(call, utcnow(), ambito_id=request_ambito_id())
    return render_template("site/dashboard.html", call=call, dashboard=board, status_labels=STATUS_LABELS)


@bp.get("/privacy")
def privacy():
    call = page_call()
    if call is None:
        abort(404)
    return render_template("site/privacy.html", call=call)


@bp.get("/health")
def health():
    ok, body = site_services.health()
    return jsonify(body), (200 if ok else 503)


@bp.get("/assets/<path:filename>")
def assets(filename: str):
    """Bootstrap Italia as installed by npm: served by the app, never from a CDN."""
    response = send_from_directory(current_app.config["ASSETS_DIR"], filename, max_age=86400)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


#: Files of other npm packages the pages use, by the name they are served under: only these, never the folder.
VENDOR_FILES = {
    # the QR decoder of the register's scanner (the BarcodeDetector API, for browsers that lack it) and its engine
    "barcode-detector.js": ("barcode-detector/dist/iife/ponyfill.js", "text/javascript"),
    "zxing_reader.wasm": ("zxing-wasm/dist/reader/zxing_reader.wasm", "application/wasm"),
}


@bp.get("/assets/vendor/<name>")
def vendor(name: str):
    """Another npm package's file (VENDOR_FILES), served by the app like Bootstrap Italia."""
    if name not in VENDOR_FILES:
        abort(404)
    path, mimetype = VENDOR_FILES[name]
    folder = current_app.config.get("VENDOR_DIR") or str(Path(current_app.root_path).parent / "node_modules")
    return send_from_directory(folder, path, mimetype=mimetype, max_age=86400)


@bp.post("/lingua")
def set_language():
    lang = request.form.get("lang", "it")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    target = request.form.get("next") or "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        target = "/"
    return redirect(target)


@bp.before_app_request
def refuse_nul_characters():
    """No one types a NUL character, and PostgreSQL can neither store nor compare text holding one: a request
    carrying it in its address, query or form is refused (400) before any view reads it."""
    values = [request.path]
    for data in (request.args, request.form):
        for key, items in data.lists():
            values.append(key)
            values.extend(items)
    if any("\x00" in value for value in values):
        abort(400)
