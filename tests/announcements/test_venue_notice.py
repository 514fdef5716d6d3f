"""The venue notice: set the venue and tell the entities in one step, the updated invite in the same e-mail."""

from __future__ import annotations

import re

import sqlalchemy as sa
from icalendar import Calendar

from scheduler.announcements.services import send_due
from scheduler.calendar.models import Meeting, RsvpStatus, Venue
from scheduler.calls.models import Comune
from scheduler.calls.services import current_call
from scheduler.extensions import db
from scheduler.mailing import preferences
from scheduler.mailing.models import OutboxMessage
from scheduler.mailing.worker import deliver_all_due
from tests.announcements.conftest import answer
from tests.factories import make_entity, make_meeting


def make_venue(app) -> int:
    with app.app_context():
        call = current_call()
        crema = db.session.scalar(sa.select(Comune).where(Comune.name == "Crema"))
        venue = Venue(call=call, name="Sala Pietro da Cemmo", address="Piazza Duomo 25", comune=crema,
                      room="Primo piano", accessibility_notes="Ascensore dal cortile; parcheggio disabili.",
                      capacity=60)
        db.session.add(venue)
        db.session.commit()
        return venue.id


def test_area_a_is_told_the_venue_with_the_updated_invite(smtp_app_config, app, staff, smtp_server):
    entities = [make_entity(app, f"Ente A{n:02d}", areas=("A",), email=f"ente-a{n:02d}@example.org")
                for n in range(25)]
    other_area = make_entity(app, "Ente di B", areas=("B",), email="ente-b@example.org")
    meeting_id = make_meeting(app, area="A", days_ahead=12)
    for entity in entities[:10]:
        answer(app, meeting_id, entity, RsvpStatus.YES)
    answer(app, meeting_id, entities[10], RsvpStatus.NO)
    with app.app_context():
        preferences.set_opt_out("ente-a24@example.org", "announcements", True)  # not answered: may opt out
        preferences.set_opt_out("ente-a00@example.org", "announcements", True)  # said yes: still gets the invite
        db.session.commit()
        sequence_before = db.session.get(Meeting, meeting_id).sequence
    venue_id = make_venue(app)

    page = staff.get(f"/gestione/calendario/incontri/{meeting_id}/comunica-sede?sede={venue_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sala Pietro da Cemmo" in html and "Piazza Duomo 25" in html and "Ascensore dal cortile" in html
    assert "23 destinatari" in html  # 25 of area A, less the one who declined and the one who opted out
    subject = re.search(r'id="subject"[^>]*value="([^"]*)"', html).group(1)
    body = re.search(r'<textarea[^>]*id="body"[^>]*>\n?([^<]*)</textarea>', html).group(1)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    import html as html_lib

    response = staff.post(f"/gestione/calendario/incontri/{meeting_id}/comunica-sede", data={
        "csrf_token": csrf, "venue_id": str(venue_id), "audience": "meeting_invited",
        "subject": html_lib.unescape(subject), "body": html_lib.unescape(body), "action": "send",
    })
    assert response.status_code == 303
    log = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "La comunicazione con l&#39;invito aggiornato è in invio" in log and "In invio" in log
    assert "I messaggi sono in preparazione" in log

    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        # the venue is set at once; the worker writes the messages on its next loop
        assert meeting.venue_id == venue_id and meeting.sequence == sequence_before + 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
        assert send_due() == 1
        topics = list(db.session.scalars(sa.select(OutboxMessage.topic)))
        assert topics == ["announcement"] * 23  # one message each, no separate "venue changed" update
        assert send_due() == 0  # written once
    log = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Inviata" in log and "I messaggi sono in preparazione" not in log
    assert log.count("Vedi il messaggio") == 23
    assert staff.get(response.headers["Location"] + "/modifica").status_code == 303  # nothing left to edit
    with app.app_context():
        deliver_all_due("w")
    received = smtp_server.wait_for(23)
    assert len(received) == 23
    by_address = {m["To"].addresses[0].addr_spec: m for m in received}
    assert "ente-b@example.org" not in by_address and "ente-a10@example.org" not in by_address
    assert "ente-a24@example.org" not in by_address and "ente-a00@example.org" in by_address
    for address, message in by_address.items():
        text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
        assert "Sala Pietro da Cemmo" in text and "Piazza Duomo 25" in text and "{" not in text
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        event = Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
        assert not event.errors
        assert "Sala Pietro da Cemmo" in str(event["LOCATION"])
        assert int(event["SEQUENCE"]) == sequence_before + 1
        confirmed = int(address[6:8]) < 10
        assert event["ATTENDEE"].params["PARTSTAT"] == ("ACCEPTED" if confirmed else "NEEDS-ACTION")
        # their own invitation update is service mail; the others may unsubscribe from announcements
        assert ("List-Unsubscribe" in message) is (not confirmed)
    del other_area


def test_a_venue_notice_for_a_past_or_cancelled_meeting_is_refused(app, staff):
    meeting_id = make_meeting(app, area="A", days_ahead=-3)
    response = staff.get(f"/gestione/calendario/incontri/{meeting_id}/comunica-sede")
    assert response.status_code == 303


def test_the_venue_of_another_call_or_a_forged_meeting_is_not_found(app, staff):
    assert staff.get("/gestione/calendario/incontri/999999/comunica-sede").status_code == 404


def test_the_venue_notice_takes_the_same_queries_for_3_or_30_entities(app, staff):
    """The notice goes through the calendar's change path: holders and the audience are read together."""
    from scheduler.announcements.audience import Audience
    from scheduler.announcements.services import Draft, announce_venue, venue_notice_text
    from scheduler.auth.models import User
    from tests.queries import count_queries

    venue_id = make_venue(app)
    counts = {}
    for size in (3, 30):
        entities = [make_entity(app, f"Ente {size}-{n}", areas=("A",), email=f"ente-{size}-{n}@example.org")
                    for n in range(size)]
        meeting_id = make_meeting(app, area="A", days_ahead=5 + size)
        for entity in entities[: size // 3]:
            answer(app, meeting_id, entity, RsvpStatus.YES)
        with app.app_context():
            meeting, venue = db.session.get(Meeting, meeting_id), db.session.get(Venue, venue_id)
            subject, body = venue_notice_text(meeting, venue)
            actor = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
            draft = Draft(subject=subject, body=body, audience=Audience(kind="meeting_invited", meeting_id=meeting_id))
            with count_queries(app) as statements:
                announce_venue(meeting, venue, draft, actor)
                db.session.commit()
                send_due()  # the worker writes the messages
            postgres = db.engine.dialect.name == "postgresql"
            counts[size] = [s.split()[0] for s in statements if postgres or not s.startswith("INSERT")]
            messages = list(db.session.scalars(sa.select(OutboxMessage)))
            assert len({m.to_address for m in messages}) == len(messages) >= size
            db.session.execute(sa.delete(OutboxMessage))
            db.session.commit()
    assert counts[30] == counts[3], counts


def test_a_notice_overtaken_by_another_venue_change_is_not_sent(smtp_app_config, app, staff, smtp_server):
    """Staff set a venue by notice, then pick another from the meeting form before the worker writes the
    notice: the holders get the form's update (the latest venue), and nobody gets the stale notice."""
    from scheduler.announcements.audience import Audience
    from scheduler.announcements.services import Draft, announce_venue, venue_notice_text
    from scheduler.auth.models import User
    from scheduler.calendar.services import set_venue

    entities = [make_entity(app, f"Ente S{n}", areas=("A",), email=f"ente-s{n}@example.org") for n in range(3)]
    meeting_id = make_meeting(app, area="A", days_ahead=9)
    answer(app, meeting_id, entities[0], RsvpStatus.YES)
    first, second = make_venue(app), make_venue(app)
    with app.app_context():
        meeting, venue = db.session.get(Meeting, meeting_id), db.session.get(Venue, first)
        subject, body = venue_notice_text(meeting, venue)
        actor = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        notice = announce_venue(meeting, venue, Draft(subject=subject, body=body, audience=Audience(
            kind="meeting_invited", meeting_id=meeting_id)), actor)
        db.session.commit()
        outcome = set_venue(db.session.get(Meeting, meeting_id), db.session.get(Venue, second))
        db.session.commit()
        assert [m.to_address for m in outcome.messages] == ["ente-s0@example.org"]
        assert send_due() == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
        notice_id = notice.id
    page = staff.get(f"/gestione/comunicazioni/{notice_id}").get_data(as_text=True)
    assert "La sede è stata cambiata di nuovo prima dell&#39;invio" in page
    assert "3 indirizzi esclusi" in page


def test_the_worker_writes_and_delivers_a_notice_on_its_next_loop(smtp_app_config, app, staff, smtp_server):
    from scheduler.announcements.audience import Audience
    from scheduler.announcements.services import Draft, announce_venue, venue_notice_text
    from scheduler.auth.models import User
    from scheduler.mailing.worker import run_worker

    for n in range(3):
        make_entity(app, f"Ente W{n}", areas=("A",), email=f"ente-w{n}@example.org")
    meeting_id = make_meeting(app, area="A", days_ahead=9)
    venue_id = make_venue(app)
    with app.app_context():
        meeting, venue = db.session.get(Meeting, meeting_id), db.session.get(Venue, venue_id)
        subject, body = venue_notice_text(meeting, venue)
        actor = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        announce_venue(meeting, venue, Draft(subject=subject, body=body, audience=Audience(
            kind="meeting_invited", meeting_id=meeting_id)), actor)
        db.session.commit()
    run_worker(app, once=True)
    received = smtp_server.wait_for(3)
    assert sorted(m["To"].addresses[0].addr_spec for m in received) == [
        "ente-w0@example.org", "ente-w1@example.org", "ente-w2@example.org"]
