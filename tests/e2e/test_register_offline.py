"""The register opens with no connection, in Chromium on a phone: the list of registers keeps today's on the phone
(a service worker); with the network cut the register reloads from that copy, three people and one walk-in are
marked, the page is closed and opened again still offline (the marks are still there, waiting), and when the
connection returns exactly those four rows reach the database, once each."""

from __future__ import annotations

import pytest

from tests.a11y.test_axe_pages import violations
from tests.e2e.test_register_phone import PHONE, _rows, _sign_in

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect


def _controlled(page) -> None:
    """Wait until the service worker serves this page (so that it can serve it again offline)."""
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                           timeout=30000)


def test_the_register_reloads_offline_and_the_marks_survive_closing_the_page(live_server, app, browser, meeting):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server.url)
    register = f"{live_server.url}/presenze/{meeting['id']}"
    page.goto(f"{live_server.url}/presenze")
    kept = page.locator("#offline-registers")
    expect(kept).to_be_visible(timeout=15000)
    assert "si aprono anche senza connessione" in kept.inner_text()
    assert page.evaluate("() => document.querySelector('link[rel=manifest]').href").endswith(
        "/presenze/manifest.webmanifest")

    context.set_offline(True)
    page.goto(register)  # never opened before on this phone: kept by the list
    _controlled(page)
    expect(page.get_by_role("heading", name="Registro presenze")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Registro presenze")).to_be_visible()

    for key in ("faro", "ponte"):
        page.locator(f"#rsvp-{meeting['rsvps'][key][0]} .person-toggle button").first.click()
    page.locator(f"#rsvp-{meeting['rsvps']['faro'][0]} .person-toggle button").nth(1).click()  # Luca Neri
    page.get_by_text("Persona a titolo personale").click()
    page.locator("#individual-name").fill("Mario Ospite")
    page.locator("#walk-in-individual").get_by_role("button", name="Segna presente").click()
    banner = page.locator("#sync-banner")
    expect(banner).to_contain_text("4 segnature non ancora inviate")
    assert _rows(app, meeting["id"]) == []

    page.close()
    page = context.new_page()
    page.goto(register)  # still offline: the phone's copy, with what is still to send shown on it
    banner = page.locator("#sync-banner")
    expect(banner).to_contain_text("4 segnature non ancora inviate")
    assert page.locator(".pending-badge").count() == 4
    sara = page.locator(f"#rsvp-{meeting['rsvps']['faro'][0]} .person-toggle button").first
    assert sara.get_attribute("aria-pressed") == "true"
    assert page.locator("#walk-in-list").get_by_text("Mario Ospite").is_visible()
    assert page.locator("#present-count .count").inner_text() == "4"
    page.wait_for_timeout(600)  # the buttons' colour transitions over (axe measures colours as drawn)
    assert violations(page) == []  # the register from the phone's copy, with its waiting marks

    context.set_offline(False)
    expect(banner).to_be_hidden(timeout=20000)
    page.wait_for_load_state()
    expect(page.locator(".pending-badge")).to_have_count(0, timeout=10000)
    assert sorted(_rows(app, meeting["id"])) == [
        ("Anna Riva", "hand", False), ("Luca Neri", "hand", False), ("Mario Ospite", "walk_in", False),
        ("Sara Galli", "hand", False)]
    context.close()


def test_a_page_never_kept_says_so_offline_instead_of_a_browser_error(live_server, app, browser, meeting):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/presenze/{meeting['id']}")
    _controlled(page)
    context.set_offline(True)
    page.goto(f"{live_server.url}/presenze/999999")
    expect(page.get_by_role("heading", name="Questa pagina non è stata scaricata")).to_be_visible()
    context.close()


def test_a_departure_tapped_offline_is_kept_with_its_time_and_sent(live_server, app, browser, meeting):
    from scheduler.attendance.models import Attendance
    from scheduler.extensions import db

    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/presenze/{meeting['id']}")
    _controlled(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Registra anche le uscite").click()
    page.reload()  # through the service worker, which keeps the page as it is now
    _controlled(page)
    page.wait_for_function("""() => caches.open('tavoli-register-pages').then(c => c.match(location.href))
                              .then(hit => hit ? hit.text() : '')
                              .then(html => html.includes('Non registrare più le uscite'))""",
                           timeout=30000)  # this page, as it is now (departures on), kept
    card = page.locator(f"#rsvp-{meeting['rsvps']['ponte'][0]}")
    leave = card.locator("form.departure-form")
    assert leave.is_hidden()  # only for a person present
    context.set_offline(True)
    card.locator(".person-toggle button").click()
    expect(leave).to_be_visible()
    leave.get_by_role("button").click()
    expect(leave.locator(".departure-state")).to_contain_text("Uscita alle")
    expect(page.locator("#sync-banner")).to_contain_text("2 segnature non ancora inviate")
    page.reload()  # from the phone's copy: the departure still shown, still to send
    leave = page.locator(f"#rsvp-{meeting['rsvps']['ponte'][0]} form.departure-form")
    expect(leave.locator(".departure-state")).to_contain_text("Uscita alle")
    context.set_offline(False)
    expect(page.locator("#sync-banner")).to_be_hidden(timeout=20000)
    with app.app_context():
        row = db.session.scalar(db.select(Attendance).where(Attendance.meeting_id == meeting["id"]))
        assert row.person_name == "Anna Riva" and row.left_at is not None and row.left_at >= row.checked_in_at
    context.close()
