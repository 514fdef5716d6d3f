"""In a real browser, at phone width: staff tell the 25 entities of area A where the next meeting is, and see
who received it, in a handful of taps."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from scheduler.announcements.services import send_due
from scheduler.calendar.models import RsvpStatus, Venue
from scheduler.calls.models import Comune
from scheduler.calls.services import current_call
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due
from tests.announcements.conftest import answer
from tests.factories import make_entity, make_meeting

pytestmark = pytest.mark.e2e


def test_staff_announce_the_venue_to_area_a(smtp_app_config, smtp_server, live_server, app, browser, crema,
                                             make_user):
    make_user("staff@example.org", password="password-di-prova-1")
    entities = [make_entity(app, f"Ente A{n:02d}", areas=("A",), email=f"ente-a{n:02d}@example.org")
                for n in range(25)]
    meeting_id = make_meeting(app, area="A", days_ahead=9)
    for entity in entities[:8]:
        answer(app, meeting_id, entity, RsvpStatus.YES)
    with app.app_context():
        crema_row = db.session.scalar(sa.select(Comune).where(Comune.name == "Crema"))
        db.session.add(Venue(call=current_call(), name="Centro Sociale San Bernardino", address="Via XI Febbraio 12",
                             comune=crema_row, accessibility_notes="Ingresso senza gradini."))
        db.session.commit()

    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/accedi")
    page.get_by_label("E-mail", exact=False).first.fill("staff@example.org")
    page.get_by_label("Password").fill("password-di-prova-1")
    page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()
    page.wait_for_load_state()

    started = time.monotonic()
    page.goto(f"{live_server.url}/gestione/calendario/incontri/{meeting_id}")
    page.get_by_role("link", name="Comunica la sede agli enti").click()
    page.get_by_label("Sede").select_option(label="Centro Sociale San Bernardino, Via XI Febbraio 12, Crema")
    page.get_by_role("button", name="Prepara il messaggio per questa sede").click()
    assert "Via XI Febbraio 12" in page.get_by_label("Testo").input_value()
    assert "25 destinatari" in page.content()
    page.get_by_role("button", name=re.compile("Imposta la sede e invia a 25 destinatari")).click()
    page.wait_for_url(re.compile(r"/gestione/comunicazioni/\d+$"))
    assert "La comunicazione con l'invito aggiornato è in invio" in page.content()
    assert "I messaggi sono in preparazione" in page.content()
    elapsed = time.monotonic() - started
    assert elapsed < 60  # the yardstick; in practice a few seconds

    with app.app_context():
        assert send_due() == 1  # the worker's loop writes the 25 messages, then delivers them
        deliver_all_due("w")
    received = smtp_server.wait_for(25)
    assert len({m["To"].addresses[0].addr_spec for m in received}) == 25
    part = next(p for p in received[0].walk() if p.get_content_type() == "text/calendar")
    event = Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    assert "Centro Sociale San Bernardino" in str(event["LOCATION"])

    page.reload()
    assert "Inviati: 25" in page.inner_text("#delivery-counts")
    assert page.locator("#delivery-log tbody tr").count() == 25
    page.screenshot(path="/tmp/venue-notice-log.png", full_page=True)
    context.close()
