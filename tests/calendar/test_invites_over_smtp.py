"""What an entity's mailbox and calendar end up with: invitations received by a real SMTP server on loopback,
applied in order as a calendar client does, agree with the private feed: one event, right time and place."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from icalendar import Calendar

from scheduler.auth.models import User
from scheduler.calendar.models import Meeting, Venue
from scheduler.calendar.services import answer, cancel, regenerate_feed_token, reschedule, set_venue
from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due
from scheduler.registry.models import Organization
from tests.factories import make_entity, make_meeting


def _deliver(app) -> None:
    with app.app_context():
        deliver_all_due("test-worker")


def _calendar_part(message):
    """The text/calendar alternative, as Outlook and Gmail look for it, with its method= parameter."""
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(p for p in message.iter_parts() if p.get_content_type() == "multipart/alternative")
    kinds = [p.get_content_type() for p in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    part = list(alternative.iter_parts())[2]
    attachment = next(p for p in message.iter_parts() if p.get_filename() == "invito.ics")
    assert attachment.get_payload(decode=True).decode("utf-8").strip() == part.get_content().strip()
    return part.get_param("method"), Calendar.from_ical(part.get_content())


def test_yes_then_venue_then_time_leaves_one_event_at_the_right_time_and_place(smtp_app_config, smtp_server,
                                                                              app, crema, client):
    entity = make_entity(app, "Ente Calendario", areas=("A",))
    meeting_id = make_meeting(app, area="A")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        organization = db.session.get(Organization, entity["organization"])
        answer(meeting, organization, db.session.get(User, entity["user"]), True, [{"name": "Eva", "role": ""}])
        token = regenerate_feed_token(organization)
        db.session.commit()
    _deliver(app)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        venue = Venue(call=db.session.scalar(sa.select(Call)), name="Sala dei Ricevimenti",
                      address="Piazza Duomo 25, Crema")
        db.session.add(venue)
        set_venue(meeting, venue)
        db.session.commit()
    _deliver(app)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        new_start = meeting.starts_at + timedelta(days=1, hours=2)
        reschedule(meeting, new_start, new_start + timedelta(hours=3))
        db.session.commit()
        uid, final_start = meeting.uid, new_start
    _deliver(app)

    messages = smtp_server.wait_for(3)
    assert len(messages) == 3
    assert [m["To"].addresses[0].addr_spec for m in messages] == [entity["email"]] * 3
    assert "La sede è stata comunicata: Sala dei Ricevimenti" in messages[1].get_body(("plain",)).get_content()

    # a calendar client keeps, per UID, the event with the highest SEQUENCE
    mailbox_calendar: dict[str, tuple[int, object]] = {}
    for message in messages:
        method, calendar = _calendar_part(message)
        assert method == "REQUEST" == str(calendar["METHOD"])
        assert calendar.walk()[1].name == "VTIMEZONE", "the time zone comes before the event"
        [event] = calendar.walk("VEVENT")
        assert event.errors == []
        sequence = int(event["SEQUENCE"])
        if str(event["UID"]) not in mailbox_calendar or sequence > mailbox_calendar[str(event["UID"])][0]:
            mailbox_calendar[str(event["UID"])] = (sequence, event)
    assert list(mailbox_calendar) == [uid]
    sequence, event = mailbox_calendar[uid]
    assert sequence == 2
    assert event.decoded("DTSTART") == final_start
    assert "Sala dei Ricevimenti" in str(event["LOCATION"])

    feed = Calendar.from_ical(client.get(f"/feed/{token}.ics").get_data(as_text=True))
    [feed_event] = feed.walk("VEVENT")
    assert str(feed_event["UID"]) == uid and int(feed_event["SEQUENCE"]) == 2
    assert feed_event.decoded("DTSTART") == final_start
    assert str(feed_event["LOCATION"]) == str(event["LOCATION"])

    with app.app_context():
        cancel(db.session.get(Meeting, meeting_id))
        db.session.commit()
    _deliver(app)
    method, calendar = _calendar_part(smtp_server.wait_for(4)[3])
    assert method == "CANCEL"
    [cancelled] = calendar.walk("VEVENT")
    assert str(cancelled["UID"]) == uid and int(cancelled["SEQUENCE"]) == 3
    assert cancelled["STATUS"] == "CANCELLED"
