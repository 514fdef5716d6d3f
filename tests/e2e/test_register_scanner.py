"""The register's own scanner, in Chromium with a fake camera that films a QR code drawn with segno (the invitation's
QR of one named person): the facilitator opens "Scansiona", the person is marked present with their name and
entity shown in green, with no connection as well as with one; the same code again says "Già presente"; a code of
another meeting is refused in red with the reason. The decoder is the app's own (no BarcodeDetector on Linux)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
import segno

from tests.a11y.test_axe_pages import violations
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_phone_layout import SHOTS
from tests.e2e.test_register_phone import PHONE, _rows, _sign_in

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

WIDTH, HEIGHT = 640, 480


def write_y4m(text: str, path: Path, frames: int = 10) -> Path:
    """A short video (YUV4MPEG2, what Chromium's fake camera plays in a loop) of `text` as a QR code on white."""
    matrix = segno.make(text, error="m").matrix
    modules = len(matrix) + 8  # a quiet zone of four modules on each side
    scale = min(WIDTH, HEIGHT) * 9 // 10 // modules
    side = modules * scale
    left, top = (WIDTH - side) // 2, (HEIGHT - side) // 2
    luma = bytearray(b"\xeb" * (WIDTH * HEIGHT))
    for row, line in enumerate(matrix):
        for column, dark in enumerate(line):
            if not dark:
                continue
            x0, y0 = left + (column + 4) * scale, top + (row + 4) * scale
            for y in range(y0, y0 + scale):
                luma[y * WIDTH + x0:y * WIDTH + x0 + scale] = b"\x10" * scale
    chroma = b"\x80" * (WIDTH * HEIGHT // 4)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
def people_meeting(app, crema, make_user):
    """A meeting whose entity named two people with e-mails (each has a personal QR), and another meeting."""
    from scheduler.auth.models import Role, User
    from scheduler.calendar.models import Meeting, PersonPass
    from scheduler.calendar.services import answer
    from scheduler.extensions import db
    from scheduler.registry.models import Organization
    from tests.factories import make_entity, make_meeting

    meeting_id = make_meeting(app, area="A", days_ahead=0.01)
    other_id = make_meeting(app, area="A", days_ahead=8)
    entity = make_entity(app, "Cooperativa Il Faro")
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR, password="password-di-prova-1")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.track.facilitators.append(db.session.get(User, facilitator))
        organization = db.session.get(Organization, entity["organization"])
        user = db.session.get(User, entity["user"])
        people = [{"name": "Sara Galli", "role": "", "email": "sara.galli@example.org"},
                  {"name": "Luca Neri", "role": "", "email": "luca.neri@example.org"}]
        answer(meeting, organization, user, True, people)
        answer(db.session.get(Meeting, other_id), organization, user, True, people[:1])
        db.session.commit()
        sara = db.session.scalar(db.select(PersonPass).where(PersonPass.meeting_id == meeting_id,
                                                             PersonPass.name == "Sara Galli"))
        elsewhere = db.session.scalar(db.select(PersonPass).where(PersonPass.meeting_id == other_id))
        return {"id": meeting_id, "sara": f"{app.config['BASE_URL']}/presenze/{meeting_id}/codice/{sara.checkin_code}",
                "elsewhere": f"{app.config['BASE_URL']}/presenze/{other_id}/codice/{elsewhere.checkin_code}"}


@contextmanager
def door(browser, live_server, tmp_path: Path, text: str, meeting_id: int):
    """A facilitator's phone whose camera films `text`'s QR code (granted without asking), signed in, on the
    meeting's register: a Chromium of its own (the camera is chosen at launch), from the suite's Playwright."""
    video = write_y4m(text, tmp_path / "qr.y4m")
    camera = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = camera.new_context(**PHONE)
        context.grant_permissions(["camera"], origin=live_server.url)
        page = context.new_page()
        _sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/presenze/{meeting_id}")
        yield context, page
    finally:
        camera.close()


def _open_scanner(page):
    page.get_by_role("button", name="Scansiona il codice QR").click()
    expect(page.locator("#scanner-status")).to_contain_text("Inquadra il codice QR", timeout=15000)


def test_a_scanned_personal_qr_marks_that_person_offline_and_then_says_already_present(browser, live_server, app,
                                                                                       tmp_path, people_meeting):
    with door(browser, live_server, tmp_path, people_meeting["sara"], people_meeting["id"]) as (context, page):
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
        page.wait_for_function("""() => caches.open('tavoli-register-pages').then(c => c.match(location.href))
                                  .then(hit => !!hit)""", timeout=15000)  # kept on the phone
        context.set_offline(True)
        page.reload()  # the register and its decoder, from the phone's copy
        _open_scanner(page)
        result = page.locator("#scan-result")
        expect(result).to_contain_text("Presente: Sara Galli – Cooperativa Il Faro", timeout=15000)
        assert "alert-success" in result.get_attribute("class")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "register-scanner.png"), full_page=True)
        page.wait_for_timeout(600)  # the buttons' colour transitions over (axe measures colours as drawn)
        assert violations(page) == []  # the scanner open, its answer shown
        expect(page.locator("#sync-banner")).to_contain_text("1 segnatura non ancora inviata")
        assert _rows(app, people_meeting["id"]) == []
        # the code still in front of the camera, a few seconds later: already present, in red
        expect(result).to_contain_text("Già presente: Sara Galli", timeout=15000)
        assert "alert-danger" in result.get_attribute("class")

        context.set_offline(False)
        expect(page.locator("#sync-banner")).to_be_hidden(timeout=20000)
        assert _rows(app, people_meeting["id"]) == [("Sara Galli", "qr", False)]


def test_a_code_of_another_meeting_is_refused_in_red_with_the_reason(browser, live_server, app, tmp_path,
                                                                   people_meeting):
    with door(browser, live_server, tmp_path, people_meeting["elsewhere"], people_meeting["id"]) as (_context, page):
        _open_scanner(page)
        result = page.locator("#scan-result")
        expect(result).to_contain_text("Questo codice è di un altro incontro.", timeout=15000)
        assert "alert-danger" in result.get_attribute("class")
        assert _rows(app, people_meeting["id"]) == []


def test_a_scanned_personal_qr_checks_the_person_in_at_once_online(browser, live_server, app, tmp_path,
                                                                  people_meeting):
    with door(browser, live_server, tmp_path, people_meeting["sara"], people_meeting["id"]) as (_context, page):
        _open_scanner(page)
        expect(page.locator("#scan-result")).to_contain_text("Presente: Sara Galli – Cooperativa Il Faro",
                                                             timeout=15000)
        for _ in range(50):  # sent at once: the row arrives within moments
            if _rows(app, people_meeting["id"]):
                break
            page.wait_for_timeout(200)
        assert _rows(app, people_meeting["id"]) == [("Sara Galli", "qr", False)]
        sara = page.locator("form.person-toggle", has=page.get_by_text("Sara Galli")).locator("button")
        assert sara.get_attribute("aria-pressed") == "true"
        page.get_by_role("button", name="Chiudi la fotocamera").click()
        assert page.locator("#scanner").is_hidden()
        assert page.evaluate("() => document.querySelector('#scanner video').srcObject === null")  # camera off
