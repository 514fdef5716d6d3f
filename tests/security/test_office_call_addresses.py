"""The office's pages at a call's own address (/avvisi/<slug>/gestione/...) answer every role as the short
ones do: the matrix's row of the page holds for both addresses."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.security.conftest import ROLES, changed_tables, sign_in_as, snapshot
from tests.security.route_matrix import MATRIX, PARAMETERS
from tests.security.test_route_matrix import _resolve, expected_of, outcome

PREFIX = "/avvisi/<call_slug>/gestione"


def office_rules(app):
    return sorted((rule.endpoint, rule) for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIX))


def test_the_office_pages_have_their_call_addresses(app):
    endpoints = {endpoint for endpoint, _rule in office_rules(app)}
    assert {"site.dashboard", "registry.review_list", "calendar.manage", "announcements.index", "reports.index",
            "agreements.index"} <= endpoints
    assert not any(e.startswith(("mailing.", "site.manage_calls", "site.archive_call")) for e in endpoints)


@pytest.mark.parametrize("role", ROLES)
def test_an_office_page_at_its_call_address_answers_as_its_short_one(app, client, world, role):
    sign_in_as(client, app, world, role)
    with app.app_context():
        before = snapshot()
    wrong = []
    for endpoint, rule in office_rules(app):
        if "GET" not in (rule.methods or ()) or (endpoint, "GET") not in MATRIX:
            continue
        values = {name: _resolve(PARAMETERS.get((endpoint, name), PARAMETERS.get(name)), world)
                  for name in rule.arguments if name != "call_slug"}
        with app.test_request_context():
            url = url_for(endpoint, call_slug=world.call_slug, **values)
        assert url.startswith(f"/avvisi/{world.call_slug}/gestione"), url
        got = outcome(client.get(url))
        if got != expected_of(endpoint, "GET", role):
            wrong.append(f"GET {url} ({endpoint}): expected {expected_of(endpoint, 'GET', role)}, got {got}")
    with app.app_context():
        assert not changed_tables(before, snapshot())
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)
