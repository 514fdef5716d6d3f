"""A table of several areas: the entities admitted to any of them take part, and it is in each area's calendar,
audience and report; and what staff changed in the app stays when the call file is loaded again."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import sqlalchemy as sa

from scheduler.announcements.audience import Audience, resolve
from scheduler.audit.models import AuditEntry
from scheduler.auth.models import User
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calls.loader import load_call, parse_call_file, parse_call_text
from scheduler.calls.models import Area, Call, Track, track_areas
from scheduler.extensions import db
from scheduler.registry.models import Application, Organization
from scheduler.timeutil import utcnow
from tests.conftest import CALL_FILE
from tests.factories import csrf_from, make_entity, sign_in_with_link, text_of

PASSWORD = "password-di-prova-1"




def area_ids(app, *codes: str) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Area.id).where(Area.code.in_(codes)).order_by(Area.code)))


def joint_table(staff, app) -> int:
    """Through the form, as the office: one table for areas B and D."""
    path = "/gestione/calendario/percorsi/nuovo"
    response = staff.post(path, data={
        "csrf_token": csrf_from(staff, path), "name": "Tavolo Giovani e Fragilità",
        "areas": [str(i) for i in area_ids(app, "B", "D")], "phase": "implementation",
        "description": "Un tavolo comune alle due aree.",
    })
    assert response.status_code == 303, text_of(response)
    with app.app_context():
        return db.session.scalar(sa.select(Track.id).where(Track.name == "Tavolo Giovani e Fragilità"))


def staff_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == "staff@example.org"))


def meeting_of(app, track_id: int, days: int = 20) -> int:
    with app.app_context():
        track = db.session.get(Track, track_id)
        starts = utcnow().replace(microsecond=0, second=0) + timedelta(days=days)
        meeting = services.create_meeting(track, starts, starts + timedelta(hours=3))
        db.session.commit()
        return meeting.id


def events_of(response) -> list[str]:
    return [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(response.get_data()).walk("VEVENT")]


def test_a_table_serves_every_area_it_was_given(staff, app, client):
    track_id = joint_table(staff, app)
    with app.app_context():
        track = db.session.get(Track, track_id)
        assert [a.code for a in track.areas] == ["B", "D"] and track.area.code == "B"
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.subject_type == "track",
                                                              AuditEntry.subject_id == track_id))
        assert entry.details["areas"] == area_ids(app, "B", "D")
    meeting_id = meeting_of(app, track_id)
    page = text_of(staff.get(f"/gestione/calendario/percorsi/{track_id}"))
    assert "Aree B) Fragilità" in page and "D) Innovazione" in page

    # the public calendar: under each of its areas, with both badges and its description
    public = text_of(client.get("/calendario?area=D"))
    assert "Tavolo Giovani e Fragilità" in public and "Un tavolo comune alle due aree." in public
    assert "Tavolo Giovani e Fragilità" in text_of(client.get("/calendario?area=B"))
    assert "Tavolo Giovani e Fragilità" not in text_of(client.get("/calendario?area=A"))
    # ...and in each area's feed, not in the others
    assert any("Tavolo Giovani e Fragilità" in s for s in events_of(client.get("/calendario/D.ics")))
    assert any("Tavolo Giovani e Fragilità" in s for s in events_of(client.get("/calendario/B.ics")))
    assert not any("Tavolo Giovani e Fragilità" in s for s in events_of(client.get("/calendario/A.ics")))
    meeting_page = text_of(client.get(f"/incontri/{meeting_id}"))
    assert "Aree B) Fragilità" in meeting_page and "Un tavolo comune alle due aree." in meeting_page
    description = str(icalendar.Calendar.from_ical(client.get(f"/incontri/{meeting_id}.ics").get_data())
                      .walk("VEVENT")[0]["DESCRIPTION"])
    assert "Aree B) Fragilità" in description and "D) Innovazione" in description


def test_an_entity_of_either_area_answers_and_one_of_another_area_cannot(staff, app, client):
    track_id = joint_table(staff, app)
    meeting_id = meeting_of(app, track_id)
    youth = make_entity(app, "Associazione Giovani Insieme", areas=("D",))
    families = make_entity(app, "Famiglie in Rete", areas=("A",))
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        for entity, expected in ((youth, None),
                                 (families, "L'incontro è di un'area per cui l'ente non ha manifestato interesse.")):
            application = db.session.get(Application, entity["application"])
            assert services.eligibility_problem(application, meeting) == expected
        youth_org = db.session.get(Organization, youth["organization"])
        assert meeting_id in {m.id for m in services.meetings_for(youth_org, db.session.get(
            Application, youth["application"]))}
        call = db.session.get(Call, meeting.track.call_id)
        invited = {o.name for r in resolve(call, Audience("meeting_invited", meeting_id=meeting_id))
                   for o in r.organizations}
        assert invited == {"Associazione Giovani Insieme"}

    # as the entity, through the answer form
    staff.get("/esci")
    sign_in_with_link(client, app, youth["user"])
    path = f"/incontri/{meeting_id}/adesione"
    response = client.post(path, data={"csrf_token": csrf_from(client, path), "attending": "yes",
                                       "person_name": "Marta Rossi", "person_role": "Volontaria"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Rsvp.status).where(Rsvp.meeting_id == meeting_id)) is RsvpStatus.YES


def test_a_table_needs_an_area_and_keeps_what_was_typed(staff, app):
    path = "/gestione/calendario/percorsi/nuovo"
    response = staff.post(path, data={"csrf_token": csrf_from(staff, path), "name": "Tavolo senza area",
                                      "phase": "implementation"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Scegli almeno un'area" in page and 'value="Tavolo senza area"' in page
    assert 'id="areas-error"' in page


def test_every_existing_table_serves_its_own_area(app, crema):
    """The rows the migration writes (and the call loader for a file's table): one per table, its area."""
    with app.app_context():
        rows = set(db.session.execute(sa.select(track_areas.c.track_id, track_areas.c.area_id)).all())
        tracks = set(db.session.execute(sa.select(Track.id, Track.area_id)).all())
        assert rows == tracks and tracks


def test_a_meeting_staff_moved_is_not_moved_back_by_the_call_file(staff, app):
    actor = staff_id(app)
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting).where(Meeting.key.is_not(None)).order_by(Meeting.id))
        meeting_id, starts, ends = meeting.id, meeting.starts_at, meeting.ends_at
        # staff move it in the app, as the edit page does
        services.change_meeting(meeting, starts_at=starts + timedelta(hours=1), ends_at=ends + timedelta(hours=1),
                                allow_past=True, actor_id=actor)
        db.session.commit()
        assert db.session.get(Meeting, meeting_id).edited_in_app_at is not None
        _, report = load_call(parse_call_file(CALL_FILE))
        db.session.commit()
        moved = db.session.get(Meeting, meeting_id)
        assert moved.starts_at == starts + timedelta(hours=1)
        assert any("è stato modificato dalla gestione del calendario: il file non lo cambia" in w
                   for w in report.warnings)


def test_a_meeting_staff_cancelled_does_not_stop_the_call_file_from_loading(staff, app):
    """The file moves a meeting the office cancelled: the load goes on, the meeting stays cancelled."""
    actor = staff_id(app)
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting).where(Meeting.key == "A1"))
        meeting_id, starts = meeting.id, meeting.starts_at
        services.cancel(meeting, "Sala non disponibile", actor_id=actor)
        db.session.commit()
        text = CALL_FILE.read_text(encoding="utf-8").replace('{ key = "A1", date = 2024-05-15 }',
                                                               '{ key = "A1", date = 2024-05-16 }')
        _, report = load_call(parse_call_text(text))
        db.session.commit()
        kept = db.session.get(Meeting, meeting_id)
        assert kept.is_cancelled and kept.starts_at == starts
        assert any("'A1'" in w and "il file non lo cambia" in w for w in report.warnings)
