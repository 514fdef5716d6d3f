"""The status tabs of /gestione/candidature: apart from "Tutte", each application is under exactly one tab, and
each tab's count is what a click on it lists."""

from __future__ import annotations

import html
import re

import pytest

from scheduler.auth.models import Role
from scheduler.registry import review
from scheduler.registry.models import ApplicationStatus
from scheduler.registry.review_forms import STATUS_TABS
from tests.factories import make_entity

STAFF = "ufficio@comune.crema.example.org"
LIST = "/gestione/candidature"


@pytest.fixture
def staff(app, crema, make_user, auth) -> None:
    make_user(STAFF, role=Role.STAFF)
    auth.login(STAFF)


def listed(client, value: str) -> list[str]:
    page = client.get(LIST, query_string={"stato": value} if value else None).get_data(as_text=True)
    return [html.unescape(n) for n in re.findall(r'<a href="/gestione/candidature/\d+">([^<]+)</a>', page)]


def tab_counts(client) -> dict[str, int]:
    """Each tab's label and the number on it, as the page shows them."""
    page = html.unescape(client.get(LIST).get_data(as_text=True))
    nav = page[page.index('aria-label="Filtra per stato"'):]
    nav = nav[:nav.index("</nav>")]
    return {label.strip(): int(number) for label, number in
            re.findall(r'<a class="nav-link[^"]*"[^>]*>\s*([^<]+?)\s*<span[^>]*>(\d+)</span>', nav)}


def test_every_status_is_under_exactly_one_tab_besides_all():
    status_tabs = [statuses for value, statuses in review.STATUS_TABS if value != review.ALL_TAB]
    for status in ApplicationStatus:
        assert sum(status in statuses for statuses in status_tabs) == 1, status
    assert dict(review.STATUS_TABS)[review.ALL_TAB] == review.REACHED_STAFF
    assert len({label for _, label, _ in STATUS_TABS}) == len(STATUS_TABS)  # no two tabs read the same


def test_each_application_is_listed_under_one_tab_only(client, app, staff):
    names = {status: f"Ente {status.value}" for status in ApplicationStatus}
    for status, name in names.items():
        make_entity(app, name, status=status)

    shown = {value: listed(client, value) for value, _, _ in STATUS_TABS}
    for status, name in names.items():
        tabs = [value for value, names_shown in shown.items() if name in names_shown and value != review.ALL_TAB]
        assert len(tabs) == 1, (status, tabs)
        assert (name in shown[review.ALL_TAB]) is (status is not ApplicationStatus.UNCONFIRMED)
    # the default tab is what waits for staff; what waits for the entity is apart
    assert shown[""] == [names[ApplicationStatus.SUBMITTED]]
    assert shown["needs_info"] == [names[ApplicationStatus.NEEDS_INFO]]
    # an old bookmark of the former "In esame" tab shows the same applications as "Da esaminare"
    assert listed(client, "submitted") == shown[""]

    counts = tab_counts(client)
    assert counts == {
        "Da esaminare": 1, "In attesa di integrazioni": 1, "Ammessa": 1, "Non ammessa": 1, "Ritirata": 1,
        "Tutte": 5, "In attesa di conferma dell'e-mail": 1,
    }
    assert "In esame" not in counts  # the tab that overlapped "Da esaminare" is gone
