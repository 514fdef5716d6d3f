"""Answers to meetings: who may answer, until when, capacity and waiting list, and the e-mails they cause."""

from __future__ import annotations

import sqlalchemy as sa
from icalendar import Calendar

from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calls.models import Phase
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import ApplicationStatus
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link

PEOPLE = {"attending": "yes", "person_name": ["Maria Rossi", ""], "person_role": ["Presidente", ""]}


def answer(client, meeting_id, **data):
    payload = dict(PEOPLE)
    payload.update(data)
    payload["csrf_token"] = csrf_from(client, f"/incontri/{meeting_id}/adesione")
    return client.post(f"/incontri/{meeting_id}/adesione", data=payload)


def outbox(app, topic=None):
    with app.app_context():
        query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if topic:
            query = query.where(OutboxMessage.topic == topic)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def rsvp_of(app, meeting_id, organization_id):
    with app.app_context():
        return db.session.scalar(
            sa.select(Rsvp).where(Rsvp.meeting_id == meeting_id, Rsvp.organization_id == organization_id)
        )


def test_admitted_entity_says_yes_and_receives_the_invitation(client, app, crema):
    entity = make_entity(app, "Associazione Sì", areas=("A",))
    meeting_id = make_meeting(app, area="A")
    sign_in_with_link(client, app, entity["user"])
    page = client.get(f"/incontri/{meeting_id}/adesione").get_data(as_text=True)
    assert "L&#39;ente parteciperà?" in page or "L'ente parteciperà?" in page
    response = answer(client, meeting_id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Partecipazione confermata" in page
    rsvp = rsvp_of(app, meeting_id, entity["organization"])
    assert rsvp.status is RsvpStatus.YES
    assert rsvp.people == [{"name": "Maria Rossi", "role": "Presidente"}]
    assert rsvp.checkin_code and len(rsvp.checkin_code) >= 20
    [invite] = outbox(app, "invite")
    assert invite.to_address == entity["email"]
    assert invite.ics_method == "REQUEST"
    calendar = Calendar.from_ical(invite.ics)
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.errors == []
    assert str(event["ATTENDEE"]).lower() == f"mailto:{entity['email']}"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert str(event["UID"]) == meeting.uid
        assert int(event["SEQUENCE"]) == meeting.sequence
    assert f"/incontri/{meeting_id}" in invite.body_text
    assert "Sede da definire" in invite.body_text


def test_answering_again_updates_the_same_answer(client, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    sign_in_with_link(client, app, entity["user"])
    answer(client, meeting_id)
    answer(client, meeting_id, person_name=["Maria Rossi", "Luca Bianchi"], person_role=["", "Educatore"])
    with app.app_context():
        rows = db.session.scalars(sa.select(Rsvp)).all()
        assert len(rows) == 1
        assert [p["name"] for p in rows[0].people] == ["Maria Rossi", "Luca Bianchi"]
    assert len(outbox(app, "invite")) == 1, "a change of names sends no second invitation"


def test_saying_no_after_yes_sends_a_cancel_for_the_entitys_copy(client, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    sign_in_with_link(client, app, entity["user"])
    answer(client, meeting_id)
    answer(client, meeting_id, attending="no")
    assert rsvp_of(app, meeting_id, entity["organization"]).status is RsvpStatus.NO
    [cancel] = outbox(app, "invite-withdrawn")
    assert cancel.ics_method == "CANCEL"
    assert Calendar.from_ical(cancel.ics)["METHOD"] == "CANCEL"


def test_yes_needs_at_least_one_name(client, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    sign_in_with_link(client, app, entity["user"])
    response = answer(client, meeting_id, person_name=["", ""])
    assert response.status_code == 400
    assert "almeno il nome" in response.get_data(as_text=True)
    assert rsvp_of(app, meeting_id, entity["organization"]) is None


def test_missing_choice_is_a_clear_error(client, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    sign_in_with_link(client, app, entity["user"])
    response = answer(client, meeting_id, attending="")
    assert response.status_code == 400
    assert "Scegli se l" in response.get_data(as_text=True)


def _refused(client, app, entity, meeting_id, message, status=(403, 409)):
    sign_in_with_link(client, app, entity["user"])
    page = client.get(f"/incontri/{meeting_id}/adesione").get_data(as_text=True)
    assert message in page.replace("&#39;", "'")
    response = answer(client, meeting_id)
    assert response.status_code in status
    assert rsvp_of(app, meeting_id, entity["organization"]) is None
    assert outbox(app, "invite") == []


def test_only_admitted_entities(client, app, crema):
    entity = make_entity(app, areas=("A",), status=ApplicationStatus.SUBMITTED)
    _refused(client, app, entity, make_meeting(app, area="A"), "solo gli enti ammessi")


def test_only_meetings_of_the_entitys_areas(client, app, crema):
    entity = make_entity(app, areas=("A",))
    _refused(client, app, entity, make_meeting(app, area="B"), "un'area per cui l'ente non ha manifestato")


def test_only_meetings_of_the_phase_joined(client, app, crema):
    entity = make_entity(app, areas=("A",))  # implementation only
    _refused(client, app, entity, make_meeting(app, area="A", phase=Phase.DRAFTING), "fase di stesura")


def test_not_after_the_deadline(client, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A", days_ahead=2, rsvp_deadline_days_before=3)
    _refused(client, app, entity, meeting_id, "Il termine per rispondere è scaduto")


def test_not_once_started(client, app, crema):
    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A", days_ahead=-0.01)
    _refused(client, app, entity, meeting_id, "già iniziato")


def test_not_for_a_cancelled_meeting(client, app, crema):
    from scheduler.calendar.services import cancel

    entity = make_entity(app, areas=("A",))
    meeting_id = make_meeting(app, area="A")
    with app.app_context():
        cancel(db.session.get(Meeting, meeting_id))
        db.session.commit()
    _refused(client, app, entity, meeting_id, "annullato")


def test_unknown_meeting_is_404(client, app, crema):
    entity = make_entity(app, areas=("A",))
    sign_in_with_link(client, app, entity["user"])
    assert client.get("/incontri/999999/adesione").status_code == 404


def test_staff_and_anonymous_cannot_answer(client, app, crema, make_user, auth):
    meeting_id = make_meeting(app, area="A")
    assert client.get(f"/incontri/{meeting_id}/adesione").status_code == 302
    make_user("staff@example.org")
    auth.login("staff@example.org")
    assert client.get(f"/incontri/{meeting_id}/adesione").status_code == 403


def test_capacity_waiting_list_and_promotion(app, crema):
    from scheduler.auth.models import User
    from scheduler.calendar.services import answer as rsvp
    from scheduler.registry.models import Organization

    meeting_id = make_meeting(app, area="A", capacity=2)
    entities = [make_entity(app, f"Ente {n}", areas=("A",)) for n in range(4)]
    with app.app_context():
        def say(entity, attending=True):
            result = rsvp(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                          db.session.get(User, entity["user"]), attending, [{"name": "Persona", "role": ""}])
            db.session.commit()
            return result.status

        assert [say(e) for e in entities] == [RsvpStatus.YES, RsvpStatus.YES, RsvpStatus.WAITLIST,
                                              RsvpStatus.WAITLIST]
        assert say(entities[0], attending=False) is RsvpStatus.NO
        statuses = {r.organization_id: r.status for r in db.session.scalars(sa.select(Rsvp))}
        assert statuses[entities[2]["organization"]] is RsvpStatus.YES, "first in line is promoted"
        assert statuses[entities[3]["organization"]] is RsvpStatus.WAITLIST
    [promoted] = outbox(app, "invite-promoted")
    assert promoted.to_address == entities[2]["email"]
    assert "Si è liberato un posto" in promoted.body_text
    waitlisted = outbox(app, "invite-waitlist")
    assert {m.to_address for m in waitlisted} == {entities[2]["email"], entities[3]["email"]}
    assert "lista d'attesa" in waitlisted[0].body_text


def _confirmed(app, n, meeting_id):
    from scheduler.auth.models import User
    from scheduler.calendar.services import answer as rsvp
    from scheduler.registry.models import Organization

    entities = [make_entity(app, f"Ente {i}", areas=("A",)) for i in range(n)]
    with app.app_context():
        for entity in entities:
            rsvp(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                 db.session.get(User, entity["user"]), True, [{"name": "Persona", "role": ""}])
        db.session.commit()
    return entities


def test_venue_time_and_cancellation_send_updates_with_rising_sequence(app, crema):
    from datetime import timedelta

    from scheduler.calendar.models import Venue
    from scheduler.calendar.services import cancel, reschedule, set_venue
    from scheduler.calls.models import Call

    meeting_id = make_meeting(app, area="A")
    _confirmed(app, 3, meeting_id)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        uid = meeting.uid
        venue = Venue(call=db.session.scalar(sa.select(Call)), name="Sala Alessandrini",
                      address="Via Matteotti 1, Crema", accessibility_notes="Ingresso senza gradini.")
        db.session.add(venue)
        set_venue(meeting, venue)
        db.session.commit()
        reschedule(meeting, meeting.starts_at + timedelta(hours=1), meeting.ends_at + timedelta(hours=1))
        db.session.commit()
        cancel(meeting)
        db.session.commit()
        assert meeting.sequence == 3
    updates = outbox(app, "update")
    assert len(updates) == 6
    venue_mails = [m for m in updates if "nuova sede" in m.subject]
    assert len(venue_mails) == 3
    assert "La sede è stata comunicata: Sala Alessandrini" in venue_mails[0].body_text
    time_mails = [m for m in updates if "nuovo orario" in m.subject]
    assert "L'orario è cambiato" in time_mails[0].body_text
    sequences = []
    for message in updates + outbox(app, "cancel"):
        calendar = Calendar.from_ical(message.ics)
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == uid
        sequences.append(int(event["SEQUENCE"]))
    assert sorted(set(sequences)) == [1, 2, 3]
    cancels = outbox(app, "cancel")
    assert len(cancels) == 3
    calendar = Calendar.from_ical(cancels[0].ics)
    assert calendar["METHOD"] == "CANCEL"
    assert calendar.walk("VEVENT")[0]["STATUS"] == "CANCELLED"


def test_a_change_to_40_answers_enqueues_40_messages_in_one_transaction(app, crema):
    from scheduler.calendar.models import Venue
    from scheduler.calendar.services import set_venue
    from scheduler.calls.models import Call

    meeting_id = make_meeting(app, area="A")
    _confirmed(app, 40, meeting_id)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        venue = Venue(call=db.session.scalar(sa.select(Call)), name="Sala", address="Via Roma 1")
        db.session.add(venue)
        set_venue(meeting, venue)
        db.session.rollback()  # nothing is sent unless the change itself is saved
    assert outbox(app, "update") == []
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        venue = Venue(call=db.session.scalar(sa.select(Call)), name="Sala", address="Via Roma 1")
        db.session.add(venue)
        set_venue(meeting, venue)
        db.session.commit()
    assert len(outbox(app, "update")) == 40
