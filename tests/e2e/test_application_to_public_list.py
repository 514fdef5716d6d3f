"""In a real browser, from the public form to the public list: the entity applies, confirms its address from
the e-mail that arrived, staff admit it, and it appears in /elenco. Mail goes through a real SMTP server."""

from __future__ import annotations

import re

import pytest

from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due

pytestmark = pytest.mark.e2e


def deliver(app) -> None:
    with app.app_context():
        deliver_all_due("e2e-worker")
        db.session.remove()


def tick(page, text: str) -> None:
    """Bootstrap Italia draws checkboxes on their label: click the label, as a person does."""
    page.locator("label").filter(has_text=re.compile("^" + re.escape(text))).first.click()


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def fill_application(page, name: str, domain: str) -> None:
    """The public form filled as an entity does, every required field valid, ready to be sent."""
    page.get_by_label("Denominazione dell'ente").fill(name)
    page.get_by_label("Forma giuridica").select_option("odv")
    page.get_by_label("Codice fiscale dell'ente").fill("97111330151")
    page.get_by_label("Registro di iscrizione").select_option("runts-a")
    page.get_by_label("Numero di iscrizione").fill("4521")
    page.get_by_label("Sede legale").fill("Via Cavour 3, Crema")
    tick(page, "Crema")
    tick(page, "Soncino")
    page.get_by_label("Nome e cognome del legale rappresentante").fill("Giulia Ferri")
    page.get_by_label("E-mail del legale rappresentante").fill(f"presidenza@{domain}")
    page.get_by_label("Nome e cognome della persona di riferimento").fill("Marco Riva")
    page.get_by_label("E-mail della persona di riferimento").fill(f"marco.riva@{domain}")
    page.get_by_label("Telefono della persona di riferimento").fill("0373 456789")
    tick(page, "B) Fragilità (Anziani e Persone con disabilità)")
    page.get_by_label("Competenze ed esperienza nell'area B").fill("Trasporto sociale per anziani dal 2005.")
    # past the deadline only the implementation phase is open, and it comes ticked
    assert page.get_by_label(re.compile("^Fase di attuazione")).is_checked()
    tick(page, "Ho letto l'informativa")
    tick(page, "Dichiaro che le informazioni")


def test_from_form_to_public_list(smtp_app_config, smtp_server, live_server, app, browser, crema, make_user):
    make_user("staff@example.org", password="password-di-prova-1")
    entity = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    page = entity.new_page()
    page.goto(live_server.url + "/candidatura")
    fill_application(page, "Associazione Il Melograno", "melograno.example.org")
    page.get_by_role("button", name="Invia la manifestazione di interesse").click()
    page.wait_for_url("**/candidatura/inviata")
    assert "marco.riva@melograno.example.org" in page.content()

    deliver(app)
    [confirmation] = smtp_server.wait_for(1)
    assert confirmation["To"].addresses[0].addr_spec == "marco.riva@melograno.example.org"
    link = re.search(r"(http://127\.0\.0\.1:\d+/accedi/link/\S+)", body(confirmation)).group(1)
    page.goto(link)
    page.get_by_role("button", name=re.compile("Accedi")).click()
    page.wait_for_url("**/area-riservata")
    protocol = re.search(r"MI-\d{4}-\d{4}", page.content()).group(0)
    assert "In esame" in page.content()

    deliver(app)
    receipts = [m for m in smtp_server.wait_for(3) if "Ricevuta" in m["Subject"]]
    assert receipts and protocol in receipts[0]["Subject"]
    assert "B) Fragilità" in body(receipts[0])

    staff = browser.new_context(locale="it-IT").new_page()
    staff.goto(live_server.url + "/accedi")
    staff.get_by_label("E-mail", exact=False).first.fill("staff@example.org")
    staff.get_by_label("Password").fill("password-di-prova-1")
    staff.locator("form").filter(has=staff.get_by_label("Password")).get_by_role("button").click()
    staff.goto(live_server.url + "/gestione/candidature")
    staff.get_by_role("link", name=re.compile("Associazione Il Melograno")).click()
    staff.on("dialog", lambda dialog: dialog.accept())
    staff.get_by_role("button", name="Ammetti").click()
    staff.wait_for_load_state()
    assert "Candidatura ammessa" in staff.content()

    deliver(app)
    admitted = [m for m in smtp_server.wait_for(5) if "ammessa" in m["Subject"]]
    assert admitted

    page.goto(live_server.url + "/elenco?area=B")
    assert "Associazione Il Melograno" in page.content()
    page.goto(live_server.url + "/elenco?area=A")
    assert "Associazione Il Melograno" not in page.content()
    entity.close()
