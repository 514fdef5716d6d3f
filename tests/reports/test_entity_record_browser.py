"""In a real browser: an entity goes from its reserved area to its record, reads present and absent, and downloads
its certificate and its attendance; the page passes axe-core's WCAG 2.1 AA rules on a desktop and on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.a11y.test_axe_pages import sign_in_entity, violations
from tests.reports.test_entity_record import fixed_clock, known  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_entity_reads_its_record_and_downloads_it(browser, live_server, app, known, screen):  # noqa: F811
    viewport = {"width": 1280, "height": 900} if screen == "desktop" else {"width": 390, "height": 844}
    context = browser.new_context(locale="it-IT", timezone_id="Europe/Rome", viewport=viewport,
                                  is_mobile=screen == "phone", has_touch=screen == "phone", accept_downloads=True)
    page = context.new_page()
    try:
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        sign_in_entity(page, live_server.url, app, known["uno"]["user"])
        page.locator("#record-link").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Presenze e attestato"
        table = page.locator(f"#record-table-{known['slug']}")
        assert table.locator("td[data-col=presence]").all_inner_texts() == ["Assente", "Presente", "Assente",
                                                                           "Presente"]
        assert table.locator("td[data-col=people]").nth(3).inner_text() == "Anna Rossi, Bruno Neri"
        assert violations(page) == []
        with page.expect_download() as pdf:
            page.get_by_role("link", name="Scarica l'attestato (PDF)").click()
        assert pdf.value.suggested_filename == f"attestato-{known['slug']}.pdf"
        with page.expect_download() as csv:
            page.get_by_role("link", name="Scarica le presenze (CSV)").click()
        assert csv.value.suggested_filename == f"presenze-{known['slug']}.csv"
        assert "Anna Rossi" in Path(csv.value.path()).read_text(encoding="utf-8-sig")
        assert not [e for e in errors if "script-src" in e or "style-src" in e]
    finally:
        context.close()
