"""The office works on any call, not only the current one; an entity's calendar and a meeting's page follow the
call each meeting belongs to."""

from __future__ import annotations

import icalendar
import sqlalchemy as sa

from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calls.models import Call, Track
from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationStatus, Organization
from tests.calls.test_successive_calls import NEXT_SLUG, load_next_call
from tests.factories import csrf_from, make_entity, text_of

PASSWORD = "password-di-prova-1"




def first_meeting(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Meeting.id).join(Track).join(Call).where(Call.slug == slug)
                                 .order_by(Meeting.starts_at, Meeting.id))


def test_staff_manage_a_call_that_is_not_the_current_one(staff, app, crema):
    load_next_call(app)
    entity = make_entity(app, "Cooperativa del Nuovo Piano", status=ApplicationStatus.SUBMITTED)  # the next call's
    calls = text_of(staff.get("/gestione/avvisi"))
    assert f'href="/avvisi/{NEXT_SLUG}/gestione"' in calls

    dashboard = staff.get(f"/avvisi/{NEXT_SLUG}/gestione")
    page = text_of(dashboard)
    assert dashboard.status_code == 200
    assert "Stai gestendo l'avviso «Avviso per il Piano di Zona 2028-2030», che non è l'avviso corrente" in page
    # its links stay within that call
    assert f'href="/avvisi/{NEXT_SLUG}/gestione/candidature' in page
    review = text_of(staff.get(f"/avvisi/{NEXT_SLUG}/gestione/candidature?stato=tutte"))
    assert "Cooperativa del Nuovo Piano" in review
    assert "Cooperativa del Nuovo Piano" not in text_of(staff.get("/gestione/candidature?stato=tutte"))
    assert "che non è l'avviso corrente" not in text_of(staff.get("/gestione"))

    # a meeting of the other call is edited at that call's address; at the current call's it is not found
    meeting_id = first_meeting(app, NEXT_SLUG)
    assert staff.get(f"/gestione/calendario/incontri/{meeting_id}").status_code == 404
    path = f"/avvisi/{NEXT_SLUG}/gestione/calendario/incontri/{meeting_id}"
    edit = staff.get(path)
    assert edit.status_code == 200 and f'action="{path}/annulla"' in text_of(edit)
    # the application of the other call opens at its call's address
    assert staff.get(f"/avvisi/{NEXT_SLUG}/gestione/candidature/{entity['application']}").status_code == 200
    assert staff.get(f"/avvisi/{crema}/gestione/candidature/{entity['application']}").status_code == 404
    assert staff.get("/avvisi/nessun-avviso/gestione").status_code == 404


def test_only_staff_open_the_office_pages_of_another_call(app, client, crema, auth, make_user):
    load_next_call(app)
    assert client.get(f"/avvisi/{NEXT_SLUG}/gestione").status_code in (302, 401)
    make_user("facilitatore@example.org", role=Role.FACILITATOR)
    auth.login("facilitatore@example.org", PASSWORD)
    assert client.get(f"/avvisi/{NEXT_SLUG}/gestione/candidature").status_code == 403


def test_the_main_menu_stays_in_the_call_being_read(app, client, crema):
    load_next_call(app)
    page = text_of(client.get(f"/avvisi/{NEXT_SLUG}/elenco"))
    assert f'href="/avvisi/{NEXT_SLUG}/calendario"' in page
    assert 'href="/calendario"' in text_of(client.get("/elenco"))


def test_a_meeting_page_of_another_call_links_to_that_calls_calendar(app, client, crema):
    load_next_call(app)
    page = text_of(client.get(f"/incontri/{first_meeting(app, NEXT_SLUG)}"))
    assert f'href="/avvisi/{NEXT_SLUG}/calendario' in page and "Piano di Zona 2028-2030" in page
    current = text_of(client.get(f"/incontri/{first_meeting(app, crema)}"))
    assert 'href="/calendario' in current and f"/avvisi/{NEXT_SLUG}" not in current


def test_an_entitys_private_feed_holds_its_meetings_of_every_call(app, client, crema):
    entity = make_entity(app, "Associazione Due Piani")
    load_next_call(app)
    old, new = first_meeting(app, crema), first_meeting(app, NEXT_SLUG)
    with app.app_context():
        org = db.session.get(Organization, entity["organization"])
        org.feed_token = "due-piani-token-0123456789abcdef"
        db.session.add_all([Rsvp(meeting_id=old, organization_id=org.id, status=RsvpStatus.YES),
                            Rsvp(meeting_id=new, organization_id=org.id, status=RsvpStatus.YES)])
        db.session.commit()
        uids = {db.session.get(Meeting, old).uid, db.session.get(Meeting, new).uid}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 1
    first = client.get("/feed/due-piani-token-0123456789abcdef.ics")
    assert first.status_code == 200
    calendar = icalendar.Calendar.from_ical(first.get_data())
    assert {str(e["UID"]) for e in calendar.walk("VEVENT")} == uids
    # a change of the other call's meeting changes the feed (its ETag)
    with app.app_context():
        db.session.get(Meeting, new).title = "Incontro di avvio del nuovo Piano"
        db.session.commit()
    again = client.get("/feed/due-piani-token-0123456789abcdef.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    summaries = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(again.get_data()).walk("VEVENT")}
    assert any(s.endswith("Incontro di avvio del nuovo Piano") for s in summaries), summaries
    assert client.get("/feed/due-piani-token-0123456789abcdef.ics",
                      headers={"If-None-Match": again.headers["ETag"]}).status_code == 304


def test_a_forged_form_of_another_call_is_refused(staff, app, crema):
    """A form of the current call's page posted to another call's address finds nothing there."""
    load_next_call(app)
    meeting_id = first_meeting(app, crema)
    path = f"/avvisi/{NEXT_SLUG}/gestione/calendario/incontri/{meeting_id}/annulla"
    response = staff.post(path, data={"csrf_token": csrf_from(staff, "/gestione/calendario"), "reason": "Prova"})
    assert response.status_code == 404
    with app.app_context():
        assert not db.session.get(Meeting, meeting_id).is_cancelled
