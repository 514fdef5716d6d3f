"""An online meeting needs no venue: staff are not warned that it lacks one, and the pages say "Online" where
a meeting in a room says its venue is still to be decided. A hybrid meeting still needs a room."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.calendar.models import Meeting, MeetingMode
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from tests.factories import csrf_from, make_meeting


def set_mode(app, meeting_id: int, mode: MeetingMode) -> None:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.mode = mode
        meeting.online_url = None if mode is MeetingMode.IN_PERSON else f"https://meet.example.org/{meeting_id}"
        db.session.commit()


def alerts(app) -> list[str]:
    """The bodies of the venue alerts written to staff."""
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxMessage.body_text).where(OutboxMessage.topic == "venue-alert")))


def where(page: str, label: str = "Dove") -> str:
    """What the meeting's page says under "Dove" ("Where" in English)."""
    start = page.index(f'<dt class="col-sm-3">{label}</dt>')
    return page[start:page.index("</dd>", start)]


def line_of(page: str, meeting_id: int) -> str:
    """The meeting's line in a list of meetings (the public calendar, a call's page)."""
    start = page.index(f'href="/incontri/{meeting_id}"')
    return page[start:page.index("</li>", start)]


def test_staff_are_not_warned_of_an_online_meeting_without_venue(app, crema, runner, make_user):
    make_user("staff@example.org")
    online = make_meeting(app, area="A", days_ahead=2.5)
    hybrid = make_meeting(app, area="B", days_ahead=2.5)
    set_mode(app, online, MeetingMode.ONLINE)
    set_mode(app, hybrid, MeetingMode.HYBRID)
    result = runner.invoke(args=["reminders"])
    assert result.exit_code == 0 and "sede mancante: 1" in result.output
    [alert] = alerts(app)
    assert "non ha ancora una sede" in alert and f"/gestione/calendario/incontri/{hybrid}" in alert
    assert f"/gestione/calendario/incontri/{online}" not in alert
    with app.app_context():
        assert db.session.get(Meeting, online).venue_alert_sent_at is None
        assert db.session.get(Meeting, hybrid).venue_alert_sent_at is not None


def test_an_online_meeting_that_becomes_in_person_is_alerted_then(app, crema, runner, make_user):
    make_user("staff@example.org")
    meeting_id = make_meeting(app, area="A", days_ahead=2.5)
    set_mode(app, meeting_id, MeetingMode.ONLINE)
    assert "sede mancante: 0" in runner.invoke(args=["reminders"]).output
    set_mode(app, meeting_id, MeetingMode.IN_PERSON)
    assert "sede mancante: 1" in runner.invoke(args=["reminders"]).output
    assert len(alerts(app)) == 1


def test_the_meeting_page_says_online_instead_of_a_venue_to_decide(app, client, crema):
    online = make_meeting(app, area="A", days_ahead=5)
    hybrid = make_meeting(app, area="B", days_ahead=5)
    in_person = make_meeting(app, area="C", days_ahead=5)
    set_mode(app, online, MeetingMode.ONLINE)
    set_mode(app, hybrid, MeetingMode.HYBRID)

    said = where(client.get(f"/incontri/{online}").get_data(as_text=True))
    assert "Online" in said
    assert "Sede da definire" not in said and "sarà comunicata" not in said
    for needs_a_room in (hybrid, in_person):
        assert "Sede da definire" in where(client.get(f"/incontri/{needs_a_room}").get_data(as_text=True))

    calendar = client.get("/calendario").get_data(as_text=True)
    assert '<span class="small">Online</span>' in line_of(calendar, online)
    assert "Sede da definire" not in line_of(calendar, online)
    assert "Sede da definire" in line_of(calendar, hybrid) and "Sede da definire" in line_of(calendar, in_person)


def test_a_concluded_online_meeting_is_online_not_without_venue(app, client, crema):
    """The Crema call's meetings are all past now: one held online says so, the others that they had no venue."""
    with app.app_context():
        online, other = db.session.scalars(sa.select(Meeting.id).where(Meeting.key.in_(("A1", "A2")))
                                           .order_by(Meeting.key)).all()
    set_mode(app, online, MeetingMode.ONLINE)
    calendar = client.get("/calendario").get_data(as_text=True)
    assert '<span class="small">Online</span>' in line_of(calendar, online)
    assert "Sede non indicata" not in line_of(calendar, online)
    assert "Sede non indicata" in line_of(calendar, other)
    said = where(client.get(f"/incontri/{online}").get_data(as_text=True))
    assert "Online" in said and "Sede non indicata" not in said


def test_the_english_page_says_online_too(app, client, crema):
    online = make_meeting(app, area="A", days_ahead=5)
    in_person = make_meeting(app, area="B", days_ahead=5)
    set_mode(app, online, MeetingMode.ONLINE)
    client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": csrf_from(client, "/")})
    said = where(client.get(f"/incontri/{online}").get_data(as_text=True), "Where")
    assert "Online" in said and "Venue to be confirmed" not in said and "Sede da definire" not in said
    assert "Venue to be confirmed" in where(client.get(f"/incontri/{in_person}").get_data(as_text=True), "Where")
