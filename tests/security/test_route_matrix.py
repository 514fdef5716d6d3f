"""Every route of the app against every role, from the table in route_matrix.py."""

from __future__ import annotations

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


def routes(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method) of every rule to check, without the excluded ones."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXCLUDED:
            continue
        found.update((rule.endpoint, method) for method in rule.methods or () if method in METHODS)
    return sorted(found)


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
