"""Staff planning of the calendar: the overview, new meetings, edits, cancellations, and the e-mails they cause."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, MeetingStatus, Rsvp, RsvpStatus, Venue
from scheduler.calls.models import Call, Track
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Organization
from scheduler.timeutil import utcnow
from tests.factories import csrf_from, make_entity, make_meeting
from tests.queries import count_queries

PASSWORD = "password-di-prova-1"
#: Years ahead of the clock, so "future" dates stay future whenever the suite runs.
NEXT = utcnow().year + 2


@pytest.fixture
def staff(client, auth, make_user, crema):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    return client


def page_text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def track_id(app, key: str = "A-stesura") -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Track.id).where(Track.key == key))


def meeting_row(app, meeting_id: int) -> Meeting:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        db.session.expunge(meeting)
        return meeting


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def with_answers(app, meeting_id: int, names: list[str]) -> list[int]:
    """Admitted entities of area A that answered yes (their invitations then cleared from the outbox)."""
    organizations = []
    for name in names:
        entity = make_entity(app, name, areas=("A",))
        organizations.append(entity["organization"])
        with app.app_context():
            services.answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                            db.session.get(User, entity["user"]), True, [{"name": f"Referente di {name}",
                                                                         "role": "Presidente"}])
            db.session.commit()
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
    return organizations


def make_venue(app, name: str = "Sala Alessandrini", **fields) -> int:
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        venue = Venue(call=call, name=name, address=fields.pop("address", "Via Matilde di Canossa 10, Crema"),
                      **fields)
        db.session.add(venue)
        db.session.commit()
        return venue.id


def meeting_form(meeting: Meeting | None = None, **values) -> dict:
    data = {"day": "", "start": "09:30", "end": "13:00", "title": "", "venue": "", "capacity": "",
            "deadline_day": "", "deadline_time": "", "notes": ""}
    if meeting is not None:
        from scheduler.timeutil import ROME

        starts, ends = meeting.starts_at.astimezone(ROME), meeting.ends_at.astimezone(ROME)
        data.update(day=starts.date().isoformat(), start=starts.strftime("%H:%M"), end=ends.strftime("%H:%M"),
                    title=meeting.title or "", venue=str(meeting.venue_id or ""),
                    capacity=str(meeting.capacity or ""))
    data.update(values)
    return data


def post_edit(client, meeting_id: int, **values):
    path = f"/gestione/calendario/incontri/{meeting_id}"
    data = values.pop("data")
    data["csrf_token"] = csrf_from(client, path)
    return client.post(path, data=data, follow_redirects=True)


# --- the overview ------------------------------------------------------------------------------------------------


def test_planning_page_lists_every_track_and_the_seed_meetings_in_italian(staff, app):
    response = staff.get("/gestione/calendario")
    assert response.status_code == 200
    html = page_text(response)
    assert "Percorso Minori e Famiglia" in html
    assert "Percorso Innovazione & Giovani" not in html, "names are escaped"
    assert "Percorso Innovazione &amp; Giovani" in html
    assert "mercoledì 15 maggio 2024, 9:30-13:00" in html
    assert "martedì 7 maggio 2024, 14:30-18:00" in html
    assert html.count('class="meeting-when"') == 12
    assert html.count("Sede da definire") == 12
    assert html.count("Nuovo incontro") >= 4
    assert "4 incontri conclusi" not in html and html.count("3 incontri conclusi") == 4
    assert "orario abituale 9:30-13:00" in html


def test_upcoming_meetings_come_first_with_counts(staff, app):
    meeting_id = make_meeting(app, area="A", capacity=1)
    with_answers(app, meeting_id, ["Ente Uno"])
    entity = make_entity(app, "Ente in attesa", areas=("A",))
    with app.app_context():
        services.answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                        db.session.get(User, entity["user"]), True, [{"name": "Anna", "role": ""}])
        db.session.commit()
    html = page_text(staff.get("/gestione/calendario"))
    section = html[html.index("Tavolo Minori e Famiglia"):]
    upcoming = section[:section.index("</table>")]
    assert f"/gestione/calendario/incontri/{meeting_id}" in upcoming
    assert "1 su 1" in upcoming
    assert "In programma" in upcoming


def test_planning_page_runs_a_constant_number_of_queries(staff, app):
    def queries() -> int:
        with count_queries(app) as statements:
            assert staff.get("/gestione/calendario").status_code == 200
        return len(statements)

    venue = make_venue(app, comune_id=None)

    def add_meetings(number: int, names: list[str]) -> None:
        for days in range(1, number + 1):
            meeting_id = make_meeting(app, area="A", days_ahead=days)
            with app.app_context():
                db.session.get(Meeting, meeting_id).venue_id = venue
                db.session.commit()
        with_answers(app, meeting_id, names)

    add_meetings(1, ["Ente Uno"])
    few = queries()
    add_meetings(12, ["Ente Due", "Ente Tre"])
    many = queries()
    assert many == few, f"{few} queries with the seed, {many} with 12 more meetings"


# --- new meetings ------------------------------------------------------------------------------------------------


def new_meeting(client, app, **values):
    path = f"/gestione/calendario/percorsi/{track_id(app)}/incontri/nuovo"
    data = meeting_form(**values)
    data["csrf_token"] = csrf_from(client, path)
    return client.post(path, data=data)


def test_new_meeting_form_is_prefilled_with_the_tracks_slot(staff, app):
    html = page_text(staff.get(f"/gestione/calendario/percorsi/{track_id(app, 'B-stesura')}/incontri/nuovo"))
    assert 'value="14:30"' in html and 'value="18:00"' in html
    assert 'type="date"' in html


@pytest.mark.parametrize(("day", "expected"), [
    (date(NEXT, 1, 15), datetime(NEXT, 1, 15, 8, 30, tzinfo=UTC)),   # CET, UTC+1
    (date(NEXT, 6, 15), datetime(NEXT, 6, 15, 7, 30, tzinfo=UTC)),   # CEST, UTC+2
])
def test_new_meeting_stores_utc_instants_of_the_local_time(staff, app, day, expected):
    response = new_meeting(staff, app, day=day.isoformat(), start="09:30", end="13:00", title="Restituzione")
    assert response.status_code == 303
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting).where(Meeting.title == "Restituzione"))
        assert meeting.starts_at == expected
        assert meeting.ends_at == expected + timedelta(hours=3, minutes=30)
        assert meeting.key is None and meeting.sequence == 0 and meeting.status is MeetingStatus.SCHEDULED
    html = page_text(staff.get(response.headers["Location"]))
    assert "Incontro creato" in html
    assert "Restituzione" in html


def test_new_meeting_with_venue_capacity_and_deadline(staff, app):
    venue_id = make_venue(app)
    response = new_meeting(staff, app, day=f"{NEXT}-03-10", venue=str(venue_id), capacity="25",
                           deadline_day=f"{NEXT}-03-05")
    assert response.status_code == 303
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting).where(Meeting.key.is_(None)))
        assert meeting.venue_id == venue_id
        assert meeting.capacity == 25
        # a day without a time: the whole of that day, Rome time
        assert meeting.rsvp_deadline == datetime(NEXT, 3, 5, 22, 59, 59, 999999, tzinfo=UTC)


def test_end_before_start_is_refused_next_to_the_field_and_values_are_kept(staff, app):
    response = new_meeting(staff, app, day=f"{NEXT}-02-03", start="13:00", end="09:30", title="Da rifare")
    assert response.status_code == 400
    html = page_text(response)
    assert "L'incontro deve finire dopo l'inizio." in html
    assert 'id="end-error"' in html
    assert f'value="{NEXT}-02-03"' in html and 'value="Da rifare"' in html and 'value="13:00"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting).where(Meeting.key.is_(None))) == 0


def test_past_date_is_refused(staff, app):
    yesterday = (utcnow() - timedelta(days=1)).date()
    response = new_meeting(staff, app, day=yesterday.isoformat())
    assert response.status_code == 400
    html = page_text(response)
    assert "La data è già passata." in html
    assert 'id="day-error"' in html


@pytest.mark.parametrize("values", [
    {"day": "non una data"},
    {"day": "9999-12-31"},
    {"day": f"{NEXT}-02-03", "start": "25:00"},
    {"day": f"{NEXT}-02-03", "capacity": "0"},
    {"day": f"{NEXT}-02-03", "capacity": "99999999999999999999"},
    {"day": f"{NEXT}-02-03", "venue": "123456"},
    {"day": f"{NEXT}-02-03", "deadline_time": "10:00"},
    {"day": f"{NEXT}-02-03", "deadline_day": f"{NEXT}-02-04"},
    {"day": ""},
])
def test_bad_input_is_a_400_with_a_message_never_a_500(staff, app, values):
    response = new_meeting(staff, app, **values)
    assert response.status_code == 400
    assert 'class="invalid-feedback d-block"' in response.get_data(as_text=True)


def test_overlap_with_another_meeting_of_the_track_is_saved_with_a_warning(staff, app):
    first = new_meeting(staff, app, day=f"{NEXT}-04-08", start="09:30", end="13:00", title="Primo")
    assert first.status_code == 303
    second = new_meeting(staff, app, day=f"{NEXT}-04-08", start="12:00", end="15:00", title="Secondo")
    assert second.status_code == 303
    html = page_text(staff.get(second.headers["Location"]))
    assert "si sovrappone" in html
    assert f"8 aprile {NEXT}, 9:30-13:00 (Primo)" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting).where(Meeting.key.is_(None))) == 2


def test_no_warning_for_another_track_at_the_same_time(staff, app):
    new_meeting(staff, app, day=f"{NEXT}-04-08", title="Primo")
    path = f"/gestione/calendario/percorsi/{track_id(app, 'D-stesura')}/incontri/nuovo"
    data = meeting_form(day=f"{NEXT}-04-08")
    data["csrf_token"] = csrf_from(staff, path)
    html = page_text(staff.post(path, data=data, follow_redirects=True))
    assert "Incontro creato" in html and "si sovrappone" not in html


# --- editing ---------------------------------------------------------------------------------------------------


def test_edit_page_shows_the_answers(staff, app):
    meeting_id = make_meeting(app, area="A")
    with_answers(app, meeting_id, ["Cooperativa <b>Alfa</b>", "Ente Beta"])
    html = page_text(staff.get(f"/gestione/calendario/incontri/{meeting_id}"))
    assert "Cooperativa &lt;b&gt;Alfa&lt;/b&gt;" in html
    assert "Referente di Ente Beta (Presidente)" in html
    assert "Parteciperà" in html
    assert "Annulla l'incontro" in html and "data-confirm=" in html


def test_setting_the_venue_sends_one_updated_invitation_per_entity(staff, app):
    meeting_id = make_meeting(app, area="A")
    with_answers(app, meeting_id, ["Ente Uno", "Ente Due", "Ente Tre"])
    venue_id = make_venue(app)
    before = meeting_row(app, meeting_id)
    html = page_text(post_edit(staff, meeting_id, data=meeting_form(before, venue=str(venue_id))))
    assert "Incontro aggiornato: 3 destinatari riceveranno l'invito aggiornato." in html
    after = meeting_row(app, meeting_id)
    assert after.venue_id == venue_id
    assert after.sequence == before.sequence + 1
    messages = outbox(app)
    assert len(messages) == 3
    assert {m.ics_method for m in messages} == {"REQUEST"}
    assert all("Sala Alessandrini" in m.ics for m in messages)


def test_moving_the_time_sends_the_updated_invitation(staff, app):
    meeting_id = make_meeting(app, area="A")
    with_answers(app, meeting_id, ["Ente Uno", "Ente Due", "Ente Tre"])
    before = meeting_row(app, meeting_id)
    html = page_text(post_edit(staff, meeting_id, data=meeting_form(before, start="15:00", end="18:00")))
    assert "3 destinatari riceveranno l'invito aggiornato" in html
    after = meeting_row(app, meeting_id)
    assert after.sequence == before.sequence + 1
    assert after.starts_at != before.starts_at
    messages = outbox(app)
    assert len(messages) == 3 and {m.ics_method for m in messages} == {"REQUEST"}
    assert all(f"SEQUENCE:{after.sequence}" in m.ics for m in messages)


def test_moving_and_changing_venue_at_once_is_one_change(staff, app):
    meeting_id = make_meeting(app, area="A")
    with_answers(app, meeting_id, ["Ente Uno", "Ente Due"])
    venue_id = make_venue(app)
    before = meeting_row(app, meeting_id)
    html = page_text(post_edit(staff, meeting_id, data=meeting_form(before, start="15:00", end="18:00",
                                                                    venue=str(venue_id))))
    assert "2 destinatari riceveranno l'invito aggiornato" in html
    after = meeting_row(app, meeting_id)
    assert after.sequence == before.sequence + 1
    assert after.venue_id == venue_id
    assert len(outbox(app)) == 2


def test_a_venue_change_takes_the_same_queries_for_3_or_30_entities(staff, app):
    venue_id = make_venue(app)
    counts = {}
    for size in (3, 30):
        meeting_id = make_meeting(app, area="A", days_ahead=5 + size)
        with_answers(app, meeting_id, [f"Ente {size}-{n}" for n in range(size)])
        with app.app_context():
            meeting, venue = db.session.get(Meeting, meeting_id), db.session.get(Venue, venue_id)
            with count_queries(app) as statements:
                services.set_venue(meeting, venue)
                db.session.commit()
            postgres = db.engine.dialect.name == "postgresql"
            # SQLite cannot return the ids of a multi-row INSERT in order, so the ORM inserts row by row there
            counts[size] = [s.split()[0] for s in statements if postgres or not s.startswith("INSERT")]
        messages = outbox(app)
        assert len(messages) == size and len({m.to_address for m in messages}) == size
        assert all("La sede è stata comunicata: Sala Alessandrini" in m.body_text for m in messages)
        with app.app_context():
            db.session.execute(sa.delete(OutboxMessage))
            db.session.commit()
    assert counts[30] == counts[3], counts
    assert counts[3].count("SELECT") <= 12, counts


def test_changing_only_details_sends_nothing_and_keeps_the_sequence(staff, app):
    meeting_id = make_meeting(app, area="A")
    with_answers(app, meeting_id, ["Ente Uno"])
    before = meeting_row(app, meeting_id)
    data = meeting_form(before, notes="Portare i dati", capacity="40")
    html = page_text(post_edit(staff, meeting_id, data=data))
    assert "Incontro aggiornato." in html
    after = meeting_row(app, meeting_id)
    assert after.notes == "Portare i dati" and after.capacity == 40
    assert after.sequence == before.sequence
    assert outbox(app) == []


def test_a_new_title_is_a_change_of_the_event_its_holders_hear_of(staff, app):
    meeting_id = make_meeting(app, area="A")
    with_answers(app, meeting_id, ["Ente Uno"])
    before = meeting_row(app, meeting_id)
    html = page_text(post_edit(staff, meeting_id, data=meeting_form(before, title="Nuovo titolo")))
    assert "Incontro aggiornato: 1 destinatario riceverà l'invito aggiornato." in html
    after = meeting_row(app, meeting_id)
    assert after.title == "Nuovo titolo" and after.sequence == before.sequence + 1
    [message] = outbox(app)
    assert "nuovo titolo" in message.subject and "SUMMARY:Tavolo" in message.ics and "Nuovo titolo" in message.ics


def test_larger_capacity_promotes_the_waiting_list(staff, app):
    meeting_id = make_meeting(app, area="A", capacity=1)
    organizations = with_answers(app, meeting_id, ["Primo", "Secondo", "Terzo"])
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Rsvp.organization_id, Rsvp.status)).all())
    assert [statuses[o] for o in organizations] == [RsvpStatus.YES, RsvpStatus.WAITLIST, RsvpStatus.WAITLIST]
    before = meeting_row(app, meeting_id)
    html = page_text(post_edit(staff, meeting_id, data=meeting_form(before, capacity="2")))
    assert "1 ente passa dalla lista d'attesa ai posti confermati" in html
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Rsvp.organization_id, Rsvp.status)).all())
    assert [statuses[o] for o in organizations] == [RsvpStatus.YES, RsvpStatus.YES, RsvpStatus.WAITLIST]
    assert meeting_row(app, meeting_id).sequence == before.sequence
    [promoted] = outbox(app)
    assert promoted.ics_method == "REQUEST"


def test_edit_with_end_before_start_keeps_the_meeting_and_the_typed_values(staff, app):
    meeting_id = make_meeting(app, area="A")
    with_answers(app, meeting_id, ["Ente Uno"])
    before = meeting_row(app, meeting_id)
    path = f"/gestione/calendario/incontri/{meeting_id}"
    data = meeting_form(before, start="18:00", end="10:00", title="Titolo scritto")
    data["csrf_token"] = csrf_from(staff, path)
    response = staff.post(path, data=data)
    assert response.status_code == 400
    html = page_text(response)
    assert "L'incontro deve finire dopo l'inizio." in html and 'value="Titolo scritto"' in html
    after = meeting_row(app, meeting_id)
    assert (after.starts_at, after.sequence, after.title) == (before.starts_at, before.sequence, before.title)
    assert outbox(app) == []


def test_deadline_after_the_start_is_refused_on_edit(staff, app):
    meeting_id = make_meeting(app, area="A")
    before = meeting_row(app, meeting_id)
    late = (before.starts_at + timedelta(days=1)).date().isoformat()
    path = f"/gestione/calendario/incontri/{meeting_id}"
    data = meeting_form(before, deadline_day=late, deadline_time="10:00")
    data["csrf_token"] = csrf_from(staff, path)
    response = staff.post(path, data=data)
    assert response.status_code == 400
    assert "Il termine per le risposte deve precedere l'inizio" in page_text(response)


def test_cancel_sends_a_cancellation_to_everyone_and_marks_the_meeting(staff, app):
    meeting_id = make_meeting(app, area="A")
    with_answers(app, meeting_id, ["Ente Uno", "Ente Due", "Ente Tre"])
    before = meeting_row(app, meeting_id)
    path = f"/gestione/calendario/incontri/{meeting_id}"
    refused = staff.post(f"{path}/annulla", data={"csrf_token": csrf_from(staff, path), "reason": "  "})
    assert refused.status_code == 400
    assert "Indica il motivo: gli enti lo leggeranno nell'annullamento." in page_text(refused)
    assert len(outbox(app)) == 0 and meeting_row(app, meeting_id).status is MeetingStatus.SCHEDULED
    response = staff.post(f"{path}/annulla", data={"csrf_token": csrf_from(staff, path),
                                                   "reason": "La sala non è disponibile."}, follow_redirects=True)
    html = page_text(response)
    assert "Incontro annullato: 3 destinatari riceveranno l'annullamento." in html
    assert "La sala non è disponibile." in html
    assert "Annullato" in html
    after = meeting_row(app, meeting_id)
    assert after.status is MeetingStatus.CANCELLED and after.sequence == before.sequence + 1
    messages = outbox(app)
    assert len(messages) == 3 and {m.ics_method for m in messages} == {"CANCEL"}
    assert "Annullato" in page_text(staff.get("/gestione/calendario"))
    # cancelling twice sends nothing more; a cancelled meeting cannot be moved
    staff.post(f"{path}/annulla", data={"csrf_token": csrf_from(staff, path), "reason": "Di nuovo."})
    assert len(outbox(app)) == 3
    data = meeting_form(after, start="15:00", end="18:00")
    data["csrf_token"] = csrf_from(staff, path)
    assert staff.post(path, data=data).status_code == 409
    assert len(outbox(app)) == 3


def test_unknown_ids_are_404(staff, app):
    assert staff.get("/gestione/calendario/incontri/999999").status_code == 404
    assert staff.get("/gestione/calendario/percorsi/999999/incontri/nuovo").status_code == 404
    assert staff.get("/gestione/calendario/percorsi/999999/facilitatori").status_code == 404
    assert staff.get("/gestione/calendario/sedi/999999").status_code == 404
    csrf = csrf_from(staff, "/gestione/calendario")
    assert staff.post("/gestione/calendario/incontri/999999/annulla", data={"csrf_token": csrf}).status_code == 404


def test_staff_are_warned_when_the_sender_is_not_the_invitations_organizer(staff, app):
    with app.app_context():
        office = db.session.scalar(sa.select(Call)).office_email
    app.config["MAIL_DEFAULT_SENDER"] = "Tavoli <noreply@tavoli.localhost>"
    html = page_text(staff.get("/gestione/calendario"))
    assert "Le e-mail partono da noreply@tavoli.localhost" in html and f"organizzatore {office}" in html
    app.config["MAIL_DEFAULT_SENDER"] = f"Ufficio di Piano <{office.upper()}>"
    assert 'id="sender-warning"' not in staff.get("/gestione/calendario").get_data(as_text=True)
