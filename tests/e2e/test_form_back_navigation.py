"""In a real browser: after sending the application form, going back shows what was typed, the legal
representative's fields included (they are not switched off for autofill, which also stops the browser from
restoring them)."""

from __future__ import annotations

import pytest

from tests.e2e.test_application_to_public_list import fill_application

pytestmark = pytest.mark.e2e


def test_going_back_after_sending_keeps_the_legal_representative(live_server, browser, crema):
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/candidatura")
    fill_application(page, "Associazione Ritorno", "ritorno.example.org")
    page.get_by_role("button", name="Invia la manifestazione di interesse").click()
    page.wait_for_url("**/candidatura/inviata")
    page.go_back()
    page.wait_for_load_state()
    assert page.get_by_label("Nome e cognome della persona di riferimento").input_value() == "Marco Riva"
    assert page.get_by_label("Nome e cognome del legale rappresentante").input_value() == "Giulia Ferri"
    assert page.get_by_label("E-mail del legale rappresentante").input_value() == "presidenza@ritorno.example.org"
    context.close()
