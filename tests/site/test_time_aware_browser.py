"""In Chromium on a 390 px phone: the concluded meetings folded until asked for, and the staff dashboard, both
readable without sideways scrolling and without a serious axe-core violation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from axe_playwright_python.sync_playwright import Axe

from scheduler.auth.models import Role
from scheduler.registry.models import ApplicationStatus
from tests.factories import make_entity

pytestmark = pytest.mark.e2e

PASSWORD = "password-di-prova-1"
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="it-IT", timezone_id="Europe/Rome", viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


def serious_violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG_21_AA).response
    return [f"{v['id']}: {v['help']}" for v in results["violations"] if v["impact"] in ("serious", "critical")]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_concluded_meetings_are_folded_until_opened(phone, live_server, crema, monkeypatch):
    monkeypatch.setattr("scheduler.timeutil.clock", lambda: datetime(2024, 5, 20, 10, tzinfo=UTC))
    phone.goto(live_server.url + "/")
    folded = phone.locator("details.concluded-meetings")
    assert folded.count() == 4
    first = folded.first
    assert first.locator("summary").inner_text().strip() == "Incontri conclusi (1)"
    assert not first.locator(".list-group-item").first.is_visible()
    first.locator("summary").click()
    assert first.locator(".list-group-item").first.is_visible()
    assert "Sede non indicata" in first.locator(".list-group-item").first.inner_text()
    assert "si sono chiuse il 2 maggio 2024" in phone.locator("#deadline").inner_text()
    assert fits_the_screen(phone)
    assert serious_violations(phone) == []

    phone.goto(live_server.url + "/calendario")
    assert phone.locator("details.concluded-meetings").count() == 4
    assert fits_the_screen(phone)
    assert serious_violations(phone) == []


def test_the_staff_dashboard_on_a_phone(phone, live_server, app, make_user, crema):
    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    make_entity(app, "Fondazione con un nome piuttosto lungo per un telefono", status=ApplicationStatus.SUBMITTED)
    phone.goto(live_server.url + "/accedi")
    phone.get_by_label("E-mail", exact=False).first.fill("staff@example.org")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.locator("form").filter(has=phone.get_by_label("Password")).get_by_role("button").click()
    phone.wait_for_load_state()
    assert phone.url == live_server.url + "/gestione"
    assert phone.locator("h1").inner_text() == "Cruscotto"
    headings = phone.locator("main h2").all_inner_texts()
    assert [h.split(" ")[0] for h in headings] == ["Candidature", "Incontri", "E-mail", "Registri"]
    assert "Fondazione con un nome piuttosto lungo" in phone.locator("#da-esaminare").inner_text()
    assert fits_the_screen(phone)
    assert serious_violations(phone) == []
