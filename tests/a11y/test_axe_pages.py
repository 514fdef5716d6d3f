"""Accessibility in Chromium: every public page, the entity's pages and the main staff pages pass axe-core's
WCAG 2.1 A and AA rules without a serious or critical violation."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from scheduler.auth.models import Role, User
from scheduler.auth.services import issue_login_token
from scheduler.calendar.models import Meeting
from scheduler.extensions import db
from scheduler.registry.models import ApplicationStatus
from tests.factories import make_entity, make_meeting

pytestmark = pytest.mark.e2e

PASSWORD = "password-di-prova-1"
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}
SERIOUS = ("serious", "critical")
AXE = Axe()


def violations(page) -> list[str]:
    """Serious and critical violations on the page as it is now, one line per rule with where it happens."""
    results = AXE.run(page, options=WCAG_21_AA).response
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in SERIOUS:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:4]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


class Auditor:
    """Visits pages, checks each is the page meant (its heading), and keeps every page's violations."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.found: dict[str, list[str]] = {}
        self.audited: list[str] = []

    def visit(self, path: str, heading: str, status: int = 200) -> None:
        response = self.page.goto(self.base + path)
        assert response.status == status, (path, response.status)
        self.check(path, heading)

    def check(self, label: str, heading: str) -> None:
        self.page.wait_for_load_state("load")
        assert heading in self.page.locator("h1").first.inner_text(), (label, self.page.locator("h1").all_inner_texts())
        self.audited.append(label)
        problems = violations(self.page)
        if problems:
            self.found[label] = problems

    def assert_clean(self) -> None:
        report = "\n".join(f"{label}:\n  " + "\n  ".join(lines) for label, lines in self.found.items())
        assert self.found == {}, "\n" + report


@pytest.fixture
def pages_data(app, crema):
    entity = make_entity(app, "Cooperativa Il Faro", areas=("A", "C"))
    make_entity(app, "Associazione Il Ponte", areas=("B",))
    make_entity(app, "Fondazione In Esame", status=ApplicationStatus.SUBMITTED)
    meeting = make_meeting(app, area="A", venue=True, capacity=10)
    return {"entity": entity, "meeting": meeting}


def sign_in_entity(page, base: str, app, user_id: int, next_path: str = "/area-riservata") -> None:
    with app.app_context():
        token = issue_login_token(db.session.get(User, user_id), next_path)
        db.session.commit()
    page.goto(f"{base}/accedi/link/{token}")
    page.get_by_role("button", name=re.compile("Accedi")).click()
    page.wait_for_url(f"**{next_path}")


@pytest.fixture(params=["desktop", "phone"])
def any_screen(request, browser):
    """A page on a desktop screen and on a phone (the menu folds, the tables stack)."""
    viewport = {"width": 1280, "height": 900} if request.param == "desktop" else {"width": 390, "height": 844}
    context = browser.new_context(locale="it-IT", timezone_id="Europe/Rome", viewport=viewport,
                                  is_mobile=request.param == "phone", has_touch=request.param == "phone")
    yield context.new_page()
    context.close()


def test_public_pages(live_server, any_screen, app, pages_data):
    page = any_screen
    audit = Auditor(page, live_server.url)
    audit.visit("/", "Avviso di manifestazione di interesse")
    audit.visit("/candidatura", "Manifestazione di interesse")
    with page.expect_navigation():
        page.get_by_role("button", name="Invia la manifestazione di interesse").click()
    assert page.locator(".invalid-feedback, .form-feedback, [aria-invalid=true]").count() > 0
    audit.check("/candidatura (with errors)", "Manifestazione di interesse")
    audit.visit("/elenco", "Elenco dei soggetti")
    audit.visit("/calendario", "Calendario degli incontri")
    audit.visit(f"/incontri/{pages_data['meeting']}", "Minori e Famiglia")
    audit.visit("/accedi", "Accedi")
    link_form = page.locator("form[action$='/accedi/link']")
    link_form.get_by_label(re.compile("e-mail", re.I)).fill("nessuno@example.org")
    with page.expect_navigation():
        link_form.get_by_role("button").click()
    audit.check("/accedi/link (link sent)", "Controlla la posta")
    audit.visit("/accedi/link/not-a-real-token", "Non è stato possibile accedere", status=400)
    audit.visit("/privacy", "Informativa sul trattamento dei dati personali")
    audit.visit("/pagina-che-non-esiste", "Errore 404", status=404)
    audit.assert_clean()
    assert len(audit.audited) == 11


def test_entity_pages(live_server, any_screen, app, pages_data):
    page = any_screen
    sign_in_entity(page, live_server.url, app, pages_data["entity"]["user"])
    audit = Auditor(page, live_server.url)
    audit.check("/area-riservata", "Cooperativa Il Faro")
    audit.visit("/area-riservata/modifica", "Modifica la candidatura")
    audit.visit(f"/incontri/{pages_data['meeting']}/adesione", "Minori e Famiglia")
    page.locator("label[for=attending-yes]").click()
    page.get_by_label("Nome e cognome (persona 1)").fill("Sara Galli")
    with page.expect_navigation():
        page.get_by_role("button", name="Invia la risposta").click()
    assert "Partecipazione confermata" in page.content()
    audit.check("RSVP (answered)", "Minori e Famiglia")
    audit.visit(f"/incontri/{pages_data['meeting']}", "Minori e Famiglia")
    audit.visit("/area-riservata", "Cooperativa Il Faro")
    audit.visit("/gestione/candidature", "Errore 403", status=403)
    audit.assert_clean()


def sign_in_staff(page, base: str) -> None:
    page.goto(base + "/accedi")
    page.get_by_label("E-mail", exact=False).first.fill("staff@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()


def test_staff_pages(live_server, page, app, pages_data, make_user):
    make_user("staff@example.org", password=PASSWORD)
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR, password=PASSWORD)
    with app.app_context():
        meeting = db.session.get(Meeting, pages_data["meeting"])
        meeting.track.facilitators.append(db.session.get(User, facilitator))
        track_id = meeting.track_id
        db.session.commit()
    sign_in_staff(page, live_server.url)
    audit = Auditor(page, live_server.url)
    audit.visit("/gestione/candidature", "Candidature")
    audit.visit(f"/gestione/candidature/{pages_data['entity']['application']}", "Cooperativa Il Faro")
    audit.visit("/gestione/candidature/nuova", "Registra una candidatura cartacea")
    audit.visit("/gestione/calendario", "Gestione calendario")
    audit.visit(f"/gestione/calendario/incontri/{pages_data['meeting']}", "Minori e Famiglia")
    audit.visit(f"/gestione/calendario/percorsi/{track_id}/incontri/nuovo", "Nuovo incontro")
    audit.visit(f"/gestione/calendario/percorsi/{track_id}/facilitatori", "Facilitatori del percorso")
    audit.visit("/gestione/calendario/sedi", "Sedi")
    audit.visit("/gestione/calendario/sedi/nuova", "Nuova sede")
    audit.visit("/gestione/partecipazione", "Partecipazione ai tavoli")
    audit.visit("/gestione/partecipazione?al=9999-12-31", "Partecipazione ai tavoli", status=400)
    audit.visit("/gestione/posta", "Posta in uscita")
    audit.visit(f"/presenze/{pages_data['meeting']}", "Registro presenze")
    audit.visit(f"/gestione/presenze/{pages_data['meeting']}", "Minori e Famiglia")
    audit.assert_clean()


def test_every_staff_page_linked_from_the_menu(live_server, page, app, pages_data, make_user):
    """Staff pages found by following links from the menu (one of each kind), so new pages are checked too."""
    make_user("staff@example.org", password=PASSWORD)
    sign_in_staff(page, live_server.url)
    audit = Auditor(page, live_server.url)
    kinds: set[str] = set()
    frontier = [href for href in page.eval_on_selector_all("#main-nav a[href]", "els => els.map(e => e.pathname)")
                if href.startswith("/gestione")]
    assert len(frontier) >= 4, frontier
    for _depth in range(3):
        following = []
        for path in frontier:
            kind = re.sub(r"\d+", "#", path)
            if kind in kinds or len(kinds) >= 40:
                continue
            kinds.add(kind)
            audit.visit(path, "")
            following += [href for href in page.eval_on_selector_all("main a[href]", "els => els.map(e => e.pathname)")
                          if href.startswith("/gestione") and not re.search(r"\.(csv|xlsx|pdf|eml|ics|json)$", href)]
        frontier = following
    assert len(audit.audited) >= 12, audit.audited
    audit.assert_clean()


def test_the_audit_sees_a_violation(page):
    """The check itself: an image without a text alternative and an unlabelled field are reported."""
    page.set_content('<html lang="it"><head><title>Prova</title></head><body><main><h1>Prova</h1>'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text"></main></body></html>')
    found = " ".join(violations(page))
    assert "image-alt (critical)" in found
    assert "label (critical)" in found
