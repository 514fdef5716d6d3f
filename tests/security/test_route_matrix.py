"""Every route of the app against every role, from the table in route_matrix.py."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for

from tests.factories import csrf_from
from tests.security.conftest import ROLES, World, changed_tables, sign_in_as, snapshot
from tests.security.route_matrix import (
    EXCLUDED,
    LAST,
    LOGIN,
    MATRIX,
    PARAMETERS,
    PROBE_DATA,
    REFUSED,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

#: Ids no row can have, as an attacker types them: past PostgreSQL's `integer`, and past SQLite's 64 bits.
OUT_OF_RANGE_IDS = ("2147483648", "99999999999999999999999")
_INT_ARGUMENT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")


def routes(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method) of every rule to check, without the excluded ones."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXCLUDED:
            continue
        found.update((rule.endpoint, method) for method in rule.methods or () if method in METHODS)
    return sorted(found)


def id_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, name) of every `<int:name>` of every rule to check."""
    return sorted((endpoint, method, name) for endpoint, method in routes(app)
                  for rule in app.url_map.iter_rules(endpoint) for name in _INT_ARGUMENT.findall(rule.rule))


def _resolve(value, world: World):
    if isinstance(value, str) and value.startswith("world:"):
        return getattr(world, value.removeprefix("world:"))
    if isinstance(value, str) and "world:" in value:
        head, name = value.split("world:", 1)
        return f"{head}{getattr(world, name)}"
    return value


def url_of(app: Flask, world: World, endpoint: str) -> str:
    rule = next(r for r in app.url_map.iter_rules(endpoint))
    values = {}
    for name in rule.arguments:
        key = PARAMETERS.get((endpoint, name), PARAMETERS.get(name))
        assert key is not None, f"no value for <{name}> of {endpoint} ({rule.rule}): add it to PARAMETERS"
        values[name] = _resolve(key, world)
    with app.test_request_context():
        return url_for(endpoint, **values)


def url_with_id(app: Flask, world: World, endpoint: str, name: str, value: str) -> str:
    """The route's URL with `value` as its `<int:name>`; the other parameters as in `url_of` (any value where
    the table has none: the id alone makes the URL one no route matches)."""
    rule = next(r for r in app.url_map.iter_rules(endpoint))
    values = {other: _resolve(PARAMETERS.get((endpoint, other), PARAMETERS.get(other, "1")), world)
              for other in rule.arguments}
    values[name] = int(value)
    with app.test_request_context():
        return url_for(endpoint, **values)


def probe_data(world: World, endpoint: str) -> dict:
    return {_resolve(k, world): _resolve(v, world) for k, v in PROBE_DATA.get(endpoint, {}).items()}


def outcome(response) -> str | int:
    if response.status_code in (302, 303) and urlsplit(response.headers["Location"]).path == "/accedi":
        return LOGIN
    return response.status_code


def expected_of(endpoint: str, method: str, role: str):
    return MATRIX[(endpoint, method)][ROLES.index(role)]


def probe_order(keys: list[tuple[str, str]], role: str) -> list[tuple[str, str]]:
    """GETs first; then refused POSTs; then the allowed ones, those that change the state last."""

    def rank(key: tuple[str, str]) -> tuple:
        endpoint, method = key
        if method == "GET":
            return (0, 0, key)
        if expected_of(endpoint, method, role) in REFUSED:
            return (1, 0, key)
        return (2, LAST.index(endpoint) + 1 if endpoint in LAST else 0, key)

    return sorted(keys, key=rank)


def test_every_route_has_a_row(app):
    missing = [f"{method} {endpoint}" for endpoint, method in routes(app) if (endpoint, method) not in MATRIX]
    assert not missing, "routes without a row in tests/security/route_matrix.py MATRIX: " + ", ".join(missing)


def test_no_row_for_a_route_that_does_not_exist(app):
    existing = {(r.endpoint, m) for r in app.url_map.iter_rules() for m in r.methods or ()}
    stale = [f"{method} {endpoint}" for endpoint, method in MATRIX if (endpoint, method) not in existing]
    assert not stale, "rows in MATRIX for routes the app does not have: " + ", ".join(stale)
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


def test_every_parameter_has_a_value(app):
    for endpoint, _method in routes(app):
        rule = next(r for r in app.url_map.iter_rules(endpoint))
        for name in rule.arguments:
            assert (endpoint, name) in PARAMETERS or name in PARAMETERS, (
                f"no value for <{name}> of {endpoint} ({rule.rule}): add it to PARAMETERS")


@pytest.mark.parametrize("role", ROLES)
def test_route_matrix(app, client, world, role):
    sign_in_as(client, app, world, role)
    keys = [key for key in routes(app) if key in MATRIX]
    wrong = []
    for endpoint, method in probe_order(keys, role):
        url = url_of(app, world, endpoint)
        expected = expected_of(endpoint, method, role)
        if method == "GET":
            got = outcome(client.get(url))
        else:
            data = {"csrf_token": csrf_from(client, "/"), **probe_data(world, endpoint)}
            if expected in REFUSED:
                with app.app_context():
                    before = snapshot()
                got = outcome(client.post(url, data=data))
                with app.app_context():
                    changed = changed_tables(before, snapshot())
                if changed:
                    wrong.append(f"{method} {url} ({endpoint}) was refused with {got} but changed {changed}")
            else:
                got = outcome(client.post(url, data=data))
        if got != expected:
            wrong.append(f"{method} {url} ({endpoint}): expected {expected}, got {got}")
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)


def test_there_are_id_routes_to_probe(app):
    found = {endpoint for endpoint, _method, _name in id_routes(app)}
    assert {"calendar.meeting", "attendance.undo", "reports.certificate", "mailing.message"} <= found


@pytest.mark.parametrize("role", ROLES)
def test_an_id_no_row_can_have_is_not_found(app, client, world, role):
    """2147483648 overflows PostgreSQL's `integer` and 99999999999999999999999 SQLite's: both are 404 for
    everyone, on every route with an id (the POSTs carry a valid CSRF token, so a 400 cannot hide a 500)."""
    sign_in_as(client, app, world, role)
    token = csrf_from(client, "/")
    with app.app_context():
        before = snapshot()
    wrong = []
    for endpoint, method, name in id_routes(app):
        for value in OUT_OF_RANGE_IDS:
            url = url_with_id(app, world, endpoint, name, value)
            assert value in url
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token, **probe_data(world, endpoint)})
            if response.status_code != 404 or "La pagina che cerchi non esiste" not in response.get_data(as_text=True):
                wrong.append(f"{method} {url} ({endpoint}): got {response.status_code}")
    with app.app_context():
        changed = changed_tables(before, snapshot())
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)
    assert not changed, f"as {role}, probes with ids out of range changed {changed}"
