"""On a phone, in Chromium: the facilitator checks entities in by QR URL and by hand, adds a walk-in, undoes,
closes; with the network cut, marks are kept on the device and sent once when the connection returns."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

PASSWORD = "password-di-prova-1"
PHONE = {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2.6,
         "locale": "it-IT", "timezone_id": "Europe/Rome"}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context
    context.close()


def _sign_in(page, base_url):
    page.goto(base_url + "/accedi")
    page.get_by_label("E-mail", exact=False).first.fill("facilitatrice@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()
    page.wait_for_load_state()


def _rows(app, meeting_id):
    from scheduler.attendance.models import Attendance
    from scheduler.extensions import db

    with app.app_context():
        return [(a.person_name, a.method.value, a.undone_at is not None) for a in db.session.scalars(
            sa.select(Attendance).where(Attendance.meeting_id == meeting_id).order_by(Attendance.id))]


def test_qr_check_in_walk_in_undo_and_closing_on_a_phone(live_server, app, phone, meeting):
    page = phone.new_page()
    _sign_in(page, live_server.url)
    code = meeting["rsvps"]["faro"][1]
    page.goto(f"{live_server.url}/presenze/{meeting['id']}/codice/{code}")
    confirm = page.locator("#qr-confirm")
    assert "Cooperativa Il Faro" in confirm.inner_text()
    page.locator("label[for=qr-person-2]").click()  # Luca Neri did not come
    confirm.get_by_role("button", name="Conferma presenza").click()
    page.wait_for_url(re.compile(rf"/presenze/{meeting['id']}(#.*)?$"))
    assert "presenza confermata" in page.content()
    assert _rows(app, meeting["id"]) == [("Sara Galli", "qr", False)]

    # the search box filters the cards as one types
    page.get_by_label("Cerca un ente o una persona").fill("riva")
    assert page.locator(f"#rsvp-{meeting['rsvps']['ponte'][0]}").is_visible()
    assert page.locator(f"#rsvp-{meeting['rsvps']['faro'][0]}").is_hidden()
    page.get_by_label("Cerca un ente o una persona").fill("")

    # a guest from a body not in the list
    page.get_by_text("Ospite di un'organizzazione non in elenco").click()
    page.get_by_label("Nome e cognome").nth(1).fill("Elena Rossi")
    page.get_by_label("Organizzazione").fill("Comitato di quartiere")
    page.locator("#walk-in-guest").get_by_role("button", name="Segna presente").click()
    page.locator("#walk-in-list").get_by_text("Elena Rossi").wait_for()
    expect(page.locator("#sync-banner")).to_be_hidden()
    assert ("Elena Rossi", "walk_in", False) in _rows(app, meeting["id"])

    # a tap marks Anna Riva present, a second tap takes it back
    anna = page.locator(f"#rsvp-{meeting['rsvps']['ponte'][0]} .person-toggle button")
    anna.click()
    assert anna.get_attribute("aria-pressed") == "true"
    expect(page.locator("#sync-banner")).to_be_hidden()
    anna.click()
    assert anna.get_attribute("aria-pressed") == "false"
    expect(page.locator("#sync-banner")).to_be_hidden()
    page.wait_for_timeout(300)
    assert ("Anna Riva", "hand", True) in _rows(app, meeting["id"])

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Chiudi il registro").click()
    page.locator("#closed-notice").wait_for()
    assert page.locator(".person-toggle").count() == 0


def test_marks_made_offline_are_sent_once_when_the_connection_returns(live_server, app, phone, meeting):
    page = phone.new_page()
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/presenze/{meeting['id']}")
    banner = page.locator("#sync-banner")
    assert banner.is_hidden()

    phone.set_offline(True)
    for key in ("faro", "ponte", "sole"):
        page.locator(f"#rsvp-{meeting['rsvps'][key][0]} .person-toggle button").first.click()
    page.wait_for_timeout(500)
    assert banner.is_visible()
    assert "3 segnature non ancora inviate" in banner.inner_text()
    assert page.locator(".pending-badge").count() == 3
    assert _rows(app, meeting["id"]) == []

    phone.set_offline(False)
    expect(banner).to_be_hidden(timeout=15000)
    assert page.locator(".pending-badge").count() == 0
    rows = _rows(app, meeting["id"])
    assert sorted(rows) == [("Anna Riva", "hand", False), ("Carla Sole", "hand", False),
                            ("Sara Galli", "hand", False)]

    # the page reloaded shows the same marks, and nothing is sent again
    page.reload()
    assert page.locator(".person-toggle button[aria-pressed=true]").count() == 3
    page.wait_for_timeout(500)
    assert len(_rows(app, meeting["id"])) == 3


def test_a_mark_whose_answer_was_lost_is_sent_again_and_stored_once(live_server, app, phone, meeting):
    page = phone.new_page()
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/presenze/{meeting['id']}")
    lost = []

    def lose_first_answer(route):
        if not lost:
            lost.append(route.fetch())  # the server records the mark...
            route.abort()  # ...but the phone never hears back
        else:
            route.continue_()

    page.route("**/segna", lose_first_answer)
    page.locator(f"#rsvp-{meeting['rsvps']['ponte'][0]} .person-toggle button").click()
    expect(page.locator("#sync-banner")).to_contain_text("1 segnatura non ancora inviata")
    for _ in range(100):  # until the first request has reached the server
        if lost:
            break
        page.wait_for_timeout(50)
    assert lost and lost[0].status == 200
    assert _rows(app, meeting["id"]) == [("Anna Riva", "hand", False)]
    expect(page.locator("#sync-banner")).to_be_hidden(timeout=15000)  # sent again by the periodic retry
    assert _rows(app, meeting["id"]) == [("Anna Riva", "hand", False)]
