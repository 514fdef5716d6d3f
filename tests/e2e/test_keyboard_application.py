"""In a real browser, with the keyboard only (Tab, Space, arrows, typing and Enter; never the mouse): an entity
fills in the whole application form, sends it and lands on the "sent" page; the application is stored."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scheduler.calls.models import Comune
from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationStatus, Organization

pytestmark = pytest.mark.e2e

#: Enough presses of Tab to cross the header and the 48 comuni; reaching it means the field is out of reach.
MAX_TABS = 200


class Keyboard:
    def __init__(self, page) -> None:
        self.page = page
        self.presses = 0

    def focused(self, selector: str) -> bool:
        return self.page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)

    def tab_to(self, selector: str) -> None:
        """Press Tab until the element matching `selector` has the focus, going forward only."""
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            self.presses += 1
            if self.focused(selector):
                return
        raise AssertionError(f"{selector} was never reached with Tab")

    def fill(self, field_id: str, text: str) -> None:
        self.tab_to(f"#{field_id}")
        self.page.keyboard.type(text)
        assert self.page.input_value(f"#{field_id}") == text

    def choose(self, field_id: str, value: str) -> None:
        """A select: the arrow keys move through its options, as on any desktop browser."""
        self.tab_to(f"#{field_id}")
        for _ in range(30):
            if self.page.input_value(f"#{field_id}") == value:
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"option {value} of #{field_id} not reached with the arrow keys")

    def tick(self, selector: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.press("Space")
        assert self.page.is_checked(selector), selector


def test_application_form_with_the_keyboard_only(live_server, app, page, crema):
    with app.app_context():
        comuni = {c.name: c.id for c in db.session.scalars(sa.select(Comune).where(Comune.name.in_(["Crema",
                                                                                                      "Soncino"])))}
    page.goto(live_server.url + "/candidatura")
    keys = Keyboard(page)

    keys.fill("name", "Associazione Tastiera Solidale")
    keys.choose("legal_form", "odv")
    keys.fill("codice_fiscale", "97111330151")
    keys.choose("register", "runts-a")
    keys.fill("register_number", "7788")
    keys.fill("registered_office", "Via Mazzini 12, Crema")
    keys.tick(f"#comune-{comuni['Crema']}")
    keys.tick(f"#comune-{comuni['Soncino']}")
    keys.fill("legal_name", "Elena Ferrari")
    keys.fill("legal_email", "presidenza@tastiera.example.org")
    keys.fill("contact_name", "Paolo Conti")
    keys.fill("contact_email", "paolo.conti@tastiera.example.org")
    keys.fill("contact_phone", "0373 987654")
    keys.tick("#area-C")
    keys.fill("competence_C", "Sportello per persone senza dimora dal 2010.")
    # past the deadline only the implementation phase is open, and it comes ticked
    assert page.locator("#phase_implementation").is_checked()
    keys.tick("#privacy")
    keys.tick("#truthful")
    keys.tab_to("form.application-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_url("**/candidatura/inviata")
    assert "paolo.conti@tastiera.example.org" in page.inner_text("main")
    assert keys.presses < MAX_TABS
    with app.app_context():
        application = db.session.scalar(
            sa.select(Application).join(Organization).where(Organization.name == "Associazione Tastiera Solidale")
        )
        assert application is not None
        assert application.status is ApplicationStatus.UNCONFIRMED
        assert application.organization.codice_fiscale == "97111330151"
        assert application.organization.legal_form.value == "odv"
        assert sorted(c.name for c in application.organization.comuni) == ["Crema", "Soncino"]
        assert [a.area.code for a in application.areas] == ["C"]
        assert application.areas[0].competence == "Sportello per persone senza dimora dal 2010."
        assert application.wants_implementation and not application.wants_drafting
