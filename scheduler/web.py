"""What every view does the same way: find the call and the object or answer 404, read a number of the query
string or form within bounds, turn a `DomainError` into a status and a message next to its field.

Only views import this module; services never see the request. The views of every layer use it, so it imports
no feature package above the calls (importing one runs its views, which import this module): the meeting's
model is found by name, as `relationship("Meeting")` names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, overload

from flask import Flask, abort, g, has_request_context, request
from sqlalchemy.orm.interfaces import ORMOption

from scheduler.bounds import MAX_ID, valid_id, whole_number
from scheduler.calls.ambiti import ambito_for_host
from scheduler.calls.models import Ambito, Call
from scheduler.calls.services import current_call
from scheduler.errors import DomainError
from scheduler.extensions import db

if TYPE_CHECKING:
    from scheduler.calendar.models import Meeting

T = TypeVar("T")


def status_for(error: DomainError) -> int:
    """The status a page answers a refusal with: chosen by the error's code, never by its text."""
    return error.status


def put_error(form: Any, error: DomainError, field: Any = None) -> None:
    """Show a service's refusal next to its field (`field`, else the form's field named by the error), else at
    the top of the form."""
    if field is None and error.field:
        field_for = getattr(form, "field_for", None)
        field = field_for(error.field) if field_for is not None else getattr(form, error.field, None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


#: The public pages every call has, at its own address under /avvisi/<slug>; the short addresses (/candidatura,
#: /elenco, /calendario...) show the current call, so the links people saved keep working.
CALL_PAGES = frozenset({
    "site.index", "site.privacy", "registry.apply", "registry.applied", "registry.public_list",
    "registry.public_list_csv", "registry.public_list_json", "calendar.public_calendar", "calendar.feed_all",
    "calendar.feed_area",
})
#: The office's pages work on one call too: /gestione/... on the current one, /avvisi/<slug>/gestione/... on any
#: other (an earlier call still being closed, the next one being prepared). These are the office's pages that
#: are not about one call: the list of calls, the outbox and the Ambito's settings.
OFFICE_PREFIX = "/gestione"
OFFICE_PAGES_OF_NO_CALL = ("/gestione/avvisi", "/gestione/posta", "/gestione/ambito")
CALL_PREFIX = "/avvisi/<call_slug>"
#: The shape of a call's slug (as the call loader checks it).
SLUG_SHAPE = re.compile(r"[a-z0-9][a-z0-9-]{1,78}")


def request_ambito() -> Ambito | None:
    """The Ambito this request is for: the one whose host name the request names, else the default one (None on
    an installation with no Ambito yet). Every lookup of a view goes through it."""
    if "ambito" not in g:
        # outside a request (mail rendered by the worker, the command line): the default Ambito
        g.ambito = ambito_for_host(request.host if has_request_context() else None)
    return g.ambito


def request_ambito_id() -> int | None:
    """The id of `request_ambito()`, None on an installation with no Ambito yet."""
    ambito = request_ambito()
    return ambito.id if ambito is not None else None


def in_this_ambito(call: Call) -> None:
    """404 for anything (found by id or token) of a call of another Ambito: it does not exist from here."""
    ambito = request_ambito()
    if ambito is None or call.ambito_id != ambito.id:
        abort(404)


def page_call() -> Call | None:
    """The call this request is about, of the request's Ambito: the one named in the address
    (/avvisi/<slug>/...), else the current one."""
    if "page_call" not in g:
        g.page_call = current_call(g.get("call_slug"), ambito=request_ambito())
    return g.page_call


def call_or_404() -> Call:
    """The call the page shows; 404 when none is loaded (or the address names no call)."""
    call = page_call()
    if call is None:
        abort(404)
    return call


def show_call(call: Call) -> None:
    """The page is about `call` (found from its object, e.g. a meeting): its links stay within that call, as on
    the call's own addresses; the current call keeps its short ones."""
    g.page_call = call
    if call.is_current:
        g.pop("call_slug", None)
    else:
        g.call_slug = call.slug


def in_its_call(call: Call) -> None:
    """An object found by its id (an application, a meeting) is shown within its own call: 404 when the address
    names another call or the call is another Ambito's, else the page's links follow the object's call."""
    in_this_ambito(call)
    if g.get("call_slug") and g.call_slug != call.slug:
        abort(404)
    show_call(call)


def managing_other_call() -> bool:
    """Whether this is one of the office's pages for a call that is not the current one (the page says so)."""
    call = g.get("page_call")
    return call is not None and not call.is_current and request.path.startswith(f"/avvisi/{call.slug}/gestione")


def _within_a_call(rule: str, endpoint: str) -> bool:
    return endpoint in CALL_PAGES or (rule.startswith(OFFICE_PREFIX) and not rule.startswith(OFFICE_PAGES_OF_NO_CALL))


def install_call_addresses(app: Flask) -> None:
    """Give each of CALL_PAGES and of the office's pages their address under /avvisi/<slug> too (the same view:
    it reads `page_call`), and keep the links of such a page within its call."""
    within: set[str] = set()
    for rule in list(app.url_map.iter_rules()):
        if _within_a_call(rule.rule, rule.endpoint) and not rule.rule.startswith("/avvisi/"):
            within.add(rule.endpoint)
            app.add_url_rule(CALL_PREFIX + (rule.rule if rule.rule != "/" else ""), endpoint=rule.endpoint,
                             view_func=app.view_functions[rule.endpoint],
                             methods=sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))

    @app.url_value_preprocessor
    def _call_from_address(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values and "call_slug" in values:
            g.call_slug = values.pop("call_slug")
            # a slug no call can have (a NUL, too long) is not looked up: PostgreSQL refuses a NUL outright
            if not SLUG_SHAPE.fullmatch(g.call_slug):
                g.page_call = None  # the 404 page asks for it too: never looked up
            if page_call() is None:
                abort(404)

    @app.url_defaults
    def _stay_in_the_call(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint in within and "call_slug" not in values and g.get("call_slug"):
            values["call_slug"] = g.call_slug


@cache
def model_named(name: str) -> type[Any]:
    """The mapped class called `name`, found in the models' registry instead of imported (see above)."""
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == name:
            return mapper.class_
    raise LookupError(f"no model named {name!r}")


@overload
def int_arg(name: str, default: int, *, minimum: int = ..., maximum: int = ..., clamp: bool = ...,
            required: bool = ..., values: Mapping[str, str] | None = ...) -> int: ...
@overload
def int_arg(name: str, default: None = ..., *, minimum: int = ..., maximum: int = ..., clamp: bool = ...,
            required: bool = ..., values: Mapping[str, str] | None = ...) -> int | None: ...
def int_arg(name: str, default: int | None = None, *, minimum: int = 1, maximum: int = MAX_ID,
            clamp: bool = False, required: bool = False, values: Mapping[str, str] | None = None) -> int | None:
    """The whole number `name` of the query string (or of `values`, e.g. `request.form`), within
    [minimum, maximum]: what a typed or forged value becomes instead of a database error.

    A missing value, not a number or out of range is `default`; with `required` it is a 400 instead (the
    request means nothing without it). With `clamp` a number out of range is brought to the nearest bound
    (a page past the last one asks for the last one).
    """
    number = whole_number((request.args if values is None else values).get(name))
    if number is not None and clamp:
        number = min(max(number, minimum), maximum)
    if number is None or not minimum <= number <= maximum:
        if required:
            abort(400)
        return default
    return number


def object_or_404(model: type[T], object_id: int | None, *, options: Sequence[ORMOption] = ()) -> T:
    """The row with this id, or 404 (also for ids no row can have, which some databases refuse outright, and for
    a row of another Ambito's call).

    `options` (e.g. `selectinload`) load what the page shows with the row, so its queries stay a fixed number."""
    found = db.session.get(model, object_id, options=options) if valid_id(object_id) else None
    if found is None:
        abort(404)
    call = call_of(found)
    if call is not None:
        in_this_ambito(call)
    return found


def call_of(found: Any) -> Call | None:
    """The call an object belongs to (itself, its call, its meeting's or its table's), which decides its Ambito;
    None for what no Ambito owns (an entity, an account)."""
    if isinstance(found, Call):
        return found
    for path in (("call",), ("meeting", "track", "call"), ("track", "call")):
        if hasattr(type(found), path[0]):
            value = found
            for name in path:
                value = getattr(value, name, None)
            if isinstance(value, Call):
                return value
    return None


def meeting_or_404(meeting_id: int, call: Call | None = None, *, options: Sequence[ORMOption] = ()) -> Meeting:
    """The meeting, and when `call` is given only if it belongs to that call (a forged id of another call is
    not found); never one of another Ambito."""
    meeting = object_or_404(model_named("Meeting"), meeting_id, options=options)
    if call is not None and meeting.track.call_id != call.id:
        abort(404)
    in_this_ambito(meeting.track.call)
    return meeting


def content_security_policy(script_src: str = "'self'") -> str:
    """The pages' Content-Security-Policy. font-src allows data: for the one font Bootstrap Italia's CSS embeds (its
    video player's icons): a font cannot run code, and blocking it printed a console error on every page. Only the
    register widens `script_src`, with 'wasm-unsafe-eval' for its QR decoder (compiled WebAssembly, no eval)."""
    return (f"default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; worker-src 'self'; "
            "manifest-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
