"""In a real browser on a phone-sized screen: staff filter the list by keyboard and admit an application."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationStatus
from tests.factories import make_entity

pytestmark = pytest.mark.e2e


def test_review_on_a_phone(browser, live_server, app, crema, make_user):
    make_user("staff@example.org", password="password-di-prova-1")
    make_entity(app, "Cooperativa Sociale Con Un Nome Molto Lungo Per Il Telefono", status=ApplicationStatus.SUBMITTED,
                areas=("A", "B", "C", "D"), comuni=("Crema", "Offanengo", "Izano", "Ripalta Cremasca"))
    make_entity(app, "Associazione Il Faro", status=ApplicationStatus.SUBMITTED, areas=("B",))

    context = browser.new_context(locale="it-IT", timezone_id="Europe/Rome", viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/accedi")
        page.get_by_label("E-mail", exact=False).first.fill("staff@example.org")
        page.get_by_label("Password").fill("password-di-prova-1")
        page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()
        page.wait_for_load_state()

        page.goto(live_server.url + "/gestione/candidature")
        assert page.locator("tbody tr").count() == 2
        # the page itself does not scroll sideways: the table scrolls inside its own box
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        # search with the keyboard only: type, then Enter submits the filter form
        page.get_by_label("Cerca").focus()
        page.keyboard.type("faro")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"q=faro"))
        assert page.locator("tbody tr").count() == 1

        # open the application and admit it, accepting the confirmation dialog
        page.get_by_role("link", name="Associazione Il Faro").click()
        page.wait_for_load_state()
        questions: list[str] = []

        def accept(dialog) -> None:
            questions.append(dialog.message)
            dialog.accept()

        page.on("dialog", accept)
        page.get_by_role("button", name="Ammetti").click()
        page.wait_for_load_state()
        assert questions and "Associazione Il Faro" in questions[0]
        assert page.get_by_role("status").filter(has_text="Candidatura ammessa.").is_visible()
        assert page.locator("#application-status").inner_text() == "Ammessa"
    finally:
        context.close()
    with app.app_context():
        statuses = {a.organization.name: a.status for a in db.session.scalars(sa.select(Application))}
        assert statuses["Associazione Il Faro"] is ApplicationStatus.ADMITTED
