"""In a real browser: an entity names two people with their e-mails; both receive their own invitation; one is
taken off and receives the CANCEL; on a phone the facilitator checks the other in by that person's own code."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from tests.factories import make_entity, make_meeting

pytestmark = pytest.mark.e2e

ANNA, LUCA = "anna.bianchi@example.org", "luca.verdi@example.org"


def deliver(app) -> None:
    from scheduler.mailing.worker import deliver_all_due

    with app.app_context():
        deliver_all_due("e2e-worker")


def calendar_method(message) -> tuple[str, Calendar]:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return part.get_param("method"), Calendar.from_ical(part.get_content())


def test_two_people_invited_one_removed_the_other_checked_in(smtp_app_config, smtp_server, live_server, app,
                                                            browser, crema, make_user):
    from scheduler.attendance.models import Attendance
    from scheduler.auth.models import Role, User
    from scheduler.auth.services import issue_login_token
    from scheduler.calendar.models import Meeting
    from scheduler.extensions import db

    entity = make_entity(app, "Cooperativa Il Faro", areas=("C",))
    meeting_id = make_meeting(app, area="C", venue=True)
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR, password="password-di-prova-1")
    with app.app_context():
        track = db.session.get(Meeting, meeting_id).track
        track.facilitators.append(db.session.get(User, facilitator))
        token = issue_login_token(db.session.get(User, entity["user"]), f"/incontri/{meeting_id}/adesione")
        db.session.commit()

    desk = browser.new_context(locale="it-IT")
    page = desk.new_page()
    page.goto(f"{live_server.url}/accedi/link/{token}")
    page.get_by_role("button", name=re.compile("Accedi")).click()
    page.wait_for_url(f"**/incontri/{meeting_id}/adesione")
    page.locator("label[for=attending-yes]").click()
    page.get_by_label("Nome e cognome (persona 1)").fill("Anna Bianchi")
    page.get_by_label("E-mail (persona 1, facoltativa)").fill(ANNA)
    page.get_by_label("Nome e cognome (persona 2)").fill("Luca Verdi")
    page.get_by_label("E-mail (persona 2, facoltativa)").fill(LUCA)
    page.get_by_role("button", name="Invia la risposta").click()
    assert "Partecipazione confermata" in page.content()
    deliver(app)
    invitations = {m["To"].addresses[0].addr_spec: m for m in smtp_server.wait_for(3)}
    assert {ANNA, LUCA, entity["email"]} == set(invitations)
    codes = {}
    for email in (ANNA, LUCA):
        method, calendar = calendar_method(invitations[email])
        assert method == "REQUEST"
        assert str(calendar.walk("VEVENT")[0]["ATTENDEE"]).lower() == f"mailto:{email}"
        text = invitations[email].get_body(("plain",)).get_content()
        codes[email] = re.search(r"Il tuo codice personale per la registrazione all'ingresso: (\w+)", text).group(1)

    # Luca cannot come: the entity takes him off the answer
    page.goto(f"{live_server.url}/incontri/{meeting_id}/adesione")
    page.get_by_label("Nome e cognome (persona 2)").fill("")
    page.get_by_label("E-mail (persona 2, facoltativa)").fill("")
    page.get_by_role("button", name="Invia la risposta").click()
    deliver(app)
    [cancel] = smtp_server.wait_for(4)[3:]
    assert cancel["To"].addresses[0].addr_spec == LUCA
    assert calendar_method(cancel)[0] == "CANCEL"
    desk.close()

    # at the door, on a phone: Anna reads her own code aloud
    phone = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    door = phone.new_page()
    door.goto(f"{live_server.url}/accedi")
    door.locator("#email").fill("facilitatrice@example.org")
    door.locator("#password").fill("password-di-prova-1")
    door.get_by_role("button", name=re.compile("Accedi")).click()
    door.goto(f"{live_server.url}/presenze/{meeting_id}")
    door.get_by_placeholder("Codice letto a voce").fill(codes[ANNA].lower())
    door.get_by_role("button", name="Cerca").click()
    # her own code stands for her: checked on the phone's copy of the codes, she is marked at once
    door.wait_for_selector("#scan-result:has-text('Presente: Anna Bianchi')")
    door.wait_for_selector("#sync-banner", state="hidden")
    phone.close()
    with app.app_context():
        present = list(db.session.scalars(sa.select(Attendance.person_name).where(
            Attendance.meeting_id == meeting_id, Attendance.undone_at.is_(None))))
    assert present == ["Anna Bianchi"]
    assert codes[LUCA] != codes[ANNA]
