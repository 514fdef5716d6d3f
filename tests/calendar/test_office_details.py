"""Details of the office's calendar pages a person notices: the words of a series, errors next to their field,
Italian messages for forged forms, one id per page element, the online room's address and who sees it, and
the history of facilitators and venues."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from scheduler.audit.models import AuditEntry
from scheduler.auth.models import Role, User
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, MeetingMode, Venue
from scheduler.calendar.services import CalendarError
from scheduler.calendar.table_forms import describe_rule
from scheduler.calendar.tables import Frequency, SeriesPlan
from scheduler.calls.models import Track
from scheduler.extensions import db
from scheduler.timeutil import utcnow
from tests.calendar.test_meeting_page import ROOM, answer, edit, messages_to
from tests.calendar.test_tables import new_table, series
from tests.factories import csrf_from, make_meeting, text_of

PASSWORD = "password-di-prova-1"




def fifth_weekday(weekday: int) -> date:
    """A day next year that is the fifth (so the last) such weekday of its month."""
    day = date(utcnow().year + 1, 1, 29)
    while day.weekday() != weekday or day.day < 29:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize(("weekday", "words"), [(6, "l'ultima domenica del mese"), (1, "l'ultimo martedì del mese")])
def test_a_monthly_series_reads_as_italian(app, weekday, words):
    first = fifth_weekday(weekday)
    with app.test_request_context():
        plan = SeriesPlan(first_day=first, last_day=first + timedelta(days=90), frequency=Frequency.MONTHLY,
                          start=time(9, 30), end=time(12, 30))
        assert describe_rule(plan) == words


def test_a_first_sunday_is_feminine(app):
    year = utcnow().year + 1
    first = date(year, 3, 1) + timedelta(days=(6 - date(year, 3, 1).weekday()) % 7)
    with app.test_request_context():
        plan = SeriesPlan(first_day=first, last_day=first + timedelta(days=60), frequency=Frequency.MONTHLY,
                          start=time(9, 30), end=time(12, 30))
        assert describe_rule(plan) == "la prima domenica del mese"


def test_how_often_is_told_next_to_its_choices(staff, app):
    track = new_table(staff, app)
    response = series(staff, track, action="anteprima", frequency="ogni-tanto")
    assert response.status_code == 400
    page = text_of(response)
    error = re.search(r'id="frequency-error">([^<]+)<', page)
    assert error and error.group(1).strip()
    assert 'aria-describedby="frequency-error"' in page


def test_a_forged_facilitator_is_refused_in_italian(staff, app):
    path = "/gestione/calendario/percorsi/nuovo"
    with app.app_context():
        area = db.session.scalar(sa.select(Track.area_id))
    response = staff.post(path, data={"csrf_token": csrf_from(staff, path), "name": "Tavolo", "areas": str(area),
                                      "phase": "implementation", "facilitators": "99999"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Scegli tra le voci dell'elenco." in page and "not a valid choice" not in page


def test_the_meeting_page_of_the_office_has_one_element_per_id(staff, app):
    meeting_id = make_meeting(app, area="A")
    pages = [text_of(staff.get(f"/gestione/calendario/incontri/{meeting_id}"))]
    with app.app_context():
        services.cancel(db.session.get(Meeting, meeting_id), "Sala non disponibile")
        db.session.commit()
    pages.append(text_of(staff.get(f"/gestione/calendario/incontri/{meeting_id}")))  # with the restore form
    for page in pages:
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert [i for i in set(ids) if ids.count(i) > 1] == []
    assert 'id="restore-day"' in pages[1] and 'for="restore-day"' in pages[1]


def test_an_online_room_must_be_a_secure_address(staff, app):
    meeting_id = make_meeting(app, area="A")
    response = edit(staff, meeting_id, mode="online", online_url="http://meet.example.org/tavolo")
    assert response.status_code == 400
    page = text_of(response)
    assert "Indica un indirizzo web che inizi con https://" in page and 'value="http://meet.example.org/tavolo"' in page
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.mode is MeetingMode.IN_PERSON and meeting.online_url is None
        with pytest.raises(CalendarError) as refused:  # the rule is the service's, whoever calls it
            services.change_meeting(meeting, mode=MeetingMode.ONLINE, online_url="http://meet.example.org/x")
        assert refused.value.field == "online_url"


def test_only_the_tables_own_facilitators_see_its_online_room(app, client, auth, make_user, crema):
    meeting_id = make_meeting(app, area="A")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        services.change_meeting(meeting, mode=MeetingMode.ONLINE, online_url=ROOM)
        db.session.commit()
        track_id = meeting.track_id
    own = make_user("propria@example.org", role=Role.FACILITATOR)
    make_user("altra@example.org", role=Role.FACILITATOR)
    with app.app_context():
        track = db.session.get(Track, track_id)
        track.facilitators.append(db.session.get(User, own))
        db.session.commit()
    auth.login("altra@example.org", PASSWORD)
    assert ROOM not in client.get(f"/incontri/{meeting_id}").get_data(as_text=True)
    client.get("/esci")
    auth.login("propria@example.org", PASSWORD)
    assert ROOM in client.get(f"/incontri/{meeting_id}").get_data(as_text=True)


def test_the_waiting_list_is_not_told_to_connect_below(staff, app):
    meeting_id = make_meeting(app, area="A", capacity=1)
    answer(app, meeting_id, "Ente Confermato")
    waiting = answer(app, meeting_id, "Ente In Attesa")
    assert edit(staff, meeting_id, mode="online", online_url=ROOM, capacity="1").status_code == 303
    (told,) = messages_to(app, waiting["email"])[-1:]
    assert "trovi qui sotto come collegarti" not in told.body_text
    assert "in lista d'attesa e riceverà il collegamento se si libera un posto" in told.body_text
    assert ROOM not in told.body_text


def test_facilitators_of_a_table_are_audited_and_a_closed_table_keeps_them(staff, app, make_user):
    person = make_user("facilitatrice@example.org", role=Role.FACILITATOR)
    track = new_table(staff, app)
    path = f"/gestione/calendario/percorsi/{track}/facilitatori"
    assert staff.post(path, data={"csrf_token": csrf_from(staff, path), "facilitators": str(person)}
                      ).status_code == 303
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "track.facilitators_changed"))
        assert entry.subject_id == track and entry.details["changes"]["facilitators"] == [[], [person]]
        assert entry.actor.email == "staff@example.org"
    assert "Facilitatori cambiati" in text_of(staff.get(f"/gestione/calendario/percorsi/{track}"))
    close = f"/gestione/calendario/percorsi/{track}/chiudi"
    assert staff.post(close, data={"csrf_token": csrf_from(staff, f"/gestione/calendario/percorsi/{track}")}
                      ).status_code == 303
    refused = staff.post(path, data={"csrf_token": csrf_from(staff, path)})
    assert refused.status_code == 409 and "Il tavolo è chiuso" in text_of(refused)
    with app.app_context():
        assert [u.id for u in db.session.get(Track, track).facilitators] == [person]


def test_a_venue_edit_is_in_its_history(staff, app):
    with app.app_context():
        call_id = db.session.scalar(sa.select(Track.call_id))
        venue = Venue(call_id=call_id, name="Sala Rossa", address="Via Roma 1, Crema")
        db.session.add(venue)
        db.session.commit()
        venue_id = venue.id
    path = f"/gestione/calendario/sedi/{venue_id}"
    page = text_of(staff.get(path))
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', page))
    fields.update({"csrf_token": csrf_from(staff, path), "name": "Sala Verde", "address": "Via Roma 1, Crema"})
    response = staff.post(path, data=fields)
    assert response.status_code == 303, text_of(response)
    history = text_of(staff.get(path))
    assert "Sede modificata (nome)" in history
