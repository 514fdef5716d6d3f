"""The subscribable feeds as calendar apps fetch them: content, validators, 304, private feeds, query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import vobject
from icalendar import Calendar

from scheduler import ics
from scheduler.calendar.feeds import event_data
from scheduler.calendar.models import Meeting, MeetingStatus, Rsvp, RsvpStatus, Venue
from scheduler.calls.models import Call, Comune, Track
from scheduler.extensions import db
from scheduler.registry.models import Organization
from tests.factories import make_entity
from tests.queries import count_queries

pytestmark = pytest.mark.usefixtures("crema")


def meeting_id(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Meeting.id).where(Meeting.key == key))


def events_of(response) -> list:
    """VEVENTs parsed by icalendar (no errors allowed) and, independently, by vobject (same UIDs)."""
    text = response.get_data(as_text=True)
    events = Calendar.from_ical(text).walk("VEVENT")
    for event in events:
        assert event.errors == []
    other = vobject.readOne(text)
    other_uids = sorted(e.uid.value for e in getattr(other, "vevent_list", []))
    assert other_uids == sorted(str(e["UID"]) for e in events)
    return events


def update_meeting(app, key: str, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(Meeting).where(Meeting.key == key).values(**values))
        db.session.commit()




def test_all_meetings_feed(client):
    response = client.get("/calendario.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=300" in response.headers["Cache-Control"]
    text = response.get_data(as_text=True)
    assert "\r\nMETHOD:" not in text
    assert "X-WR-CALNAME:Piano di Zona 2025-2027 – Calendario degli incontri\r\n" in text
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "X-PUBLISHED-TTL:PT1H\r\n" in text
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")

    events = events_of(response)
    assert len(events) == 12
    assert all(e["LOCATION"] == "Sede da definire" for e in events)
    assert all(e["STATUS"] == "CONFIRMED" for e in events)
    local_starts = {f"{e.start:%H:%M}" for e in events}
    assert local_starts == {"09:30", "14:30"}


def test_seed_meetings_are_at_the_right_instant(app, client):
    events = {str(e["UID"]): e for e in events_of(client.get("/calendario.ics"))}
    with app.app_context():
        a1 = db.session.scalar(sa.select(Meeting).where(Meeting.key == "A1"))
        b1 = db.session.scalar(sa.select(Meeting).where(Meeting.key == "B1"))
        a1_uid, b1_uid = a1.uid, b1.uid
    # 15 May 2024, 9:30 in Rome (summer time, UTC+2)
    assert events[a1_uid].start.astimezone(UTC) == datetime(2024, 5, 15, 7, 30, tzinfo=UTC)
    assert str(events[a1_uid]["SUMMARY"]) == "Percorso Minori e Famiglia – Incontro 1"
    # 7 May 2024, 14:30-18:00
    assert events[b1_uid].start.astimezone(UTC) == datetime(2024, 5, 7, 12, 30, tzinfo=UTC)
    assert events[b1_uid].end.astimezone(UTC) == datetime(2024, 5, 7, 16, 0, tzinfo=UTC)
    assert "martedì 7 maggio 2024, 14:30-18:00" in str(events[b1_uid]["DESCRIPTION"])
    assert f"http://tavoli.test/incontri/{meeting_id(app, 'B1')}" in str(events[b1_uid]["DESCRIPTION"])


def test_a_winter_meeting_is_an_hour_later_in_utc(app, client):
    with app.app_context():
        track = db.session.scalar(sa.select(Track).where(Track.key == "A-stesura"))
        db.session.add(Meeting(track=track, key="A-winter", starts_at=datetime(2024, 12, 11, 8, 30, tzinfo=UTC),
                               ends_at=datetime(2024, 12, 11, 12, 0, tzinfo=UTC)))
        db.session.commit()
    text = client.get("/calendario/A.ics").get_data(as_text=True)
    assert "DTSTART;TZID=Europe/Rome:20241211T093000\r\n" in text
    assert "DTSTART;TZID=Europe/Rome:20240515T093000\r\n" in text


def test_area_feed_has_only_its_area(app, client):
    response = client.get("/calendario/A.ics")
    assert response.status_code == 200
    events = events_of(response)
    assert len(events) == 3
    assert all(str(e["SUMMARY"]).startswith("Percorso Minori e Famiglia") for e in events)
    assert "X-WR-CALNAME:Piano di Zona 2025-2027 – Area A Minori e Famiglia\r\n" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/calendario/Z.ics", "/feed/unknown.ics", "/incontri/999999.ics"])
def test_unknown_feeds_are_404_in_plain_text(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/plain"


def test_unchanged_feed_is_304_and_a_change_gives_a_new_etag(app, client):
    first = client.get("/calendario.ics")
    etag = first.headers["ETag"]

    again = client.get("/calendario.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag

    since = client.get("/calendario.ics", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304

    # staff set the venue: the meeting's SEQUENCE goes up
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        venue = Venue(call=call, name="Sala Pietro da Cemmo", address="Piazza Duomo 25, Crema")
        db.session.add(venue)
        db.session.flush()
        db.session.execute(sa.update(Meeting).where(Meeting.key == "A2").values(
            venue_id=venue.id, sequence=Meeting.sequence + 1, updated_at=datetime.now(UTC)))
        db.session.commit()

    changed = client.get("/calendario.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    a2 = [e for e in events_of(changed) if e["LOCATION"] != "Sede da definire"]
    assert len(a2) == 1
    assert a2[0]["LOCATION"] == "Sala Pietro da Cemmo, Piazza Duomo 25, Crema"
    assert a2[0]["SEQUENCE"] == 1


def test_a_venue_edited_in_place_changes_the_etag(app, client):
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        venue = Venue(call=call, name="Sala Polenghi", address="Via Dante 1, Crema")
        db.session.add(venue)
        db.session.flush()
        db.session.execute(sa.update(Meeting).where(Meeting.key == "B2").values(venue_id=venue.id))
        db.session.commit()
        venue_id = venue.id
    etag = client.get("/calendario.ics").headers["ETag"]
    with app.app_context():
        db.session.get(Venue, venue_id).address = "Via Dante 3, Crema"
        db.session.commit()
    response = client.get("/calendario.ics", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "Via Dante 3" in response.get_data(as_text=True)


def _rename_track(app):
    with app.app_context():
        db.session.scalar(sa.select(Track).where(Track.key == "A-stesura")).name = "Tavolo Famiglie"
        db.session.commit()
    return "Tavolo Famiglie – Incontro 1"


def _rename_area(app):
    from scheduler.calls.models import Area

    with app.app_context():
        db.session.scalar(sa.select(Area).where(Area.code == "A")).full_name = "Minori Famiglie e Scuola"
        db.session.commit()
    return "Area A) Minori Famiglie e Scuola"


def _retitle_call(app):
    with app.app_context():
        db.session.scalar(sa.select(Call)).plan_title = "Piano di Zona 2025-2028"
        db.session.commit()
    return "Piano di Zona 2025-2028 – Area A"


def _add_meeting(app):
    with app.app_context():
        track = db.session.scalar(sa.select(Track).where(Track.key == "A-stesura"))
        db.session.add(Meeting(track=track, title="Incontro aggiunto", ends_at=datetime(2024, 6, 20, 11, 0, tzinfo=UTC),
                               starts_at=datetime(2024, 6, 20, 7, 30, tzinfo=UTC)))
        db.session.commit()
    return "Incontro aggiunto"


@pytest.mark.parametrize("change", [_rename_track, _rename_area, _retitle_call, _add_meeting])
def test_every_change_the_feed_shows_gives_it_a_new_etag(app, client, change):
    first = client.get("/calendario/A.ics")
    shown = change(app)
    again = client.get("/calendario/A.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
    assert shown in again.get_data(as_text=True).replace("\r\n ", "")


def test_answers_do_not_change_the_public_feeds(app, client):
    """Entities answering all day long would otherwise make every subscriber download the feeds again."""
    from scheduler.auth.models import User
    from scheduler.calendar.services import answer

    entity = make_entity(app, "Ente Che Risponde", areas=("A",), drafting=True)
    etags = {path: client.get(path).headers["ETag"] for path in ("/calendario.ics", "/calendario/A.ics")}
    with app.app_context():
        track = db.session.scalar(sa.select(Track).where(Track.key == "A-stesura"))
        meeting = Meeting(track=track, title="Futuro", starts_at=datetime.now(UTC) + timedelta(days=9),
                          ends_at=datetime.now(UTC) + timedelta(days=9, hours=3))
        db.session.add(meeting)
        db.session.commit()
        meeting_id = meeting.id
    etags = {path: client.get(path).headers["ETag"] for path in etags}
    with app.app_context():
        answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
               db.session.get(User, entity["user"]), True, [{"name": "Eva", "role": ""}])
        db.session.commit()
    for path, etag in etags.items():
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304, path


def test_renaming_the_entity_changes_its_private_feed(app, client):
    setup = _private_setup(app)
    url = "/feed/aurora-token-0123456789abcdef.ics"
    etag = client.get(url).headers["ETag"]
    with app.app_context():
        db.session.get(Organization, setup["aurora"]).name = "Cooperativa Aurora Nuova"
        db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "X-WR-CALNAME:Cooperativa Aurora Nuova – I miei incontri" in changed.get_data(as_text=True)


def test_cancelled_meeting_stays_in_the_feed_marked(app, client):
    update_meeting(app, "C2", status=MeetingStatus.CANCELLED, sequence=1)
    events = events_of(client.get("/calendario/C.ics"))
    cancelled = [e for e in events if e["STATUS"] == "CANCELLED"]
    assert len(cancelled) == 1
    assert str(cancelled[0]["SUMMARY"]).startswith("ANNULLATO - Percorso Adulti e povertà")
    assert cancelled[0]["SEQUENCE"] == 1
    assert len(events) == 3


def test_one_meeting_download_matches_the_invite(app, client):
    mid = meeting_id(app, "D2")
    response = client.get(f"/incontri/{mid}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="incontro-{mid}.ics"'
    (published,) = events_of(response)

    with app.app_context():
        meeting = db.session.get(Meeting, mid)
        call = meeting.track.call
        invite = ics.invite(event_data(meeting, "http://tavoli.test"), method="REQUEST",
                            organizer_email=call.office_email, organizer_name=call.office_name,
                            attendee_email="ente@example.org")
    (invited,) = Calendar.from_ical(invite).walk("VEVENT")
    for name in ("UID", "SEQUENCE", "SUMMARY", "LOCATION", "DESCRIPTION", "URL", "STATUS", "ORGANIZER"):
        assert str(invited[name]) == str(published[name]), name
    assert invited.start == published.start

    assert client.get(f"/incontri/{mid}.ics", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def _private_setup(app) -> dict:
    first = make_entity(app, "Cooperativa Sociale Aurora", areas=("A", "B"))
    second = make_entity(app, "Associazione Girasole", areas=("B",))
    with app.app_context():
        ids = {key: db.session.scalar(sa.select(Meeting.id).where(Meeting.key == key))
               for key in ("A1", "A2", "A3", "B1", "B2")}
        aurora = db.session.get(Organization, first["organization"])
        girasole = db.session.get(Organization, second["organization"])
        aurora.feed_token = "aurora-token-0123456789abcdef"
        girasole.feed_token = "girasole-token-0123456789abcdef"
        db.session.add_all([
            Rsvp(meeting_id=ids["A1"], organization=aurora, status=RsvpStatus.YES),
            Rsvp(meeting_id=ids["A2"], organization=aurora, status=RsvpStatus.WAITLIST),
            Rsvp(meeting_id=ids["A3"], organization=aurora, status=RsvpStatus.NO),
            Rsvp(meeting_id=ids["B1"], organization=girasole, status=RsvpStatus.YES),
        ])
        db.session.commit()
        uids = {key: db.session.get(Meeting, mid).uid for key, mid in ids.items()}
    return {"uids": uids, "aurora": first["organization"]}


def test_private_feed_lists_the_meetings_the_entity_said_yes_or_waits_for(app, client):
    setup = _private_setup(app)
    response = client.get("/feed/aurora-token-0123456789abcdef.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]
    uids = {str(e["UID"]) for e in events_of(response)}
    assert uids == {setup["uids"]["A1"], setup["uids"]["A2"]}
    text = response.get_data(as_text=True)
    assert "X-WR-CALNAME:Cooperativa Sociale Aurora – I miei incontri\r\n" in text
    assert "\r\nMETHOD:" not in text

    other = client.get("/feed/girasole-token-0123456789abcdef.ics")
    assert {str(e["UID"]) for e in events_of(other)} == {setup["uids"]["B1"]}


def test_private_feed_follows_answers_and_dies_with_its_token(app, client):
    setup = _private_setup(app)
    url = "/feed/aurora-token-0123456789abcdef.ics"
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    with app.app_context():
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.organization_id == setup["aurora"],
                                                       Rsvp.status == RsvpStatus.WAITLIST))
        rsvp.status = RsvpStatus.NO
        db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert {str(e["UID"]) for e in events_of(changed)} == {setup["uids"]["A1"]}

    with app.app_context():
        db.session.get(Organization, setup["aurora"]).feed_token = "aurora-new-token-9876543210"
        db.session.commit()
    assert client.get(url).status_code == 404
    assert client.get("/feed/aurora-new-token-9876543210.ics").status_code == 200


def _add_meetings(app, count: int) -> None:
    """More meetings, each with its own venue in a comune, spread over the tracks."""
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        tracks = list(db.session.scalars(sa.select(Track).where(Track.call_id == call.id)))
        comuni = list(db.session.scalars(sa.select(Comune).where(Comune.call_id == call.id).limit(5)))
        start = datetime(2025, 1, 13, 8, 30, tzinfo=UTC)
        for n in range(count):
            venue = Venue(call=call, name=f"Sala {n}", address=f"Via Prova {n}", comune=comuni[n % len(comuni)],
                          accessibility_notes="Accesso senza gradini.")
            db.session.add(Meeting(track=tracks[n % len(tracks)], title=f"Incontro di attuazione {n}",
                                   starts_at=start + timedelta(days=n), ends_at=start + timedelta(days=n, hours=3),
                                   venue=venue))
        db.session.commit()


@pytest.mark.parametrize("path", ["/calendario.ics", "/calendario/A.ics", "/calendario"])
def test_public_calendar_needs_the_same_queries_for_12_or_40_meetings(app, client, path):
    _add_meetings(app, 1)  # at least one venue with a comune, so their loads are counted from the start
    client.get(path)  # warm-up: first request of the app
    with count_queries(app) as few:
        assert _uncached(app, client, path).status_code == 200
    _add_meetings(app, 27)
    with count_queries(app) as many:
        assert _uncached(app, client, path).status_code == 200
    assert len(few) == len(many), many


def _uncached(app, client, path):
    """The feed built from the database, not taken from the texts this process already made."""
    from scheduler.calendar.feeds import rendered_feeds

    rendered_feeds(app).clear()
    return client.get(path)


@pytest.mark.parametrize("path", ["/calendario.ics", "/calendario/A.ics", "/incontri/{id}.ics", "/feed/{token}.ics"])
def test_a_feed_polled_again_costs_one_query_whether_answered_200_or_304(app, client, path):
    setup = _private_setup(app)
    path = path.format(id=meeting_id(app, "A1"), token="aurora-token-0123456789abcdef")
    first = client.get(path)
    assert first.status_code == 200
    with count_queries(app) as again:
        second = client.get(path)
    with count_queries(app) as conditional:
        third = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.get_data() == first.get_data()
    assert third.status_code == 304 and third.get_data() == b""
    assert len(again) == 1 and len(conditional) == 1, (again, conditional)
    assert setup


def test_private_feed_needs_the_same_queries_for_3_or_31_meetings(app, client):
    setup = _private_setup(app)
    _add_meetings(app, 29)
    with app.app_context():
        added = list(db.session.scalars(sa.select(Meeting.id).where(Meeting.key.is_(None)).order_by(Meeting.id)))
        # one meeting with a venue from the start, so venue and comune loads are counted in both cases
        db.session.add(Rsvp(meeting_id=added[0], organization_id=setup["aurora"], status=RsvpStatus.YES))
        db.session.commit()
    url = "/feed/aurora-token-0123456789abcdef.ics"
    client.get(url)
    with count_queries(app) as few:
        _uncached(app, client, url)
    with app.app_context():
        for added_id in added[1:]:
            db.session.add(Rsvp(meeting_id=added_id, organization_id=setup["aurora"], status=RsvpStatus.YES))
        db.session.commit()
    with count_queries(app) as many:
        response = _uncached(app, client, url)
    assert len(events_of(response)) == 31
    assert len(few) == len(many), many


def test_public_feeds_do_not_vary_on_the_cookie(client, crema):
    """Shared caches keep one copy of a public feed, not one per visitor."""
    response = client.get("/calendario.ics")
    assert "public" in response.headers["Cache-Control"]
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "Cookie" in client.get("/").headers.get("Vary", "")


def test_public_stamps_are_reused_for_a_few_seconds_and_private_ones_never(app, client, monkeypatch):
    """With FEED_STAMP_TTL a process asks the database about a public feed at most once in that time."""
    from scheduler.calendar import feeds

    setup = _private_setup(app)
    app.config["FEED_STAMP_TTL"] = 10
    clock = [1000.0]
    monkeypatch.setattr(feeds.time, "monotonic", lambda: clock[0])
    first = client.get("/calendario/A.ics")
    with count_queries(app) as polled:
        assert client.get("/calendario/A.ics", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert polled == []
    _rename_track(app)
    clock[0] += 5  # within the ten seconds: the stamps read a moment ago still stand
    assert client.get("/calendario/A.ics", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    clock[0] += 6
    changed = client.get("/calendario/A.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Tavolo Famiglie" in changed.get_data(as_text=True)

    url = "/feed/aurora-token-0123456789abcdef.ics"
    assert client.get(url).status_code == 200
    with app.app_context():
        db.session.get(Organization, setup["aurora"]).feed_token = "aurora-revoked-0123456789"
        db.session.commit()
    assert client.get(url).status_code == 404, "a revoked address stops working at once"


def test_a_private_feed_reads_only_its_own_stamps_when_the_calls_are_fresh(app, client):
    """The same ETag either way, so a calendar's copy stays valid whichever process answers it."""
    _private_setup(app)
    url = "/feed/aurora-token-0123456789abcdef.ics"
    exact = client.get(url).headers["ETag"]  # FEED_STAMP_TTL is 0 in tests: one query reads everything
    app.config["FEED_STAMP_TTL"] = 10
    assert client.get(url).headers["ETag"] == exact  # ...and keeps the call's part for the next feeds
    with count_queries(app) as polled:
        again = client.get(url, headers={"If-None-Match": exact})
    assert again.status_code == 304
    assert len(polled) == 1 and "calls" not in polled[0], polled
