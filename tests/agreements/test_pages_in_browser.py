"""The Accordo's pages in Chromium, on a desktop and on a 390 px phone: staff write and open the Accordo, the
entity adheres; every page passes axe-core's WCAG 2.1 A/AA rules (no serious or critical violation) and none is
wider than the screen."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe

from scheduler.agreements.models import AgreementAdhesion
from scheduler.auth.models import Role, User
from scheduler.auth.services import issue_login_token
from scheduler.extensions import db
from tests.agreements.conftest import PDF, PNG, STAFF_EMAIL, in_days

pytestmark = pytest.mark.e2e

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}
AXE = Axe()


@pytest.fixture(params=["desktop", "phone"])
def screen(request, browser):
    phone = request.param == "phone"
    context = browser.new_context(locale="it-IT", timezone_id="Europe/Rome", is_mobile=phone, has_touch=phone,
                                  viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


class Checker:
    def __init__(self, page) -> None:
        self.page = page
        self.problems: dict[str, list[str]] = {}

    def check(self, label: str, heading: str) -> None:
        self.page.wait_for_load_state("load")
        assert heading in self.page.locator("h1").first.inner_text(), label
        found = []
        for violation in AXE.run(self.page, options=WCAG_21_AA).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                found.append(f"{violation['id']}: {violation['help']} at "
                             f"{[' '.join(map(str, n['target'])) for n in violation['nodes'][:3]]}")
        if self.page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
            found.append("the page is wider than the screen")
        if found:
            self.problems[label] = found


def test_staff_write_and_open_the_accordo_and_the_entity_adheres(live_server, screen, app, make_user, cast, tmp_path):
    page, base = screen, live_server.url
    make_user(STAFF_EMAIL, role=Role.STAFF)
    checker = Checker(page)
    bad, good = tmp_path / "accordo.pdf", tmp_path / "accordo-vero.pdf"
    bad.write_bytes(PNG)
    good.write_bytes(PDF)

    page.goto(f"{base}/accedi")
    page.locator("form[action$='/accedi'] input[name=email]").fill(STAFF_EMAIL)
    page.locator("form[action$='/accedi'] input[name=password]").fill("password-di-prova-1")
    with page.expect_navigation():
        page.locator("form[action$='/accedi'] button[type=submit]").click()

    page.goto(f"{base}/gestione/accordi")
    checker.check("index", "Accordo di Programma")
    page.get_by_role("link", name="Nuovo Accordo").click()
    checker.check("new", "Nuovo Accordo")
    page.get_by_label("Titolo").fill("Accordo di Programma 2025-2027")
    page.get_by_label("Termine per aderire (compreso)").fill(in_days(20).isoformat())
    page.get_by_label("Testo dell'Accordo (PDF)").set_input_files(str(bad))
    page.locator("label", has_text="Gamma Coop").click()  # Bootstrap Italia draws the box on the label
    with page.expect_navigation():
        page.get_by_role("button", name="Salva").click()
    assert "non è un PDF" in page.locator("#document-error").inner_text()
    checker.check("new (a PNG named .pdf)", "Nuovo Accordo")
    page.get_by_label("Testo dell'Accordo (PDF)").set_input_files(str(good))
    with page.expect_navigation():
        page.get_by_role("button", name="Salva").click()
    checker.check("detail (draft)", "Accordo di Programma 2025-2027")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Apri alle adesioni e invia la richiesta").click()
    assert "Accordo aperto alle adesioni" in page.content()
    agreement_path = page.url.replace(base, "")
    agreement_id = int(re.search(r"(\d+)$", agreement_path).group(1))

    # the entity, from its reserved area
    with app.app_context():
        token = issue_login_token(db.session.get(User, cast["a"]["user"]), "/area-riservata")
        db.session.commit()
    page.context.clear_cookies()
    page.goto(f"{base}/accedi/link/{token}")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Accedi")).click()
    checker.check("reserved area (awaiting)", "Alfa APS")
    page.get_by_role("link", name=re.compile("Leggi e aderisci")).click()
    checker.check("adhere", "Accordo di Programma 2025-2027")
    with page.expect_navigation():
        page.get_by_role("button", name="Aderisci all'Accordo").click()
    assert "Per aderire conferma la dichiarazione." in page.locator("#declaration-error").inner_text()
    checker.check("adhere (without the declaration)", "Accordo di Programma 2025-2027")
    page.locator("label[for=declaration]").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Aderisci all'Accordo").click()
    checker.check("adhered", "Accordo di Programma 2025-2027")
    assert "Adesione registrata" in page.content()

    # staff again: the list of who adhered, the annulment page
    page.context.clear_cookies()
    page.goto(f"{base}/accedi")
    page.locator("form[action$='/accedi'] input[name=email]").fill(STAFF_EMAIL)
    page.locator("form[action$='/accedi'] input[name=password]").fill("password-di-prova-1")
    with page.expect_navigation():
        page.locator("form[action$='/accedi'] button[type=submit]").click()
    page.goto(f"{base}/gestione/accordi/{agreement_id}")
    checker.check("detail (open)", "Accordo di Programma 2025-2027")
    assert "Hanno aderito: 1" in page.content()
    with app.app_context():
        adhesion_id = db.session.scalar(sa.select(AgreementAdhesion.id))
    page.goto(f"{base}/gestione/accordi/{agreement_id}/adesioni/{adhesion_id}/annulla")
    checker.check("annul", "Annulla l'adesione")
    assert checker.problems == {}, checker.problems
