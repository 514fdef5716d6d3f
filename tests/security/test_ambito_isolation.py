"""Two Ambiti on one installation, every route: on the second Ambito's host, the first Ambito's ids and tokens open
nothing, and the pages of no id show only the second Ambito's data (the table in ambito_matrix.py)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, url_for

from scheduler.auth.models import User
from scheduler.auth.services import issue_login_token
from scheduler.calendar.planning import set_facilitators
from scheduler.calendar.services import CalendarError
from scheduler.calls.ambiti import create_ambito
from scheduler.calls.models import Call, Track
from scheduler.extensions import db
from tests.conftest import CALL_FILE
from tests.security.ambito_matrix import (
    ANALOG,
    DIFFERENT,
    FIRST_MARKERS,
    ISOLATION,
    KINDS,
    NOT_FOUND,
    OWN,
    OWN_MARKERS_OF_ENTITY,
    PLAIN_NOT_FOUND,
    PLATFORM,
    SHARED,
    SPEAKS_OF_THE_ENTITY,
)
from tests.security.conftest import (
    PASSWORD,
    ROLES,
    SECOND_BASE_URL,
    SECOND_FACILITATOR_EMAIL,
    SECOND_STAFF_EMAIL,
    STAFF_EMAIL,
    World,
)
from tests.security.route_matrix import LAST, LOGIN, MATRIX, PARAMETERS, REFUSED
from tests.security.test_route_matrix import outcome, probe_data, routes

NOT_FOUND_PAGE = "La pagina che cerchi non esiste"
CALL_PREFIX = "/avvisi/<call_slug>"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class OnHost:
    """A test client whose every request is for `base_url` (its cookies are that host's)."""

    def __init__(self, client, base_url: str) -> None:
        self.client, self.base_url = client, base_url

    def get(self, url: str, **kwargs: Any):
        return self.client.get(url, base_url=self.base_url, **kwargs)

    def post(self, url: str, **kwargs: Any):
        return self.client.post(url, base_url=self.base_url, **kwargs)

    def csrf(self, path: str = "/") -> str:
        return CSRF.search(self.get(path).get_data(as_text=True)).group(1)


def sign_in_on_second_host(host: OnHost, app: Flask, world: World, role: str) -> None:
    """The second Ambito's staff and facilitator by password, entity 1 by its e-mailed link, all on that host."""
    if role == "anonymous":
        return
    if role == "entity":
        with app.app_context():
            token = issue_login_token(db.session.get(User, world.users["entity"]))
            db.session.commit()
        response = host.post(f"/accedi/link/{token}", data={"csrf_token": host.csrf(f"/accedi/link/{token}")})
    else:
        email = {"second_staff": SECOND_STAFF_EMAIL, "second_facilitator": SECOND_FACILITATOR_EMAIL}[role]
        response = host.post("/accedi", data={"email": email, "password": PASSWORD, "csrf_token": host.csrf("/accedi")})
    assert response.status_code == 302, f"{role} could not sign in on the second host"


# --- what changed, and whether it is the first Ambito's


def keyed_rows() -> dict[str, dict[tuple, dict]]:
    """Every row of every table by primary key (inside an app context)."""
    found = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            key = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
            found[table.name] = {tuple(row[k] for k in key): dict(row)
                                 for row in conn.execute(sa.select(table)).mappings()}
    return found


def _references(table: sa.Table, row: dict, owned: dict[str, set]) -> bool:
    for column in table.columns:
        for foreign in column.foreign_keys:
            if row.get(column.name) is not None and (row[column.name],) in owned.get(foreign.column.table.name, ()):
                return True
    return False


def first_ambito_rows(rows: dict[str, dict[tuple, dict]], ambito_id: int) -> dict[str, set]:
    """The keys of the first Ambito's rows: itself, then every row referring to one of its rows (its calls, their
    areas and tables, meetings, applications, RSVPs... its staff), to a fixed point."""
    tables = {t.name: t for t in db.metadata.sorted_tables}
    owned: dict[str, set] = {"ambiti": {(ambito_id,)}}
    grown = True
    while grown:
        grown = False
        for name, table in tables.items():
            for key, row in rows[name].items():
                if key not in owned.setdefault(name, set()) and _references(table, row, owned):
                    owned[name].add(key)
                    grown = True
    return owned


def touched_first(before: dict, after: dict, owned: dict[str, set]) -> list[str]:
    """The tables where a row of the first Ambito changed or went, or a new or changed row refers to one."""
    tables = {t.name: t for t in db.metadata.sorted_tables}
    found = []
    for name, table in tables.items():
        old, new = before[name], after[name]
        for key in old.keys() | new.keys():
            if old.get(key) == new.get(key):
                continue
            if key in owned.get(name, ()) or (key in new and _references(table, new[key], owned)):
                found.append(name)
                break
    return found


def changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


# --- the probes


def _own_rule(app: Flask, endpoint: str):
    """The route's own rule: a page of a call has its short address (the current call's) too, which it is probed at."""
    rules = list(app.url_map.iter_rules(endpoint))
    return next((r for r in rules if not r.rule.startswith(CALL_PREFIX)), rules[0])


def _values_of(app: Flask, endpoint: str, world: World) -> dict:
    rule = _own_rule(app, endpoint)
    values = {}
    for name in rule.arguments:
        key = PARAMETERS.get((endpoint, name), PARAMETERS.get(name, "1"))
        values[name] = getattr(world, key.removeprefix("world:")) if str(key).startswith("world:") else key
    return values


def probe_url(app: Flask, world: World, endpoint: str) -> str:
    """The route's own address (a page of the current call: the short one) with the first Ambito's ids; a
    platform route's parameters the table has no value for: any value."""
    with app.test_request_context():
        return url_for(endpoint, **_values_of(app, endpoint, world))


def call_addresses(app: Flask, world: World) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL) of every route's address under /avvisi/<the first Ambito's slug>."""
    found = []
    for endpoint, method in routes(app):
        if _own_rule(app, endpoint).rule.startswith(CALL_PREFIX) or not any(
                r.rule.startswith(CALL_PREFIX) for r in app.url_map.iter_rules(endpoint)):
            continue
        with app.test_request_context():
            url = url_for(endpoint, **_values_of(app, endpoint, world), call_slug=world.call_slug)
        assert url.startswith(f"/avvisi/{world.call_slug}"), url
        found.append((endpoint, method, url))
    return found


def analog_cell(endpoint: str, method: str, role: str):
    """The route matrix's cell of the role `role` stands for."""
    return MATRIX[(endpoint, method)][ROLES.index(ANALOG[role])]


def readable_text(response) -> str:
    """The body as text to look for markers in; a spreadsheet (a zip of XML files) by its files' text."""
    data = response.get_data()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode(errors="replace") for name in archive.namelist())
    return data.decode(errors="replace")


def verdict(endpoint: str, method: str, role: str, response) -> str | None:
    """What is wrong with the answer to a probe (None: nothing)."""
    kind, _reason = ISOLATION[(endpoint, method)]
    got = outcome(response)
    body = readable_text(response) if response.status_code not in (302, 303) else ""
    if response.status_code >= 500:
        return f"got {got}"
    if got == 404 and NOT_FOUND_PAGE not in body and not (
            endpoint in PLAIN_NOT_FOUND and response.mimetype == "text/plain"):
        return "a 404 without the app's not-found page"
    if kind == PLATFORM:
        return None if got in (LOGIN, 403, 404) else f"expected a refusal, got {got}"
    expected = DIFFERENT.get((endpoint, method, role), analog_cell(endpoint, method, role))
    if kind == NOT_FOUND:
        allowed = {404, expected} if expected in (LOGIN, 403) else {404}
        return None if got in allowed else f"expected {' or '.join(map(str, sorted(allowed, key=str)))}, got {got}"
    if got != expected:
        return f"expected {expected} (as on the first host), got {got}"
    if kind == OWN:
        of_the_entity = role == "entity" or endpoint in SPEAKS_OF_THE_ENTITY
        markers = [m for m in FIRST_MARKERS if m in body and not (of_the_entity and m in OWN_MARKERS_OF_ENTITY)]
        if markers:
            return f"shows the first Ambito's {markers}"
    return None


def probe_order(keys: list[tuple[str, str]], role: str) -> list[tuple[str, str]]:
    """GETs first; then the POSTs, those that change the signed-in state or the objects last (as the route matrix)."""

    def rank(key: tuple[str, str]) -> tuple:
        endpoint, method = key
        if method == "GET":
            return (0, 0, key)
        return (1, LAST.index(endpoint) + 1 if endpoint in LAST else 0, key)

    return sorted(keys, key=rank)


# --- the tests


def test_every_route_has_an_isolation_row(app):
    missing = [f"{method} {endpoint}" for endpoint, method in routes(app) if (endpoint, method) not in ISOLATION]
    assert not missing, "routes without a row in tests/security/ambito_matrix.py ISOLATION: " + ", ".join(missing)


def test_no_isolation_row_for_a_route_that_does_not_exist(app):
    existing = set(routes(app))
    stale = [f"{method} {endpoint}" for endpoint, method in ISOLATION if (endpoint, method) not in existing]
    assert not stale, "rows in ISOLATION for routes the app does not have: " + ", ".join(stale)


def test_every_row_says_what_must_hold():
    for (endpoint, method), (kind, reason) in ISOLATION.items():
        assert kind in KINDS, f"{method} {endpoint}: unknown kind {kind!r}"
        assert kind != SHARED or reason.strip(), f"{method} {endpoint} is shared: say why in one line"
        assert (kind == PLATFORM) == endpoint.startswith("platform."), f"{method} {endpoint}: platform rows only"
        assert kind == PLATFORM or (endpoint, method) in MATRIX, f"{method} {endpoint}: no row in the route matrix"


@pytest.mark.parametrize("role", list(ANALOG))
def test_the_first_ambitos_ids_open_nothing_on_the_second_host(app, client, world, second_ambito, role):
    host = OnHost(client, SECOND_BASE_URL)
    sign_in_on_second_host(host, app, world, role)
    with app.app_context():
        before = keyed_rows()
        owned = first_ambito_rows(before, second_ambito.first_ambito)
    wrong = []
    for endpoint, method in probe_order([key for key in routes(app) if key in ISOLATION], role):
        url = probe_url(app, world, endpoint)
        if method == "GET":
            response = host.get(url)
        else:
            response = host.post(url, data={"csrf_token": host.csrf(), **probe_data(world, endpoint)})
            with app.app_context():
                after = keyed_rows()
            kind = ISOLATION[(endpoint, method)][0]
            if outcome(response) in REFUSED and changed(before, after):
                wrong.append(f"POST {url} ({endpoint}) was refused with {outcome(response)} but changed "
                             f"{changed(before, after)}")
            elif kind != SHARED and (touched := touched_first(before, after, owned)):
                wrong.append(f"POST {url} ({endpoint}) wrote the first Ambito's rows in {touched}")
            before = after
        if problem := verdict(endpoint, method, role, response):
            wrong.append(f"{method} {url} ({endpoint}): {problem}")
    assert not wrong, f"as {role} on the second host:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", list(ANALOG))
def test_the_first_ambitos_call_addresses_are_not_found_on_the_second_host(app, client, world, second_ambito, role):
    host = OnHost(client, SECOND_BASE_URL)
    sign_in_on_second_host(host, app, world, role)
    token = host.csrf()
    with app.app_context():
        before = keyed_rows()
    wrong = []
    for endpoint, method, url in call_addresses(app, world):
        if method == "GET":
            response = host.get(url)
        else:
            response = host.post(url, data={"csrf_token": token, **probe_data(world, endpoint)})
        if response.status_code != 404 or NOT_FOUND_PAGE not in response.get_data(as_text=True):
            wrong.append(f"{method} {url} ({endpoint}): got {outcome(response)}")
    with app.app_context():
        after = keyed_rows()
    assert not wrong, f"as {role} on the second host:\n" + "\n".join(wrong)
    assert not changed(before, after), f"as {role}, the first Ambito's call addresses changed {changed(before, after)}"


def test_the_first_ambitos_staff_session_opens_nothing_on_the_second_host(app, client, world, second_ambito):
    """The first Ambito's staff session, replayed on the second host (the same cookie, e.g. behind one proxy), is
    not that office: every office page, register and staff-only action is refused and changes nothing."""
    first = OnHost(client, "http://localhost")
    response = first.post("/accedi", data={"email": STAFF_EMAIL, "password": PASSWORD,
                                           "csrf_token": first.csrf("/accedi")})
    assert response.status_code == 302
    assert first.get("/gestione").status_code == 200
    cookie = client.get_cookie("session", domain="localhost")
    client.set_cookie("session", cookie.value, domain="tavoli.ambitolodi.example")
    second = OnHost(client, SECOND_BASE_URL)
    token = second.csrf()
    with app.app_context():
        before = keyed_rows()
    staff_only = [(endpoint, method) for endpoint, method in routes(app)
                  if (endpoint, method) in MATRIX and analog_cell(endpoint, method, "second_staff") not in REFUSED
                  and analog_cell(endpoint, method, "anonymous") in REFUSED]
    assert len(staff_only) > 50
    opened = []
    for endpoint, method in staff_only:
        url = probe_url(app, world, endpoint)  # the pages of no id are the second office's own
        if method == "GET":
            response = second.get(url)
        else:
            response = second.post(url, data={"csrf_token": token, **probe_data(world, endpoint)})
        if outcome(response) not in (LOGIN, 403, 404):
            opened.append(f"{method} {url} ({endpoint}): got {outcome(response)}")
    for url in ("/gestione", "/gestione/avvisi", "/gestione/posta", "/gestione/calendario", "/presenze"):
        if outcome(second.get(url)) not in (LOGIN, 403, 404):
            opened.append(f"GET {url}: opened")
    with app.app_context():
        after = keyed_rows()
    assert not opened, "the first Ambito's staff session on the second host:\n" + "\n".join(opened)
    assert not changed(before, after), f"the replayed session changed {changed(before, after)}"


# --- the command line


def test_a_call_of_one_ambito_cannot_be_loaded_for_another(app, runner, crema):
    with app.app_context():
        create_ambito("lodi", host="tavoli.ambitolodi.example", name="Ambito territoriale di Lodi",
                      lead_municipality="Comune di Lodi", office_name="Ufficio di Piano di Lodi",
                      office_email="udp@comune.lodi.example")
        db.session.commit()
        before = keyed_rows()
    result = runner.invoke(args=["calls", "load", str(CALL_FILE), "--ambito", "lodi"])
    assert result.exit_code != 0
    assert "è già stato caricato per un altro Ambito" in result.output, result.output
    with app.app_context():
        assert keyed_rows() == before
        call = db.session.scalar(sa.select(Call).where(Call.slug == crema))
        assert call.ambito.slug == "crema"


def test_staff_of_an_unknown_ambito_cannot_be_created(app, runner, crema):
    with app.app_context():
        before = keyed_rows()
    result = runner.invoke(args=["users", "create-staff", "nuovo@comune.example", "--ambito", "sconosciuto",
                                 "--password-stdin"], input=f"{PASSWORD}\n")
    assert result.exit_code != 0
    assert "Nessun Ambito con la sigla 'sconosciuto'" in result.output
    with app.app_context():
        assert keyed_rows() == before
        assert db.session.scalar(sa.select(User).where(User.email == "nuovo@comune.example")) is None


def test_the_second_ambitos_own_forms_take_nothing_of_the_first(app, client, world, second_ambito):
    """The second office's own pages, given the first Ambito's ids in their forms: another Ambito's call to invite
    entities from, its facilitators to assign; and a facilitator the second office creates is its own."""
    host = OnHost(client, SECOND_BASE_URL)
    sign_in_on_second_host(host, app, world, "second_staff")
    token = host.csrf()
    facilitators = f"/gestione/calendario/percorsi/{second_ambito.track}/facilitatori"
    with app.app_context():
        before = keyed_rows()
    invite = host.post(f"/gestione/avvisi/{second_ambito.call}/invita",
                       data={"csrf_token": token, "from_call": world.call})
    assert invite.status_code == 400
    page = host.get(facilitators).get_data(as_text=True)
    assert SECOND_FACILITATOR_EMAIL in page and "facilitatrice@example.org" not in page
    assign = host.post(facilitators, data={"csrf_token": token, "facilitators": [world.users["facilitator"]]})
    assert assign.status_code == 400
    for audience in ({"audience": "meeting_yes", "meeting_id": world.meeting},
                     {"audience": "facilitators", "track_id": world.track}):
        announcement = host.post("/gestione/comunicazioni/nuova", data={
            "csrf_token": token, "subject": "Avviso", "body": "Testo", **audience})
        assert announcement.status_code == 400, audience
    with app.app_context():
        assert not changed(before, keyed_rows())
    created = host.post(facilitators, data={"csrf_token": token, "azione": "crea", "full_name": "Nuova Facilitatrice",
                                            "email": "nuova.facilitatrice@comune.lodi.example"})
    assert created.status_code == 200
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "nuova.facilitatrice@comune.lodi.example"))
        assert user.ambito_id == second_ambito.ambito
        assert not touched_first(before, keyed_rows(), first_ambito_rows(before, second_ambito.first_ambito))


def test_a_facilitator_of_another_ambito_cannot_be_assigned(app, world, second_ambito):
    """The service refuses it too, whatever form the ids come from."""
    with app.app_context():
        track = db.session.get(Track, second_ambito.track)
        with pytest.raises(CalendarError):
            set_facilitators(track, {second_ambito.users["facilitator"], world.users["facilitator"]})
        db.session.rollback()


def test_signing_in_on_the_second_host_as_the_first_ambitos_staff_touches_nothing_of_theirs(app, client, world,
                                                                                              second_ambito):
    """Wrong and right passwords alike: refused as an unknown address, and the first office's account is left as
    it was (no failed attempt counted against it from another Ambito's host)."""
    host = OnHost(client, SECOND_BASE_URL)
    with app.app_context():
        before = keyed_rows()
        owned = first_ambito_rows(before, second_ambito.first_ambito)
    for password in ("password-sbagliata", PASSWORD):
        response = host.post("/accedi", data={"email": STAFF_EMAIL, "password": password,
                                              "csrf_token": host.csrf("/accedi")})
        assert response.status_code == 401
    with app.app_context():
        after = keyed_rows()
    assert not touched_first(before, after, owned)
