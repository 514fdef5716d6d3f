"""In a real browser: an admitted entity answers yes for a meeting and adds it to its calendar."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.factories import make_entity, make_meeting

pytestmark = pytest.mark.e2e


def test_entity_answers_and_downloads_the_event(live_server, app, page, crema):
    from scheduler.auth.models import User
    from scheduler.auth.services import issue_login_token
    from scheduler.extensions import db

    entity = make_entity(app, "Cooperativa Il Faro", areas=("C",))
    meeting_id = make_meeting(app, area="C", venue=True)
    with app.app_context():
        token = issue_login_token(db.session.get(User, entity["user"]), "/area-riservata")
        db.session.commit()
    page.goto(f"{live_server.url}/accedi/link/{token}")
    page.get_by_role("button", name=re.compile("Accedi")).click()
    page.wait_for_url("**/area-riservata")
    page.get_by_role("link", name=re.compile("Rispondi")).first.click()
    page.locator("label[for=attending-yes]").click()
    page.get_by_label("Nome e cognome (persona 1)").fill("Sara Galli")
    page.get_by_label("Ruolo (persona 1)").fill("Coordinatrice")
    page.get_by_role("button", name="Invia la risposta").click()
    assert "Partecipazione confermata" in page.content()
    assert "L'ente parteciperà." in page.inner_text("#rsvp-status")

    page.goto(f"{live_server.url}/incontri/{meeting_id}")
    assert "Sala Pietro da Cemmo" in page.content()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Aggiungi al calendario")).click()
    ics_text = Path(download_info.value.path()).read_text(encoding="utf-8")
    calendar = Calendar.from_ical(ics_text)
    [event] = calendar.walk("VEVENT")
    assert event.errors == []
    assert "Sala Pietro da Cemmo" in str(event["LOCATION"])
