"""The venue notice: set the venue and tell the entities in one step, the updated invite in the same e-mail."""

from __future__ import annotations

import re

import sqlalchemy as sa
from icalendar import Calendar

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
    assert "23 messaggi con l&#39;invito aggiornato in consegna" in log
    assert "Registro degli invii" in log

    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.venue_id == venue_id and meeting.sequence == sequence_before + 1
        topics = list(db.session.scalars(sa.select(OutboxMessage.topic)))
        assert topics == ["announcement"] * 23  # one message each, no separate "venue changed" update
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
            postgres = db.engine.dialect.name == "postgresql"
            counts[size] = [s.split()[0] for s in statements if postgres or not s.startswith("INSERT")]
            messages = list(db.session.scalars(sa.select(OutboxMessage)))
            assert len({m.to_address for m in messages}) == len(messages) >= size
            db.session.execute(sa.delete(OutboxMessage))
            db.session.commit()
    assert counts[30] == counts[3], counts
