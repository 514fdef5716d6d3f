"""In a real browser, on a phone: a person who speaks for two entities with long names signs in, chooses one, sees it
named in the header beside "Cambia ente" without the bar running past the screen, and switches to the other."""

from __future__ import annotations

import re

import pytest

from scheduler.auth.models import User
from scheduler.auth.services import issue_login_token
from scheduler.extensions import db
from tests.e2e.test_phone_layout import PHONE, SHOTS, layout_problems, visit
from tests.factories import make_entity, name_as_contact

pytestmark = pytest.mark.e2e

FIRST = "Organizzazione di Volontariato Amici del Parco del Serio e della Riserva Naturale"
SECOND = "Associazione di Promozione Sociale Genitori e Figli del Cremasco"
PRESIDENT = "presidente@example.org"


@pytest.fixture
def president(app, crema):
    first = make_entity(app, FIRST, email=PRESIDENT, areas=("A",))
    name_as_contact(app, make_entity(app, SECOND, email="aps@example.org", areas=("B",)), first)
    return first["user"]


@pytest.mark.parametrize("width", [320, 390])
def test_a_representative_of_two_entities_chooses_and_switches_on_a_phone(live_server, browser, app, president,
                                                                          width):
    context = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": 844}})
    page = context.new_page()
    with app.app_context():
        token = issue_login_token(db.session.get(User, president))
        db.session.commit()
    page.goto(f"{live_server.url}/accedi/link/{token}")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Accedi")).click()
    page.wait_for_url(re.compile(r"/accedi/ente"))
    assert page.get_by_role("heading", name="Per quale ente vuoi operare?").is_visible()
    problems = layout_problems(page, "/accedi/ente")
    with page.expect_navigation():
        page.get_by_role("button", name=f"Opera per {FIRST}").click()
    assert page.url.endswith("/area-riservata")
    problems += visit(page, live_server.url, "/area-riservata", f"two-entities-{width}")
    switcher = page.locator(".entity-switcher")
    assert switcher.is_visible()
    assert switcher.locator(".entity-switcher-name").inner_text() == FIRST  # cut on screen, whole for readers
    box = switcher.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box
    exit_button = page.get_by_role("button", name="Esci").bounding_box()
    beside = box["x"] + box["width"] <= exit_button["x"] + 0.5
    below = box["y"] >= exit_button["y"] + exit_button["height"] - 0.5
    assert beside or below, (box, exit_button)  # never over "Esci"
    with page.expect_navigation():
        switcher.click()
    with page.expect_navigation():
        page.get_by_role("button", name=f"Opera per {SECOND}").click()
    assert page.get_by_role("heading", name=SECOND).is_visible()
    assert page.locator(".entity-switcher .entity-switcher-name").inner_text() == SECOND
    page.screenshot(path=str(SHOTS / f"two-entities-{width}-switched.png"))
    problems += layout_problems(page, "/area-riservata (second entity)")
    context.close()
    assert not problems, "\n".join(problems)
