"""In a real browser, on a 390 px phone: the main pages of each role are no wider than the screen, the header's slim
bar never runs the lead municipality into the language link, every table scrolls inside a focusable, labelled box
that shows when it has more columns than fit, and each select box shows one arrow only.

Screenshots of every page checked are written to /tmp/shots390/ (outside the repository) to look at by eye."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.auth.services import issue_login_token
from scheduler.calls.ambiti import default_ambito
from scheduler.extensions import db
from scheduler.registry.models import ApplicationStatus
from tests.factories import make_entity, make_meeting

pytestmark = pytest.mark.e2e

PASSWORD = "password-di-prova-1"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1,
         "locale": "it-IT", "timezone_id": "Europe/Rome"}
SHOTS = Path("/tmp/shots390")

PUBLIC = ["/", "/calendario", "/elenco", "/candidatura", "/accedi"]
STAFF = ["/gestione", "/gestione/candidature", "/gestione/calendario", "/gestione/posta", "/gestione/partecipazione",
         "/gestione/avvisi", "/gestione/comunicazioni", "/gestione/accordi", "/gestione/calendario/sedi"]

# What the page looks like to the checks below, measured in the browser in one go.
MEASURE = """() => {
  const rect = el => { if (!el) return null; const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
  // the text itself, not its box: a line that does not wrap runs out of its box and under what follows
  const textRect = el => { if (!el) return null; const range = document.createRange(); range.selectNodeContents(el);
    return rect(range); };
  const slim = document.querySelector('.it-header-slim-wrapper');
  const nameOf = el => {
    const label = (el.getAttribute('aria-label') || '').trim();
    if (label) return label;
    return (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .map(id => (document.getElementById(id) || {textContent: ''}).textContent.trim()).join(' ').trim();
  };
  const tables = [...document.querySelectorAll('main table:not([role=presentation])')].map(table => {
    const box = table.closest('.table-responsive');
    if (!box) return {caption: (table.caption || {}).textContent || table.outerHTML.slice(0, 80), box: null};
    const style = getComputedStyle(box);
    const hint = box.previousElementSibling && box.previousElementSibling.classList.contains('table-scroll-hint')
      ? box.previousElementSibling : null;
    return {
      caption: ((table.caption || {}).textContent || '').trim(),
      box: true, visible: box.getClientRects().length > 0,
      overflowX: style.overflowX, tabindex: box.getAttribute('tabindex'), role: box.getAttribute('role'),
      name: nameOf(box), right: box.getBoundingClientRect().right,
      overflows: box.scrollWidth > box.clientWidth + 1, classes: box.className,
      shadow: style.backgroundImage !== 'none',
      hint: hint ? {shown: !hint.hidden && hint.getClientRects().length > 0, text: hint.textContent.trim()} : null,
    };
  });
  const selects = [...document.querySelectorAll('select')].filter(s => !s.multiple && s.size <= 1)
    .filter(s => s.getClientRects().length > 0).map(s => {
      const style = getComputedStyle(s);
      return {id: s.id, native: style.appearance !== 'none', drawn: style.backgroundImage !== 'none'};
    });
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    brand: textRect(slim && slim.querySelector('.navbar-brand')),
    brandText: slim ? (slim.querySelector('.navbar-brand') || {textContent: ''}).textContent.trim() : '',
    language: rect(slim && slim.querySelector('form[action$="/lingua"] button')),
    // "Accedi" when signed out, "Esci" (the second form) when signed in
    access: rect(slim && slim.querySelector(
      '.it-header-slim-right-zone > a, .it-header-slim-right-zone form + form .btn')),
    tables, selects,
  };
}"""


def _too_close(a: dict, b: dict, gap: float = 6) -> bool:
    """Whether two boxes overlap, or sit side by side with less than `gap` px between them (text run into a link)."""
    return a["left"] < b["right"] + gap and b["left"] < a["right"] + gap and a["top"] < b["bottom"] - 0.5 \
        and b["top"] < a["bottom"] - 0.5


def layout_problems(page, path: str) -> list[str]:
    """Everything wrong with the page as it is now, one line each."""
    m = page.evaluate(MEASURE)
    found = []
    if m["scrollWidth"] > m["innerWidth"]:
        found.append(f"{path}: the page is {m['scrollWidth'] - m['innerWidth']}px wider than the screen")
    brand, language, access = m["brand"], m["language"], m["access"]
    if not brand or not language:
        found.append(f"{path}: no slim-bar text or language link in the header")
    else:
        if brand["width"] == 0 or brand["height"] == 0:
            found.append(f"{path}: the slim bar's text «{m['brandText']}» is not shown")
        for name, other in (("the language link", language), ("the sign-in/out button", access)):
            if other and _too_close(brand, other):
                found.append(f"{path}: «{m['brandText']}» runs into {name}: {brand} / {other}")
        for name, box in (("slim-bar text", brand), ("language link", language), ("sign-in/out button", access)):
            if box and (box["left"] < -0.5 or box["right"] > m["innerWidth"] + 0.5):
                found.append(f"{path}: the {name} goes past the screen's edge: {box}")
    for table in m["tables"]:
        where = f"{path}: table «{table['caption']}»"
        if not table["box"]:
            found.append(f"{where} is in no .table-responsive box")
            continue
        if not table["visible"]:
            continue  # in a closed <details>
        if table["overflowX"] not in ("auto", "scroll"):
            found.append(f"{where}: its box does not scroll (overflow-x: {table['overflowX']})")
        if table["tabindex"] != "0" or table["role"] != "region" or not table["name"]:
            found.append(f"{where}: its box is not a focusable, labelled region "
                         f"(tabindex={table['tabindex']}, role={table['role']}, name={table['name']!r})")
        if table["right"] > m["innerWidth"] + 0.5:
            found.append(f"{where}: its box goes past the screen's edge ({table['right']}px)")
        hinted = "is-overflowing" in table["classes"] and table["shadow"] and table["hint"] and table["hint"]["shown"]
        if table["overflows"] and not hinted:
            found.append(f"{where} is wider than its box and does not say so: {table}")
        if not table["overflows"] and (table["hint"] or {}).get("shown"):
            found.append(f"{where} fits its box and yet says to scroll it")
    for select in m["selects"]:
        arrows = int(select["native"]) + int(select["drawn"])
        if arrows != 1:
            found.append(f"{path}: select #{select['id']} shows {arrows} arrows "
                         f"(native: {select['native']}, background: {select['drawn']})")
    return found


def visit(page, base: str, path: str, role: str) -> list[str]:
    response = page.goto(base + path)
    assert response.ok, (path, response.status)
    page.wait_for_load_state("networkidle")
    SHOTS.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()) or "home"
    page.screenshot(path=str(SHOTS / f"{role}-{slug}.png"), full_page=True)
    return layout_problems(page, path)


def sign_in_with_password(page, base: str, email: str) -> None:
    page.goto(base + "/accedi")
    page.get_by_label("E-mail", exact=False).first.fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def site(app, crema, make_user):
    """Entities with long names in two areas, one application to review, a meeting with a venue, a few messages
    with long subjects in the outbox, and a member of staff, a facilitator and an entity that can sign in."""
    from scheduler.calendar.models import Meeting
    from scheduler.mailing.services import enqueue

    entity = make_entity(app, "Cooperativa Sociale Il Girasole Società Cooperativa Onlus", areas=("A", "C"),
                         comuni=("Crema", "Offanengo"))
    make_entity(app, "Associazione di Promozione Sociale Genitori e Figli del Cremasco", areas=("A", "B"))
    make_entity(app, "Fondazione In Esame per l'Inclusione", status=ApplicationStatus.SUBMITTED, areas=("B",))
    meeting = make_meeting(app, area="A", venue=True, capacity=30)
    make_user("staff@example.org", password=PASSWORD)
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR, password=PASSWORD)
    with app.app_context():
        track = db.session.get(Meeting, meeting).track
        track.facilitators.append(db.session.get(User, facilitator))
        for n in range(3):
            enqueue(to=f"referente.{n}@cooperativa-sociale-esempio.it", to_name=f"Referente dell'ente numero {n}",
                    subject=f"Convocazione al tavolo Minori e Famiglia, incontro numero {n + 1}", text="Testo",
                    ambito=default_ambito())
        db.session.commit()
    return {"entity": entity, "meeting": meeting}


def test_public_pages_fit_a_phone(live_server, phone, site):
    problems = []
    for path in PUBLIC:
        problems += visit(phone, live_server.url, path, "public")
    # the application form sent empty: its selects are marked invalid and still show one arrow
    phone.goto(live_server.url + "/candidatura")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Invia la manifestazione di interesse").click()
    assert phone.locator("select.is-invalid").count() > 0
    problems += [f"(with errors) {p}" for p in layout_problems(phone, "/candidatura")]
    assert not problems, "\n".join(problems)


def test_the_entitys_and_the_facilitators_pages_fit_a_phone(live_server, browser, app, site):
    problems = []
    context = browser.new_context(**PHONE)
    page = context.new_page()
    with app.app_context():
        token = issue_login_token(db.session.get(User, site["entity"]["user"]))
        db.session.commit()
    page.goto(f"{live_server.url}/accedi/link/{token}")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Accedi")).click()
    problems += visit(page, live_server.url, "/area-riservata", "entity")
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in_with_password(page, live_server.url, "facilitatrice@example.org")
    problems += visit(page, live_server.url, "/presenze", "facilitator")
    problems += visit(page, live_server.url, f"/presenze/{site['meeting']}", "facilitator")
    context.close()
    assert not problems, "\n".join(problems)


def test_staff_pages_fit_a_phone(live_server, phone, app, site):
    sign_in_with_password(phone, live_server.url, "staff@example.org")
    problems = []
    for path in [*STAFF, f"/gestione/candidature/{site['entity']['application']}"]:
        problems += visit(phone, live_server.url, path, "staff")
    assert not problems, "\n".join(problems)


def test_a_wide_table_says_it_scrolls_and_scrolls_with_the_keyboard(live_server, phone, app, site):
    sign_in_with_password(phone, live_server.url, "staff@example.org")
    phone.goto(live_server.url + "/gestione/posta")
    box = phone.locator(".table-responsive").first
    assert box.get_attribute("aria-label") == "Tabella scorrevole: Messaggi in uscita, dal più recente"
    assert box.evaluate("b => b.scrollWidth > b.clientWidth"), "the outbox should not fit 390 px"
    hint = phone.locator(".table-scroll-hint").first
    assert hint.is_visible()
    assert "Scorri" in hint.inner_text()
    assert "is-overflowing" in box.get_attribute("class")
    assert "has-more-end" in box.get_attribute("class")
    assert "has-more-start" not in box.get_attribute("class")

    box.focus()
    assert phone.evaluate("document.activeElement.classList.contains('table-responsive')")
    for _ in range(8):
        phone.keyboard.press("ArrowRight")
    phone.wait_for_function("b => b.scrollLeft > 0", arg=box.element_handle())
    phone.wait_for_function("b => b.classList.contains('has-more-start')", arg=box.element_handle())
    phone.keyboard.press("End")
    phone.wait_for_function("b => b.scrollLeft + b.clientWidth >= b.scrollWidth - 1", arg=box.element_handle())
    phone.wait_for_function("b => !b.classList.contains('has-more-end')", arg=box.element_handle())
    # the focused box is ringed (Bootstrap Italia's focus ring), so that keyboard users see where they are
    assert box.evaluate("b => getComputedStyle(b).boxShadow") != "none"

    # on a desk the same table fits: no hint, no shadow
    phone.set_viewport_size({"width": 1400, "height": 900})
    phone.wait_for_function("b => !b.classList.contains('is-overflowing')", arg=box.element_handle())
    assert not hint.is_visible()
    assert box.evaluate("b => getComputedStyle(b).backgroundImage") == "none"


@pytest.mark.parametrize("width", [320, 390])
def test_a_long_municipality_name_wraps_in_the_slim_bar(live_server, browser, app, site, width):
    from scheduler.calls.models import Call

    with app.app_context():
        db.session.scalar(sa.select(Call)).lead_municipality = "Comune di Sant'Angelo Lodigiano e Unione dei Comuni"
        db.session.commit()
    context = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": 844}})
    page = context.new_page()
    problems = visit(page, live_server.url, "/", f"long-name-{width}")
    sign_in_with_password(page, live_server.url, "staff@example.org")
    problems += visit(page, live_server.url, "/gestione/candidature", f"long-name-{width}")
    context.close()
    assert not problems, "\n".join(problems)


def test_the_slim_bar_stays_one_line_on_a_desk(live_server, page, site):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/")
    m = page.evaluate(MEASURE)
    brand, language = m["brand"], m["language"]
    assert m["brandText"] == "Comune di Crema – ente capofila"
    assert brand["height"] < 40, brand  # one line
    assert abs((brand["top"] + brand["bottom"]) / 2 - (language["top"] + language["bottom"]) / 2) < 8
    assert brand["left"] < 200 < 1000 < language["left"]  # text on the left, links on the right, as before
    assert page.locator(".it-header-slim-wrapper").bounding_box()["height"] < 70
