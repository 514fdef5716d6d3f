"""In a real browser: after sending the application form, going back shows what was typed, the legal
representative's fields included (they are not switched off for autofill, which also stops the browser from
restoring them)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_application_to_public_list import tick

pytestmark = pytest.mark.e2e


def test_going_back_after_sending_keeps_the_legal_representative(live_server, browser, crema):
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/candidatura")
    page.get_by_label("Denominazione dell'ente").fill("Associazione Ritorno")
    page.get_by_label("Forma giuridica").select_option("odv")
    page.get_by_label("Codice fiscale dell'ente").fill("97111330151")
    page.get_by_label("Registro di iscrizione").select_option("runts-a")
    page.get_by_label("Numero di iscrizione").fill("4521")
    page.get_by_label("Sede legale").fill("Via Cavour 3, Crema")
    tick(page, "Crema")
    page.get_by_label("Nome e cognome del legale rappresentante").fill("Giulia Ferri")
    page.get_by_label("E-mail del legale rappresentante").fill("presidenza@ritorno.example.org")
    page.get_by_label("Nome e cognome della persona di riferimento").fill("Marco Riva")
    page.get_by_label("E-mail della persona di riferimento").fill("marco.riva@ritorno.example.org")
    page.get_by_label("Telefono della persona di riferimento").fill("0373 456789")
    tick(page, "B) Fragilità (Anziani e Persone con disabilità)")
    page.get_by_label("Competenze ed esperienza nell'area B").fill("Trasporto sociale per anziani dal 2005.")
    # past the deadline only the implementation phase is open, and it comes ticked
    assert page.get_by_label(re.compile("^Fase di attuazione")).is_checked()
    tick(page, "Ho letto l'informativa")
    tick(page, "Dichiaro che le informazioni")
    page.get_by_role("button", name="Invia la manifestazione di interesse").click()
    page.wait_for_url("**/candidatura/inviata")
    page.go_back()
    page.wait_for_load_state()
    assert page.get_by_label("Nome e cognome della persona di riferimento").input_value() == "Marco Riva"
    assert page.get_by_label("Nome e cognome del legale rappresentante").input_value() == "Giulia Ferri"
    assert page.get_by_label("E-mail del legale rappresentante").input_value() == "presidenza@ritorno.example.org"
    context.close()
