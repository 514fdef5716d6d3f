"""In a real browser: the home page as a visitor sees it, and a staff member signing in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.e2e


def test_home_page_shows_areas_and_the_twelve_meetings(page, live_server, crema, monkeypatch):
    monkeypatch.setattr("scheduler.timeutil.clock", lambda: datetime(2024, 5, 1, 10, tzinfo=UTC))  # before them all
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text().startswith("Avviso di manifestazione di interesse")
    areas = page.locator("#areas-title ~ .row .card-title")
    assert areas.count() == 4
    assert [t.strip() for t in areas.all_inner_texts()] == [
        "A Minori e Famiglia", "B Fragilità", "C Adulti e povertà", "D Innovazione e giovani",
    ]
    meetings = page.locator(".meeting-list .list-group-item")
    assert meetings.count() == 12
    text = page.locator(".meeting-list").all_inner_texts()
    joined = "\n".join(text)
    assert "mercoledì 15 maggio 2024, 9:30-13:00" in joined
    assert "martedì 7 maggio 2024, 14:30-18:00" in joined
    assert joined.count("Sede da definire") == 12
    # Bootstrap Italia is loaded from the app itself
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Titillium" in font


def test_skip_link_is_the_first_thing_reached_by_keyboard(page, live_server, crema):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Vai al contenuto principale"


def test_staff_signs_in(page, live_server, make_user):
    make_user("staff@example.org", password="password-di-prova-1")
    page.goto(live_server.url + "/accedi")
    page.get_by_label("E-mail", exact=False).first.fill("staff@example.org")
    page.get_by_label("Password").fill("password-di-prova-1")
    page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name=re.compile("Esci")).is_visible()
    assert "staff@example.org" in page.content()
