from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, jsonify, redirect, render_template, request, send_from_directory, session

from scheduler.calendar.planning import tracks_with_meetings
from scheduler.calls.services import current_call
from scheduler.site import bp
from scheduler.site import services as site_services


@bp.get("/")
def index():
    call = current_call()
    tracks = tracks_with_meetings(call) if call else []
    return render_template("site/index.html", call=call, tracks=tracks)


@bp.get("/privacy")
def privacy():
    call = current_call()
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
