"""The public list of admitted entities: the page /elenco and its open data /elenco.csv and /elenco.json.

Thin: read the filters from the query string (kept in the URL so a filtered list can be shared), ask
`public_list` for the rows, render. Exports answer conditional GETs, since programs poll them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask import Response, current_app, render_template, request
from flask_babel import gettext as _

from scheduler.caching import app_cache
from scheduler.calls.models import Call, Comune
from scheduler.registry import bp
from scheduler.registry.public_list import PER_PAGE, PublicList, admitted_entries, csv_bytes, json_bytes
from scheduler.textutil import clean_line
from scheduler.web import call_or_404, int_arg


@dataclass
class Filters:
    """The filters of the query string: `area` is a code, `comune` a name (or an id, as staff links use)."""

    area_code: str | None = None
    comune: Comune | None = None
    #: Part of a name, or a codice fiscale.
    search: str | None = None
    errors: list[str] = field(default_factory=list)

    def args(self, **extra: object) -> dict[str, object]:
        """The valid filters as query parameters, for the download and page links."""
        values = {"area": self.area_code, "comune": self.comune.name if self.comune else None, "q": self.search,
                  **extra}
        return {key: value for key, value in values.items() if value}


def _read_filters(call: Call) -> Filters:
    """Valid filters are applied; each unknown one is reported (status 400) rather than silently dropped."""
    filters = Filters()
    area = clean_line(request.args.get("area")).upper()
    if area:
        if area in {a.code for a in call.areas}:
            filters.area_code = area
        else:
            filters.errors.append(_("Area sconosciuta: «%(code)s». Scegli una delle aree dell'elenco.", code=area))
    filters.search = clean_line(request.args.get("q"))[:120] or None
    comune = clean_line(request.args.get("comune"))
    if comune:
        wanted = comune.casefold()
        filters.comune = next(
            (c for c in call.comuni if c.name.casefold() == wanted or (comune.isdigit() and c.id == int(comune))),
            None,
        )
        if filters.comune is None:
            filters.errors.append(
                _("Comune sconosciuto: «%(name)s». Scegli uno dei comuni dell'Ambito.", name=comune[:120])
            )
    return filters


def _listing(call: Call, filters: Filters, page: int | None = None) -> PublicList:
    return admitted_entries(
        call, area_code=filters.area_code, comune_id=filters.comune.id if filters.comune else None,
        search=filters.search, page=page, per_page=current_app.config.get("PUBLIC_LIST_PER_PAGE", PER_PAGE),
        cache=app_cache(current_app, "public_list", 32),
    )


@bp.get("/elenco")
def public_list() -> tuple[str, int]:
    call = call_or_404()
    filters = _read_filters(call)
    listing = _listing(call, filters, page=int_arg("pagina", 1, clamp=True))
    page = render_template("registry/public_list.html", call=call, listing=listing, filters=filters)
    return page, 400 if filters.errors else 200


def _export(body: bytes, content_type: str, listing: PublicList) -> Response:
    """Open data for anyone, revalidated on every use: ETag from the content, Last-Modified from the list."""
    response = Response(body, content_type=content_type)
    response.last_modified = listing.updated_at
    response.add_etag()
    response.cache_control.public = True
    response.cache_control.no_cache = True
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


def _filter_error(filters: Filters, content_type: str) -> Response:
    message = " ".join(filters.errors)
    if content_type.startswith("application/json"):
        body = json.dumps({"error": message, "status": 400}, ensure_ascii=False)
        return Response(body, 400, content_type=content_type)
    return Response(message + "\n", 400, content_type="text/plain; charset=utf-8")


@bp.get("/elenco.csv")
def public_list_csv() -> Response:
    call = call_or_404()
    filters = _read_filters(call)
    if filters.errors:
        return _filter_error(filters, "text/plain")
    listing = _listing(call, filters)
    response = _export(csv_bytes(listing), "text/csv; charset=utf-8", listing)
    slug = re.sub(r"[^A-Za-z0-9._-]", "-", call.slug)
    response.headers["Content-Disposition"] = f'attachment; filename="elenco-soggetti-{slug}.csv"'
    return response


@bp.get("/elenco.json")
def public_list_json() -> Response:
    call = call_or_404()
    filters = _read_filters(call)
    content_type = "application/json; charset=utf-8"
    if filters.errors:
        return _filter_error(filters, content_type)
    listing = _listing(call, filters)
    return _export(json_bytes(listing), content_type, listing)
