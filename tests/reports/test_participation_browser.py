"""In a real browser: staff answer "which entities of comune X took part in area B this year?" in two clicks."""

from __future__ import annotations

import pytest

from tests.reports.test_participation import STAFF, fixed_clock, known  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def test_two_clicks_from_the_report_to_the_entities_of_a_comune_in_an_area(page, live_server, known,  # noqa: F811
                                                                          make_user):
    make_user(STAFF, password="password-di-prova-1")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/accedi")
    page.get_by_label("E-mail", exact=False).first.fill(STAFF)
    page.get_by_label("Password").fill("password-di-prova-1")
    page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Partecipazione").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Partecipazione ai tavoli"

    page.locator("#table-comuni").get_by_role("link", name="Offanengo", exact=True).click()  # first click
    page.wait_for_load_state()
    page.locator("#table-aree").get_by_role("link", name="B) Fragilità").click()  # second click
    page.wait_for_load_state()

    assert "enti del comune di Offanengo" in page.locator("#report-summary").inner_text()
    names = [n.strip() for n in page.locator("#table-enti tbody th").all_inner_texts()]
    assert names == ["Ente Due", "Ente Tre"]
    assert page.locator("#table-enti tbody td[data-col=attended]").all_inner_texts() == ["2", "1"]
    # the charts are drawn without scripts and named for screen readers
    chart = page.locator("svg.report-chart").first
    assert chart.get_attribute("role") == "img"
    assert chart.locator("title").text_content().startswith("Confermati, presenti")
    assert not [e for e in errors if "script-src" in e or "style-src" in e]
