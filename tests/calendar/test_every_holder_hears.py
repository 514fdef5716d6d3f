"""Every calendar that was sent a meeting ends where the site is: the story of a meeting of area A told through
the mailboxes of its entities, as received by a real SMTP server on loopback and applied the way calendar
clients apply iTIP (per UID, by SEQUENCE), read by two parsers (icalendar and vobject)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
import vobject
from icalendar import Calendar

from scheduler.announcements.audience import Audience
from scheduler.announcements.services import Draft, announce_venue, venue_notice_text
from scheduler.announcements.services import send_due as send_due_announcements
from scheduler.auth.models import Role, User
from scheduler.calendar import planning
from scheduler.calendar.models import CalendarCopy, Meeting, Rsvp, RsvpStatus, Venue
from scheduler.calendar.services import answer, cancel, change_meeting, create_meeting
from scheduler.calls.ambiti import default_ambito
from scheduler.calls.models import Area, Call, Phase, Track
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due
from scheduler.registry.models import Organization
from scheduler.timeutil import local_instant
from tests.factories import make_entity


@dataclass
class HeldEvent:
    sequence: int
    dtstamp: datetime
    starts_at: datetime
    location: str
    summary: str
    cancelled: bool


@dataclass
class Mailbox:
    """One address's calendar: what a client keeps of the invitations it received, per UID."""

    events: dict[str, HeldEvent] = field(default_factory=dict)

    def apply(self, method: str, text: str) -> None:
        [event] = Calendar.from_ical(text).walk("VEVENT")
        assert event.errors == []
        parsed = vobject.readOne(text)  # a second, independent parser reads the same facts
        vevent = parsed.vevent
        assert str(vevent.uid.value) == str(event["UID"])
        assert int(vevent.sequence.value) == int(event["SEQUENCE"])
        assert vevent.dtstart.value.astimezone(UTC) == event.decoded("DTSTART").astimezone(UTC)
        uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
        dtstamp = event.decoded("DTSTAMP")
        held = self.events.get(uid)
        if held is not None and (sequence, dtstamp) < (held.sequence, held.dtstamp):
            return  # older than what the calendar holds: ignored, as RFC 5546 says
        if method == "CANCEL" and str(event.get("STATUS", "")) != "CANCELLED":
            self.events.pop(uid, None)  # this attendee was removed: the event leaves this calendar
            return
        if method == "REQUEST" or held is not None:
            self.events[uid] = HeldEvent(
                sequence, dtstamp, event.decoded("DTSTART").astimezone(UTC), str(event["LOCATION"]),
                str(event["SUMMARY"]), method == "CANCEL" or str(event.get("STATUS")) == "CANCELLED",
            )


def _calendar_part(message) -> tuple[str, str] | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_param("method"), part.get_content()
    return None


class Inboxes:
    def __init__(self, smtp_server) -> None:
        self.smtp = smtp_server
        self.read = 0
        self.boxes: dict[str, Mailbox] = {}
        self.subjects: dict[str, list[str]] = {}

    def deliver(self, app) -> list:
        with app.app_context():
            send_due_announcements()  # the worker's loop: the venue notices' messages, then delivery
            deliver_all_due("test-worker")
        with app.app_context():
            pending = db.session.scalar(sa.text("select count(*) from outbox_messages where status != 'sent'"))
        assert pending == 0
        messages = self.smtp.messages[self.read:]
        self.read = len(self.smtp.messages)
        for message in messages:
            address = message["To"].addresses[0].addr_spec.lower()
            self.subjects.setdefault(address, []).append(str(message["Subject"]))
            part = _calendar_part(message)
            if part is not None:
                self.boxes.setdefault(address, Mailbox()).apply(*part)
        return messages


def _rome(day: date, hour: int, minute: int = 0) -> datetime:
    return local_instant(day, time(hour, minute))


def _story_meeting(app) -> int:
    """A meeting of area A on Thursday 25 March 2027, before the clocks go forward on the 28th."""
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        area = db.session.scalar(sa.select(Area).where(Area.call_id == call.id, Area.code == "A"))
        track = Track(call=call, area=area, key="A-attuazione", phase=Phase.IMPLEMENTATION, position=5,
                      name="Tavolo Minori e Famiglia – attuazione")
        db.session.add(track)
        meeting = create_meeting(track, _rome(date(2027, 3, 25), 9, 30), _rome(date(2027, 3, 25), 12, 30))
        db.session.commit()
        return meeting.id


def _venue(app, name: str, address: str) -> int:
    with app.app_context():
        venue = Venue(call=db.session.scalar(sa.select(Call)), name=name, address=address)
        db.session.add(venue)
        db.session.commit()
        return venue.id


def _answer(app, meeting_id: int, entity: dict, attending: bool) -> None:
    with app.app_context():
        answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
               db.session.get(User, entity["user"]), attending,
               [{"name": "Persona di " + entity["email"], "role": ""}] if attending else [])
        db.session.commit()


def test_every_mailbox_that_holds_the_meeting_ends_at_the_sites_final_state(smtp_app_config, smtp_server, app,
                                                                              crema):
    entities = [make_entity(app, f"Ente A{n}", areas=("A",), email=f"ente-a{n}@example.org") for n in range(4)]
    declined = make_entity(app, "Ente che declina", areas=("A",), email="declina@example.org")
    other_area = make_entity(app, "Ente di B", areas=("B",), email="ente-b@example.org")
    meeting_id = _story_meeting(app)
    inboxes = Inboxes(smtp_server)
    with app.app_context():
        staff = User(email="staff@example.org", role=Role.STAFF, full_name="Ufficio di Piano", ambito=default_ambito())
        db.session.add(staff)
        db.session.commit()
        staff_id = staff.id

    # one entity says yes, one says no, the others are silent
    _answer(app, meeting_id, entities[0], True)
    _answer(app, meeting_id, declined, False)
    inboxes.deliver(app)
    assert set(inboxes.boxes) == {"ente-a0@example.org"}

    # "Comunica la sede" to every invited entity (the silent ones too): each receives the event
    first_venue = _venue(app, "Sala Pietro da Cemmo", "Piazza Duomo 25, Crema")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        venue = db.session.get(Venue, first_venue)
        subject, body = venue_notice_text(meeting, venue)
        audience = Audience(kind="meeting_invited", meeting_id=meeting_id)
        announce_venue(meeting, venue, Draft(subject=subject, body=body, audience=audience),
                       db.session.get(User, staff_id))
        db.session.commit()
    messages = inboxes.deliver(app)
    assert len(messages) == 4, "one message each, carrying the notice and the invitation"
    assert set(inboxes.boxes) == {f"ente-a{n}@example.org" for n in range(4)}

    # the venue changes again from the meeting form, then the time moves across the change to summer time
    second_venue = _venue(app, "Centro Sant'Agostino", "Piazza Terni de Gregori 5, Crema")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        plan = planning.MeetingPlan(starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                                    venue=db.session.get(Venue, second_venue))
        outcome = planning.edit_meeting(meeting, plan)
        db.session.commit()
        assert outcome.venue_changed and outcome.notified == 4
    inboxes.deliver(app)
    new_start, new_end = _rome(date(2027, 3, 30), 9, 30), _rome(date(2027, 3, 30), 12, 30)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        change_meeting(meeting, starts_at=new_start, ends_at=new_end)
        db.session.commit()
    inboxes.deliver(app)
    assert new_start.astimezone(UTC).hour == 7, "9:30 in Rome is 7:30 UTC after the change"
    for address in (f"ente-a{n}@example.org" for n in range(4)):
        [held] = inboxes.boxes[address].events.values()
        assert held.starts_at == new_start and "Sant'Agostino" in held.location and not held.cancelled

    # a silent entity answers yes on the site; the first one withdraws, then answers again
    _answer(app, meeting_id, entities[1], True)
    inboxes.deliver(app)
    _answer(app, meeting_id, entities[0], False)
    withdrawal = inboxes.deliver(app)
    assert len(withdrawal) == 1
    method, text = _calendar_part(withdrawal[0])
    [event] = Calendar.from_ical(text).walk("VEVENT")
    assert method == "CANCEL" and "STATUS" not in event, "the meeting goes on: only this attendee is removed"
    assert not str(event["SUMMARY"]).startswith("ANNULLATO")
    assert int(event["SEQUENCE"]) > 2, "a CANCEL must be newer than the invitation it removes"
    assert inboxes.boxes["ente-a0@example.org"].events == {}
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status.value == "scheduled"
    _answer(app, meeting_id, entities[0], True)
    inboxes.deliver(app)
    [again] = inboxes.boxes["ente-a0@example.org"].events.values()
    assert again.starts_at == new_start and again.sequence > int(event["SEQUENCE"]) - 1

    # the meeting is cancelled: every calendar that holds it shows it cancelled
    with app.app_context():
        outcome = cancel(db.session.get(Meeting, meeting_id))
        db.session.commit()
        assert outcome.notified == 4
    inboxes.deliver(app)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        final = (meeting.starts_at, meeting.is_cancelled)
        copies = {c.email: c.held for c in db.session.scalars(sa.select(CalendarCopy))}
    assert final == (new_start, True)
    for address in (f"ente-a{n}@example.org" for n in range(4)):
        [held] = inboxes.boxes[address].events.values()
        assert held.cancelled and held.starts_at == new_start and "Sant'Agostino" in held.location, address
    assert copies == {f"ente-a{n}@example.org": False for n in range(4)}, "sent, then cancelled: nothing left"
    # nobody holds an event they were never meant to
    assert "declina@example.org" not in inboxes.boxes and other_area["email"] not in inboxes.subjects


def test_titles_do_not_renumber_when_another_meeting_moves_and_a_new_title_reaches_the_holders(
        smtp_app_config, smtp_server, app, crema):
    entity = make_entity(app, "Ente dei titoli", areas=("A",), email="titoli@example.org")
    first_id = _story_meeting(app)
    with app.app_context():
        first = db.session.get(Meeting, first_id)
        second = create_meeting(first.track, first.starts_at + timedelta(days=7), first.ends_at + timedelta(days=7))
        db.session.commit()
        second_id = second.id
    inboxes = Inboxes(smtp_server)
    _answer(app, second_id, entity, True)
    inboxes.deliver(app)
    [held] = inboxes.boxes["titoli@example.org"].events.values()
    assert held.summary.endswith("Incontro 2")

    with app.app_context():  # the second meeting moves before the first: neither changes its name
        second = db.session.get(Meeting, second_id)
        change_meeting(second, starts_at=second.starts_at - timedelta(days=14),
                       ends_at=second.ends_at - timedelta(days=14))
        db.session.commit()
        names = {m.id: m.number for m in db.session.scalars(sa.select(Meeting).where(Meeting.id.in_([first_id,
                                                                                                    second_id])))}
    assert names == {first_id: 1, second_id: 2}
    inboxes.deliver(app)
    [held] = inboxes.boxes["titoli@example.org"].events.values()
    assert held.summary.endswith("Incontro 2") and held.sequence == 1

    with app.app_context():  # staff give it a title: the holders' calendars show it
        change_meeting(db.session.get(Meeting, second_id), title="Restituzione dei lavori")
        db.session.commit()
    messages = inboxes.deliver(app)
    assert len(messages) == 1 and "nuovo titolo" in str(messages[0]["Subject"])
    [held] = inboxes.boxes["titoli@example.org"].events.values()
    assert held.summary.endswith("Restituzione dei lavori") and held.sequence == 2


def test_a_full_meeting_puts_the_answer_on_the_waiting_list_and_a_freed_seat_reaches_its_calendar(
        smtp_app_config, smtp_server, app, crema):
    first = make_entity(app, "Primo ente", areas=("A",), email="primo@example.org")
    second = make_entity(app, "Secondo ente", areas=("A",), email="secondo@example.org")
    meeting_id = _story_meeting(app)
    with app.app_context():
        db.session.get(Meeting, meeting_id).capacity = 1
        db.session.commit()
    inboxes = Inboxes(smtp_server)
    _answer(app, meeting_id, first, True)
    _answer(app, meeting_id, second, True)
    inboxes.deliver(app)
    assert inboxes.subjects["secondo@example.org"][0].startswith("Lista d'attesa")
    _answer(app, meeting_id, first, False)
    inboxes.deliver(app)
    assert inboxes.boxes["primo@example.org"].events == {}
    assert inboxes.subjects["secondo@example.org"][-1].startswith("Posto confermato")
    with app.app_context():
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.organization_id == second["organization"]))
        assert rsvp.status is RsvpStatus.YES and rsvp.short_code and rsvp.checkin_code
    [held] = inboxes.boxes["secondo@example.org"].events.values()
    assert not held.cancelled
