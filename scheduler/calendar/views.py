"""The public calendar, one meeting's page, and the iCalendar feeds that calendar apps poll."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, abort, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.http import is_resource_modified

from scheduler.auth.models import Role
from scheduler.calendar import bp, feeds, meeting_documents, services
from scheduler.calendar.models import DocumentVisibility, RsvpStatus
from scheduler.calls.ambiti import normal_host
from scheduler.calls.models import Area, Call
from scheduler.calls.services import current_call
from scheduler.extensions import db
from scheduler.links import public_url
from scheduler.markup import render_markdown
from scheduler.registry.models import Organization
from scheduler.web import in_its_call, in_this_ambito, page_call, request_ambito, valid_id

FEED_MAX_AGE = 300


# the venue's map in pages and e-mails alike: its own link, else a search for its address
bp.add_app_template_global(feeds.map_link, "map_link")


def _base_url() -> str:
    """The address of this Ambito's pages, for the links inside feeds (its host name, where it has one)."""
    return public_url("", request_ambito())


def webcal_url(path: str) -> str:
    """The subscription link: the public address with webcal:// so the calendar app opens and subscribes."""
    absolute = _base_url() + path
    for scheme in ("https://", "http://"):
        if absolute.startswith(scheme):
            return "webcal://" + absolute[len(scheme):]
    return absolute


def _not_found(message: str) -> Response:
    """Calendar apps show the body of a failed subscription: plain text, no page around it."""
    return Response(message + "\n", status=404, mimetype="text/plain")


def _calendar_response(stamp: feeds.Stamp, identity: tuple, render: Callable[[], str], *, private: bool,
                       filename: str | None = None) -> Response:
    """The feed with ETag and Last-Modified from its stamps; 304 without loading the events when the client's
    copy is current, and the text this process already made for the same ETag when there is one."""
    # the host names the Ambito (and the links inside): part of the ETag, with no query to find the Ambito
    etag = stamp.etag(*identity, normal_host(request.host) or "", public_url())
    response = Response(mimetype="text/calendar")
    response.content_type = "text/calendar; charset=utf-8"
    response.set_etag(etag)
    response.last_modified = stamp.last_modified
    response.cache_control.max_age = FEED_MAX_AGE
    if private:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if not is_resource_modified(request.environ, etag=etag, last_modified=stamp.last_modified):
        response.status_code = 304
        return response
    response.set_data(feeds.rendered_feeds(current_app).get(etag, lambda: render().encode("utf-8")))
    return response


def _call_slug() -> str | None:
    """The call named in the address (/avvisi/<slug>/...); None: the current one, as the stamp queries choose."""
    return g.get("call_slug")


@bp.get("/calendario")
def public_calendar():
    call = page_call()
    if call is None:
        return render_template("calendar/public_calendar.html", call=None, tracks=[], areas=[], area=None,
                               webcal_all=None, area_links=[])
    code = (request.args.get("area") or "").strip().upper()
    area = feeds.find_area(call, code) if code else None
    status = 200
    error = None
    if code and area is None:
        error = _("L'area «%(code)s» non esiste: sono mostrati tutti gli incontri.", code=code[:4])
        status = 400
    tracks = feeds.calendar_tracks(call, area.code if area else None)
    area_links = [
        {"area": a, "webcal": webcal_url(url_for("calendar.feed_area", code=a.code)),
         "download": url_for("calendar.feed_area", code=a.code)}
        for a in call.areas
    ]
    return render_template(
        "calendar/public_calendar.html", call=call, tracks=tracks, areas=call.areas, area=area, error=error,
        webcal_all=webcal_url(url_for("calendar.feed_all")), feed_url=_base_url() + url_for("calendar.feed_all"),
        area_links=area_links,
    ), status


@bp.get("/incontri/<int:meeting_id>")
def meeting(meeting_id: int):
    found = feeds.load_meeting(meeting_id)
    if found is None:
        abort(404)
    in_its_call(found.track.call)  # another Ambito's is not found; its links are those of its own call
    entity = current_user.is_authenticated and current_user.role is Role.ENTITY
    can_answer = "calendar.rsvp" in current_app.view_functions and entity
    area_code = found.track.area.code
    seat = services.rsvps_of(current_user.acting_for_id, [found.id]).get(found.id) if entity else None
    staff = current_user.is_authenticated and (current_user.role is Role.STAFF or (
        current_user.role is Role.FACILITATOR and current_user.id in {u.id for u in found.track.facilitators}))
    # the online room: for a confirmed seat, the office and the table's facilitators; never on the public page
    online_url = found.online_url if found.is_online and (staff or (seat and seat.status is RsvpStatus.YES)) else None
    return render_template(
        "calendar/meeting.html", meeting=found, summary=feeds.meeting_summary(found),
        map_url=feeds.map_link(found.venue) if found.venue else None, can_answer=can_answer,
        webcal_area=webcal_url(url_for("calendar.feed_area", code=area_code)), area_code=area_code,
        agenda=render_markdown(found.agenda) if found.agenda else None, online_url=online_url,
        documents=meeting_documents.documents_for(found, current_user),
        minutes=render_markdown(found.minutes_text) if found.minutes_published_at else None,
    )


@bp.get("/incontri/<int:meeting_id>/documenti/<int:document_id>")
def meeting_document(meeting_id: int, document_id: int) -> Response:
    """A document of the meeting, to whoever may read it (a reserved one is not found by anyone else)."""
    found = feeds.load_meeting(meeting_id)
    if found is not None:
        in_this_ambito(found.track.call)
    document = meeting_documents.document_for(found, document_id, current_user) if found and valid_id(document_id) \
        else None
    if document is None:
        abort(404)
    response = Response(document.data, mimetype=document.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    if document.visibility is DocumentVisibility.ADMITTED:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/incontri/<int:meeting_id>.ics")
def meeting_ics(meeting_id: int):
    stamp = feeds.meeting_stamp(meeting_id, request.host)
    if stamp is None:
        return _not_found("Incontro non trovato.")

    def render() -> str:
        feed = feeds.meeting_feed(meeting_id, _base_url())
        if feed is None:  # gone between the two queries
            abort(404)
        return feed.render()

    return _calendar_response(stamp, ("meeting", meeting_id), render, private=False,
                              filename=f"incontro-{meeting_id}.ics")


@bp.get("/calendario.ics")
def feed_all():
    stamp = feeds.public_stamp(_call_slug(), cache=feeds.stamp_cache(current_app), host=request.host)
    if stamp is None:
        return _not_found("Nessun calendario pubblicato.")
    return _calendar_response(stamp, ("all",),
                              lambda: feeds.public_feed(db.session.get(Call, stamp.call_id), _base_url()).render(),
                              private=False)


@bp.get("/calendario/<code>.ics")
def feed_area(code: str):
    stamp = (feeds.public_stamp(_call_slug(), code, cache=feeds.stamp_cache(current_app), host=request.host)
             if len(code) <= 4 else None)
    if stamp is None or stamp.target_id is None:
        return _not_found("Area non trovata.")

    def render() -> str:  # the call and the area the stamp query found
        return feeds.public_feed(db.session.get(Call, stamp.call_id), _base_url(),
                                 db.session.get(Area, stamp.target_id)).render()

    return _calendar_response(stamp, ("area", code.upper()), render, private=False)


@bp.get("/feed/<token>.ics")
def feed_private(token: str):
    stamp = (feeds.private_stamp(token, cache=feeds.stamp_cache(current_app), host=request.host)
             if len(token) <= 64 else None)
    if stamp is None:
        return _not_found("Calendario non trovato: l'indirizzo è stato revocato o non è corretto.")

    def render() -> str:
        organization = db.session.get(Organization, stamp.target_id)
        call = current_call(ambito=request_ambito())
        if call is None:
            abort(404)
        return feeds.private_feed(call, organization, _base_url()).render()

    return _calendar_response(stamp, ("private", stamp.target_id), render, private=True)
