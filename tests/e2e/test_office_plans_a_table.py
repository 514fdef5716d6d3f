"""In a real browser, as the office: an implementation table for area B with a six-meeting series, a venue set,
an entity admitted for the implementation phase answers and receives the invitation, and the table is on the
home page with its next meeting first."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from scheduler.timeutil import utcnow
from tests.calendar.test_tables import second_tuesday
from tests.factories import make_entity

pytestmark = pytest.mark.e2e

PASSWORD = "password-di-prova-1"


def test_the_office_plans_an_implementation_table_and_an_entity_answers(live_server, app, page, crema, make_user):
    from scheduler.auth.models import Role, User
    from scheduler.auth.services import issue_login_token
    from scheduler.calendar.models import Meeting, Venue
    from scheduler.calls.models import Call, Track
    from scheduler.extensions import db
    from scheduler.mailing.models import OutboxMessage

    year = utcnow().year + 1
    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    with app.app_context():
        db.session.add(Venue(call=db.session.scalar(sa.select(Call)), name="Sala Alessandrini",
                             address="Via Matilde di Canossa 10, Crema", capacity=40))
        db.session.commit()
    entity = make_entity(app, "Cooperativa Fragilità Insieme", areas=("B",))

    page.goto(live_server.url + "/accedi")
    page.get_by_label("E-mail", exact=False).first.fill("staff@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form").filter(has=page.get_by_label("Password")).get_by_role("button").click()
    page.goto(live_server.url + "/gestione/calendario")
    page.get_by_role("link", name="Nuovo tavolo").click()
    page.get_by_label("Nome del tavolo").fill("Tavolo tematico Fragilità 2025")
    page.locator("label", has_text="B) Fragilità (Anziani e Persone con disabilità)").click()
    page.get_by_text("Fase di attuazione (tavoli tematici del triennio)").click()
    page.get_by_label("Orario abituale: inizio").fill("09:30")
    page.get_by_label("Orario abituale: fine").fill("12:30")
    page.get_by_role("button", name="Crea il tavolo").click()
    assert "Tavolo creato: Tavolo tematico Fragilità 2025." in page.content()

    page.get_by_role("link", name="Fissa una serie di incontri").click()
    page.get_by_label("Primo incontro").fill(second_tuesday(year, 1).isoformat())
    page.get_by_label("Fino al giorno").fill(f"{year}-06-30")
    page.get_by_text("Una volta al mese, nella stessa settimana del mese").click()
    page.get_by_role("button", name="Mostra le date").click()
    assert "6 incontri, il secondo martedì del mese" in page.inner_text("#preview")
    assert page.locator("#preview li").count() == 6
    page.get_by_role("button", name="Crea i 6 incontri").click()
    assert "6 incontri creati." in page.content()

    with app.app_context():
        track = db.session.scalar(sa.select(Track).where(Track.name == "Tavolo tematico Fragilità 2025"))
        meetings = list(db.session.scalars(sa.select(Meeting).where(Meeting.track_id == track.id)
                                           .order_by(Meeting.starts_at)))
        assert len(meetings) == 6 and len({m.uid for m in meetings}) == 6
        first_id = meetings[0].id
    page.goto(f"{live_server.url}/gestione/calendario/incontri/{first_id}")
    page.get_by_label("Sede", exact=True).select_option(label="Sala Alessandrini, Via Matilde di Canossa 10, Crema")
    page.get_by_role("button", name="Salva le modifiche").click()
    assert "Incontro aggiornato" in page.content()
    page.get_by_role("button", name=re.compile("Esci")).click()

    with app.app_context():
        token = issue_login_token(db.session.get(User, entity["user"]), "/area-riservata")
        db.session.commit()
    page.goto(f"{live_server.url}/accedi/link/{token}")
    page.get_by_role("button", name=re.compile("Accedi")).click()
    page.wait_for_url("**/area-riservata")
    page.goto(f"{live_server.url}/incontri/{first_id}/adesione")
    page.locator("label[for=attending-yes]").click()
    page.get_by_label("Nome e cognome (persona 1)").fill("Marta Bianchi")
    page.get_by_role("button", name="Invia la risposta").click()
    assert "Partecipazione confermata" in page.content()

    with app.app_context():
        invitation = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_address == entity["email"],
                                                                      OutboxMessage.ics_method == "REQUEST"))
        [event] = Calendar.from_ical(invitation.ics).walk("VEVENT")
        assert event.errors == []
        assert "Tavolo tematico Fragilità 2025" in str(event["SUMMARY"])
        assert "Sala Alessandrini" in str(event["LOCATION"])

    page.goto(live_server.url + "/")
    section = page.locator("section", has=page.get_by_role("heading", name="Tavolo tematico Fragilità 2025"))
    assert section.count() >= 1
    first_item = section.first.locator("li").first.inner_text()
    assert "gennaio" in first_item and str(year) in first_item


def test_a_second_call_is_shown_beside_the_first_and_the_old_addresses_stay(live_server, app, page, crema):
    from tests.calls.test_successive_calls import NEXT_SLUG, load_next_call

    load_next_call(app)
    page.goto(live_server.url + "/")
    assert "Piano di Zona 2025-2027" in page.inner_text("h1") or "Piano di Zona 2025-2027" in page.content()
    others = page.locator("#altri-avvisi")
    assert "Avviso per il Piano di Zona 2028-2030" in others.inner_text()
    others.get_by_role("link", name="Avviso per il Piano di Zona 2028-2030").click()
    page.wait_for_url(f"**/avvisi/{NEXT_SLUG}")
    assert "Piano di Zona 2028-2030" in page.content()
    for path in ("/candidatura", "/elenco", "/calendario"):
        page.goto(live_server.url + path)
        assert "Piano di Zona 2025-2027" in page.content(), path
    response = page.request.get(live_server.url + "/calendario/A.ics")
    assert response.status == 200 and "Piano di Zona 2025-2027" in response.text()
