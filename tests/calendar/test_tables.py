"""Tables managed by staff: create, edit, close; series of meetings; cancel with a reason and restore.

Through HTTP as the office works, asserting the page, the rows and the messages the entities receive.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import icalendar
import pytest
import sqlalchemy as sa
import vobject

from scheduler.audit.models import AuditEntry
from scheduler.auth.models import Role, User
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, MeetingStatus
from scheduler.calendar.tables import Frequency, SeriesPlan, series_days
from scheduler.calls.loader import load_call, parse_call_file
from scheduler.calls.models import Area, Phase, Track
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Organization
from scheduler.timeutil import ROME, utcnow
from tests.conftest import CALL_FILE
from tests.factories import csrf_from, make_entity, make_meeting

PASSWORD = "password-di-prova-1"
NEXT = utcnow().year + 1


@pytest.fixture
def staff(client, auth, make_user, crema):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    return client


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def area_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Area.id).where(Area.code == code))


def new_table(staff, app, **fields) -> int:
    data = {"name": "Tavolo tematico Fragilità", "areas": str(area_id(app, "B")), "phase": "implementation",
            "description": "Attuazione delle azioni per anziani e persone con disabilità.",
            "slot_start": "9:30", "slot_end": "12:30", **fields}
    data["csrf_token"] = csrf_from(staff, "/gestione/calendario/percorsi/nuovo")
    response = staff.post("/gestione/calendario/percorsi/nuovo", data=data)
    assert response.status_code == 303, text_of(response)
    with app.app_context():
        return db.session.scalar(sa.select(Track.id).where(Track.name == data["name"]))


def series(staff, track: int, action: str = "crea", **fields):
    path = f"/gestione/calendario/percorsi/{track}/serie"
    data = {"first_day": f"{NEXT}-01-12", "last_day": f"{NEXT}-06-30", "frequency": "monthly",
            "start": "9:30", "end": "12:30", "azione": action, **fields}
    data["csrf_token"] = csrf_from(staff, path)
    return staff.post(path, data=data)


def meetings_of(app, track: int) -> list[Meeting]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Meeting).where(Meeting.track_id == track).order_by(Meeting.starts_at)))
        db.session.expunge_all()
        return rows


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


# --- tables -------------------------------------------------------------------------------------------------------


def test_staff_create_a_table_and_it_is_audited(staff, app):
    track = new_table(staff, app)
    page = text_of(staff.get(f"/gestione/calendario/percorsi/{track}"))
    assert "Tavolo tematico Fragilità" in page and "Fase di attuazione" in page and "Tavolo creato" in page
    overview = text_of(staff.get("/gestione/calendario"))
    assert "Tavolo tematico Fragilità" in overview and "Serie di incontri" in overview
    with app.app_context():
        row = db.session.get(Track, track)
        assert row.phase is Phase.IMPLEMENTATION and row.area.code == "B" and row.key.startswith("app-")
        assert row.slot_start.hour == 9 and row.slot_end.minute == 30 and row.edited_in_app_at is not None
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.subject_type == "track",
                                                              AuditEntry.subject_id == track))
        staff_id = db.session.scalar(sa.select(User.id).where(User.email == "staff@example.org"))
        assert entry.action == "track.created" and entry.actor_id == staff_id and entry.details["name"]


def test_a_table_form_with_mistakes_keeps_what_was_typed(staff, app):
    path = "/gestione/calendario/percorsi/nuovo"
    response = staff.post(path, data={"csrf_token": csrf_from(staff, path), "name": "Tavolo Giovani",
                                      "areas": "99999", "phase": "implementation", "slot_start": "14:00",
                                      "slot_end": "13:00"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Scegli le aree dall'elenco." in page and 'value="Tavolo Giovani"' in page
    response = staff.post(path, data={"csrf_token": csrf_from(staff, path), "name": "Tavolo Giovani",
                                      "areas": str(area_id(app, "D")), "phase": "implementation",
                                      "slot_start": "14:00", "slot_end": "13:00"})
    assert response.status_code == 400
    assert "L'orario abituale deve finire dopo l'inizio." in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(Track).where(Track.name == "Tavolo Giovani")) is None


def test_reloading_the_call_file_never_changes_what_staff_edited(staff, app):
    with app.app_context():
        file_track = db.session.scalar(sa.select(Track).where(Track.key == "A-stesura"))
        track_id, area = file_track.id, file_track.area_id
    path = f"/gestione/calendario/percorsi/{track_id}"
    response = staff.post(path, data={"csrf_token": csrf_from(staff, path), "name": "Minori e Famiglia (rinominato)",
                                      "areas": str(area), "phase": "drafting"})
    assert response.status_code == 303
    app_track = new_table(staff, app)
    with app.app_context():
        _, report = load_call(parse_call_file(CALL_FILE))
        db.session.commit()
        assert db.session.get(Track, track_id).name == "Minori e Famiglia (rinominato)"
        assert db.session.get(Track, app_track).name == "Tavolo tematico Fragilità"
        assert any("A-stesura" in w and "gestione del calendario" in w for w in report.warnings)
        assert not any(db.session.get(Track, app_track).key in w for w in report.warnings)


# --- series -------------------------------------------------------------------------------------------------------


def test_the_second_tuesday_of_each_month_from_january_to_june():
    first = second_tuesday(NEXT, 1)
    plan = SeriesPlan(first_day=first, last_day=date(NEXT, 6, 30), frequency=Frequency.MONTHLY,
                      start=time(9, 30), end=time(12, 30))
    assert series_days(plan) == [second_tuesday(NEXT, m) for m in range(1, 7)]
    weekly = SeriesPlan(first_day=first, last_day=first + timedelta(days=28), frequency=Frequency.FORTNIGHTLY,
                        start=plan.start, end=plan.end)
    assert series_days(weekly) == [first, first + timedelta(days=14), first + timedelta(days=28)]


def test_a_series_is_previewed_then_planned_as_separate_events(staff, app):
    track = new_table(staff, app)
    first = second_tuesday(NEXT, 1)
    preview = series(staff, track, "anteprima", first_day=first.isoformat())
    assert preview.status_code == 200
    page = text_of(preview)
    assert "6 incontri, il secondo martedì del mese" in page and "Crea i 6 incontri" in page
    assert meetings_of(app, track) == []  # the preview saves nothing

    response = series(staff, track, first_day=first.isoformat())
    assert response.status_code == 303
    meetings = meetings_of(app, track)
    assert [m.starts_at.astimezone(ROME).date() for m in meetings] == [second_tuesday(NEXT, m) for m in range(1, 7)]
    assert {(m.starts_at.astimezone(ROME).hour, m.starts_at.astimezone(ROME).minute) for m in meetings} == {(9, 30)}
    assert len({m.uid for m in meetings}) == 6 and [m.number for m in meetings] == [1, 2, 3, 4, 5, 6]
    # each meeting is edited on its own: moving the third leaves the others where they were
    third = meetings[2]
    path = f"/gestione/calendario/incontri/{third.id}"
    moved = staff.post(path, data={"csrf_token": csrf_from(staff, path), "day": f"{NEXT}-03-17",
                                   "start": "14:30", "end": "17:30", "venue": ""})
    assert moved.status_code == 303
    after = meetings_of(app, track)
    assert after[2].starts_at.astimezone(ROME).hour == 14
    others = [m.starts_at for i, m in enumerate(meetings) if i != 2]
    assert [m.starts_at for i, m in enumerate(after) if i != 2] == others
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.call_id.is_not(None))))
        assert {"track.series_planned", "meeting.created", "meeting.changed"} <= actions


def test_a_series_that_overlaps_is_refused_and_nothing_is_saved(staff, app):
    track = new_table(staff, app)
    first = second_tuesday(NEXT, 1)
    assert series(staff, track, first_day=first.isoformat(), last_day=f"{NEXT}-01-31").status_code == 303
    response = series(staff, track, first_day=first.isoformat(), frequency="weekly", start="11:00", end="13:00")
    assert response.status_code == 409
    page = text_of(response)
    assert "La serie si sovrappone a incontri già in calendario per questo tavolo" in page
    assert 'id="first_day-error"' in page and f'value="{first.isoformat()}"' in page
    assert len(meetings_of(app, track)) == 1


@pytest.mark.parametrize(("fields", "message", "where"), [
    ({"first_day": "2020-01-14", "last_day": "2020-06-30"}, "Il primo incontro sarebbe già passato", "first_day"),
    ({"start": "12:30", "end": "9:30"}, "L'incontro deve finire dopo l'inizio.", "end"),
    ({"last_day": f"{NEXT}-01-01"}, "L'ultimo giorno deve venire dopo il primo.", "last_day"),
    ({"frequency": "weekly", "last_day": f"{NEXT + 3}-12-31"}, "al massimo 60 per volta", "last_day"),
])
def test_series_mistakes_are_shown_next_to_their_field(staff, app, fields, message, where):
    track = new_table(staff, app)
    response = series(staff, track, **{"first_day": second_tuesday(NEXT, 1).isoformat(), **fields})
    assert response.status_code == 400
    page = text_of(response)
    assert message in page and f'id="{where}-error"' in page
    assert meetings_of(app, track) == []


def test_a_table_with_meetings_to_come_is_not_closed_then_closes_and_reopens(staff, app):
    track = new_table(staff, app)
    series(staff, track, first_day=second_tuesday(NEXT, 1).isoformat(), last_day=f"{NEXT}-02-28")
    close = f"/gestione/calendario/percorsi/{track}/chiudi"
    response = staff.post(close, data={"csrf_token": csrf_from(staff, f"/gestione/calendario/percorsi/{track}")})
    assert response.status_code == 409
    assert "Il tavolo ha ancora 2 incontri in programma" in text_of(response)
    with app.app_context():
        assert db.session.get(Track, track).closed_at is None
    for meeting in meetings_of(app, track):
        path = f"/gestione/calendario/incontri/{meeting.id}"
        staff.post(f"{path}/annulla", data={"csrf_token": csrf_from(staff, path), "reason": "Tavolo sospeso."})
    response = staff.post(close, data={"csrf_token": csrf_from(staff, f"/gestione/calendario/percorsi/{track}")})
    assert response.status_code == 303
    page = text_of(staff.get(f"/gestione/calendario/percorsi/{track}"))
    assert "Il tavolo è chiuso dal" in page and "Riapri il tavolo" in page
    # a closed table takes no new meeting, one by one or in series
    path = f"/gestione/calendario/percorsi/{track}/incontri/nuovo"
    refused = staff.post(path, data={"csrf_token": csrf_from(staff, "/gestione/calendario"), "day": f"{NEXT}-09-01",
                                     "start": "9:30", "end": "12:30"})
    assert refused.status_code == 409 and "Il tavolo è chiuso" in text_of(refused)
    assert series(staff, track, first_day=f"{NEXT}-09-01", last_day=f"{NEXT}-09-30").status_code == 409
    assert len(meetings_of(app, track)) == 2
    reopen = staff.post(f"/gestione/calendario/percorsi/{track}/riapri",
                        data={"csrf_token": csrf_from(staff, "/gestione/calendario")})
    assert reopen.status_code == 303
    with app.app_context():
        assert db.session.get(Track, track).closed_at is None
        actions = list(db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.subject_type == "track", AuditEntry.subject_id == track).order_by(AuditEntry.id)))
        assert actions[-2:] == ["track.closed", "track.reopened"]


# --- cancel with a reason, restore, the time change -----------------------------------------------------------


def answer_yes(app, meeting_id: int, name: str) -> int:
    entity = make_entity(app, name, areas=("A",))
    with app.app_context():
        services.answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                        db.session.get(User, entity["user"]), True, [{"name": f"Referente di {name}", "role": ""}])
        db.session.commit()
    return entity["organization"]


def parsed(message: OutboxMessage):
    """The calendar part as the two parsers read it."""
    cal = icalendar.Calendar.from_ical(message.ics)
    event = next(iter(cal.walk("VEVENT")))
    assert not getattr(event, "errors", [])
    return cal, event, vobject.readOne(message.ics)


def test_cancel_with_a_reason_then_restore_at_a_new_time(staff, app):
    meeting_id = make_meeting(app, area="A", days_ahead=20)
    answer_yes(app, meeting_id, "Ente Uno")
    gone = make_entity(app, "Ente Due", areas=("A",))
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        org = db.session.get(Organization, gone["organization"])
        services.answer(meeting, org, db.session.get(User, gone["user"]), True, [{"name": "Persona", "role": ""}])
        services.answer(meeting, org, db.session.get(User, gone["user"]), False)
        db.session.commit()
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
        uid, sequence = meeting.uid, meeting.sequence
    path = f"/gestione/calendario/incontri/{meeting_id}"
    response = staff.post(f"{path}/annulla", data={"csrf_token": csrf_from(staff, path),
                                                   "reason": "La sala è inagibile per lavori."})
    assert response.status_code == 303
    cancels = outbox(app)
    assert len(cancels) == 1 and cancels[0].ics_method == "CANCEL"
    assert "Motivo: La sala è inagibile per lavori." in cancels[0].body_text
    _, event, card = parsed(cancels[0])
    assert "La sala è inagibile per lavori." in str(event["DESCRIPTION"])
    assert "La sala è inagibile per lavori." in card.vevent.description.value
    assert "La sala è inagibile per lavori." in text_of(staff.get(f"/incontri/{meeting_id}"))

    new_day = (utcnow() + timedelta(days=30)).astimezone(ROME).date()
    restore = staff.post(f"{path}/ripristina", data={"csrf_token": csrf_from(staff, path),
                                                     "day": new_day.isoformat(), "start": "15:00", "end": "17:00"})
    assert restore.status_code == 303
    assert "Incontro di nuovo in programma: 1 destinatario" in text_of(staff.get(path))
    restored = outbox(app)[1:]
    # the entity that withdrew before the cancellation gets nothing back
    assert len(restored) == 1 and restored[0].ics_method == "REQUEST"
    assert restored[0].to_address.startswith("ente") and restored[0].to_address != gone["email"]
    body = restored[0].body_text
    assert "è di nuovo in programma, con un nuovo orario" in body and "prima:" in body and "15:00" in body
    _, event, card = parsed(restored[0])
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) > sequence + 1
    assert str(event.get("STATUS")) == "CONFIRMED" and card.vevent.uid.value == uid
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.status is MeetingStatus.SCHEDULED and meeting.cancel_reason == ""
        assert meeting.starts_at.astimezone(ROME).hour == 15
    history = text_of(staff.get(path))
    assert "Incontro annullato" in history and "Incontro ripristinato" in history


def test_restoring_to_a_past_day_is_refused(staff, app):
    meeting_id = make_meeting(app, area="A", days_ahead=5)
    path = f"/gestione/calendario/incontri/{meeting_id}"
    staff.post(f"{path}/annulla", data={"csrf_token": csrf_from(staff, path), "reason": "Rinviato."})
    response = staff.post(f"{path}/ripristina", data={"csrf_token": csrf_from(staff, path),
                                                      "day": "2021-05-04", "start": "9:30", "end": "12:30"})
    assert response.status_code == 400
    assert "La data è già passata" in text_of(response)
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status is MeetingStatus.CANCELLED


def test_a_time_change_tells_the_old_and_the_new_time(staff, app):
    meeting_id = make_meeting(app, area="A", days_ahead=15)
    answer_yes(app, meeting_id, "Ente Tre")
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
        before = db.session.get(Meeting, meeting_id).starts_at.astimezone(ROME)
    path = f"/gestione/calendario/incontri/{meeting_id}"
    response = staff.post(path, data={"csrf_token": csrf_from(staff, path), "day": before.date().isoformat(),
                                      "start": "16:00", "end": "18:00", "venue": ""})
    assert response.status_code == 303
    (message,) = outbox(app)
    assert "L'orario è cambiato: ora l'incontro è" in message.body_text
    assert "(prima: " in message.body_text and f"{before.hour}:{before.minute:02d}" in message.body_text
    assert "16:00" in message.body_text.split("(prima:")[0]
