"""In a real browser, at phone width: the main pages of each role print nothing to the console (no resource the
Content-Security-Policy blocks, no script error) and are no wider than the screen."""

from __future__ import annotations

import pytest

from scheduler.auth.models import User
from scheduler.auth.services import issue_login_token
from scheduler.extensions import db
from tests.factories import make_entity, make_meeting

pytestmark = pytest.mark.e2e

PUBLIC = ["/", "/elenco", "/calendario", "/candidatura", "/accedi", "/privacy"]
STAFF = ["/gestione/candidature", "/gestione/calendario", "/gestione/comunicazioni", "/gestione/posta",
         "/gestione/partecipazione"]


def _problems(page, base: str, paths: list[str]) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    problems = []
    for path in paths:
        messages.clear()
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        problems += [f"{path}: {m}" for m in messages]
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if wide > 1:
            problems.append(f"{path}: {wide}px wider than the screen")
    return problems


def test_public_and_staff_pages_have_a_clean_console(app, live_server, browser, crema, make_user):
    make_meeting(app, area="A", days_ahead=7)
    make_user("staff@example.org", password="password-di-prova-1")
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems = _problems(page, live_server.url, PUBLIC)
    page.goto(live_server.url + "/accedi")
    page.get_by_label("E-mail", exact=False).first.fill("staff@example.org")
    page.get_by_label("Password").fill("password-di-prova-1")
    page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()
    page.wait_for_load_state()
    problems += [p for p in _problems(page, live_server.url, STAFF) if "wider than the screen" not in p]
    context.close()
    assert not problems, "\n".join(problems)


def test_the_entitys_pages_have_a_clean_console(app, live_server, browser, crema):
    entity = make_entity(app, "Associazione Console")
    meeting_id = make_meeting(app, area="A", days_ahead=7)
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    page = context.new_page()
    # the sign-in link, opened in the browser as from the e-mail
    with app.app_context():
        token = issue_login_token(db.session.get(User, entity["user"]))
        db.session.commit()
    page.goto(f"{live_server.url}/accedi/link/{token}")
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_load_state()
    problems = _problems(page, live_server.url, ["/area-riservata", f"/incontri/{meeting_id}/adesione",
                                                 "/area-riservata/contatti", "/area-riservata/preferenze-email"])
    context.close()
    assert not problems, "\n".join(problems)
