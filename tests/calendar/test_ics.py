"""iCalendar text of invites and feeds, read back by icalendar and by an independent parser (vobject)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from scheduler import ics

ROME = ZoneInfo("Europe/Rome")
OFFICE = {"organizer_email": "udp@comune.example.it", "organizer_name": "Ufficio di Piano, Ambito di Prova"}


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ROME).astimezone(UTC)


def make_event(**changes) -> ics.EventData:
    event = ics.EventData(
        uid="3f0c2d7e-0000-4000-8000-000000000001@tavoli",
        sequence=2,
        starts_at=local(date(2024, 5, 15), time(9, 30)),
        ends_at=local(date(2024, 5, 15), time(13, 0)),
        summary="Percorso Minori e Famiglia – Incontro 2",
        location="Sala Pietro da Cemmo, Piazza Duomo 25, Crema",
        description="Quando: mercoledì 15 maggio 2024, 9:30-13:00\nDettagli: https://tavoli.example.it/incontri/7",
        url="https://tavoli.example.it/incontri/7",
        cancelled=False,
        created=datetime(2024, 4, 2, 8, 0, tzinfo=UTC),
        last_modified=datetime(2024, 4, 20, 10, 15, tzinfo=UTC),
    )
    return replace(event, **changes)


def request_for(event: ics.EventData, **kwargs) -> str:
    options = {"method": "REQUEST", "attendee_email": "referente@ente.example.org",
               "attendee_name": "Associazione Prova", **OFFICE}
    options.update(kwargs)
    return ics.invite(event, **options)


def parsed_events(text: str) -> tuple[Calendar, list]:
    """Parse with icalendar and require it to have found nothing wrong."""
    calendar = Calendar.from_ical(text)
    events = calendar.walk("VEVENT")
    for event in events:
        assert event.errors == []
    return calendar, events


def vobject_events(text: str) -> list:
    calendar = vobject.readOne(text)
    return list(calendar.vevent_list) if hasattr(calendar, "vevent_list") else []


def test_request_invite_has_the_itip_properties():
    text = request_for(make_event(), rsvp=True, partstat="NEEDS-ACTION",
                       dtstamp=datetime(2024, 4, 21, 12, 0, 5, tzinfo=UTC))
    calendar, (event,) = parsed_events(text)

    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == ics.PRODID
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert str(event["UID"]) == "3f0c2d7e-0000-4000-8000-000000000001@tavoli"
    assert event["SEQUENCE"] == 2
    assert event["STATUS"] == "CONFIRMED"
    assert event["LOCATION"] == "Sala Pietro da Cemmo, Piazza Duomo 25, Crema"
    assert str(event["URL"]) == "https://tavoli.example.it/incontri/7"
    assert "https://tavoli.example.it/incontri/7" in event["DESCRIPTION"]
    assert "DTSTAMP:20240421T120005Z\r\n" in text
    assert "CREATED:20240402T080000Z\r\n" in text
    assert "LAST-MODIFIED:20240420T101500Z\r\n" in text

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:udp@comune.example.it"
    assert organizer.params["CN"] == "Ufficio di Piano, Ambito di Prova"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:referente@ente.example.org"
    assert attendee.params["CN"] == "Associazione Prova"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_attendee_without_rsvp_request_says_so():
    _, (event,) = parsed_events(request_for(make_event(), partstat="ACCEPTED"))
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"


def test_text_is_folded_with_crlf_and_timezone_comes_before_the_event():
    text = request_for(make_event(summary="Percorso Adulti e povertà (Contrasto alla povertà e marginalità, "
                                          "Politiche per il lavoro, Politiche abitative) – Incontro 3"))
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")
    assert "TZID:Europe/Rome\r\n" in text


def test_start_and_end_are_local_times_with_tzid_on_both_sides_of_dst():
    may = make_event()
    december = make_event(starts_at=local(date(2024, 12, 11), time(9, 30)),
                          ends_at=local(date(2024, 12, 11), time(13, 0)))
    for event, utc_start in ((may, "07:30"), (december, "08:30")):
        text = request_for(event)
        assert f"DTSTART;TZID=Europe/Rome:{event.starts_at.astimezone(ROME):%Y%m%d}T093000\r\n" in text
        assert f"DTEND;TZID=Europe/Rome:{event.starts_at.astimezone(ROME):%Y%m%d}T130000\r\n" in text

        _, (parsed,) = parsed_events(text)
        start = parsed.start.astimezone(UTC)
        assert f"{start:%H:%M}" == utc_start
        assert parsed.end.astimezone(UTC) == event.ends_at

        (other,) = vobject_events(text)
        assert other.dtstart.value.astimezone(UTC) == event.starts_at
        assert other.dtend.value.astimezone(UTC) == event.ends_at


def test_vtimezone_read_by_another_parser_matches_the_zone_for_years():
    """vobject converts with the VTIMEZONE in the file, not the system's: every change of the clock must fit."""
    events = []
    for year in range(2024, 2040):
        for month in (3, 10):
            last_sunday = max(date(year, month, d) for d in range(25, 32) if date(year, month, d).weekday() == 6)
            for day in (last_sunday - timedelta(days=1), last_sunday + timedelta(days=1)):
                start = local(day, time(9, 30))
                events.append(make_event(uid=f"{day}@tavoli", starts_at=start, ends_at=start + timedelta(hours=3)))
    text = ics.feed(events, name="Prova")
    parsed = {str(e.uid.value): e for e in vobject_events(text)}
    assert len(parsed) == len(events)
    for event in events:
        assert parsed[event.uid].dtstart.value.astimezone(UTC) == event.starts_at, event.uid
        assert parsed[event.uid].dtstart.value.hour == 9


def test_vtimezone_uses_yearly_rules_outlook_understands_and_is_built_once():
    text = ics.vtimezone("Europe/Rome").to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text
    assert "RDATE" not in text
    assert ics.vtimezone("Europe/Rome") is ics.vtimezone("Europe/Rome")


def test_a_zone_without_a_fixed_rule_still_gets_a_vtimezone():
    """US rules changed in 2007: icalendar's own form (one RDATE per change), still before the event."""
    start = datetime(2024, 7, 1, 13, 30, tzinfo=UTC)
    text = ics.feed([make_event(starts_at=start, ends_at=start + timedelta(hours=1))], name="Prova",
                    tz="America/New_York")
    assert text.index("TZID:America/New_York") < text.index("BEGIN:VEVENT")
    assert "DTSTART;TZID=America/New_York:20240701T093000" in text
    _, (event,) = parsed_events(text)
    assert event.start.astimezone(UTC) == start


def test_cancel_of_a_cancelled_meeting_marks_the_event_cancelled():
    text = request_for(make_event(sequence=3, cancelled=True), method="CANCEL", partstat="DECLINED")
    calendar, (event,) = parsed_events(text)
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert str(event["SUMMARY"]) == "ANNULLATO - Percorso Minori e Famiglia – Incontro 2"
    assert event["SEQUENCE"] == 3
    (other,) = vobject_events(text)
    assert other.status.value == "CANCELLED"


def test_cancel_for_one_attendee_of_a_meeting_that_goes_on_has_no_status():
    """RFC 5546, 3.2.5: uninviting an attendee is a CANCEL without STATUS, the event otherwise unchanged."""
    text = request_for(make_event(sequence=4), method="CANCEL", partstat="DECLINED")
    calendar, (event,) = parsed_events(text)
    assert calendar["METHOD"] == "CANCEL" and "STATUS" not in event
    assert str(event["SUMMARY"]) == "Percorso Minori e Famiglia – Incontro 2"
    (other,) = vobject_events(text)
    assert not hasattr(other, "status")


def test_unknown_method_or_partstat_is_refused():
    with pytest.raises(ValueError):
        request_for(make_event(), method="PUBLISH")
    with pytest.raises(ValueError):
        request_for(make_event(), partstat="MAYBE")


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        request_for(make_event(starts_at=datetime(2024, 5, 15, 9, 30)))


def test_missing_venue_reads_sede_da_definire():
    _, (event,) = parsed_events(request_for(make_event(location="")))
    assert event["LOCATION"] == "Sede da definire"


def test_feed_has_no_method_and_says_its_name_and_refresh():
    cancelled = make_event(uid="second@tavoli", cancelled=True, sequence=5)
    text = ics.feed([make_event(), cancelled], name="Piano di Zona, Area A; Minori", description="Gli incontri",
                    **OFFICE)
    calendar, events = parsed_events(text)

    assert "METHOD" not in calendar
    assert "\r\nMETHOD:" not in text
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "X-PUBLISHED-TTL:PT1H\r\n" in text
    assert "X-WR-TIMEZONE:Europe/Rome\r\n" in text
    # TEXT values: commas and semicolons escaped, as clients unescape them
    assert "\r\nNAME:Piano di Zona\\, Area A\\; Minori\r\n" in text
    assert "\r\nX-WR-CALNAME:Piano di Zona\\, Area A\\; Minori\r\n" in text
    assert "\r\nX-WR-CALDESC:Gli incontri\r\n" in text
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")

    by_uid = {str(e["UID"]): e for e in events}
    assert by_uid["second@tavoli"]["STATUS"] == "CANCELLED"
    assert str(by_uid["second@tavoli"]["SUMMARY"]).startswith("ANNULLATO - ")
    assert by_uid["second@tavoli"]["SEQUENCE"] == 5
    assert by_uid[make_event().uid]["STATUS"] == "CONFIRMED"
    assert str(by_uid[make_event().uid]["ORGANIZER"]) == "mailto:udp@comune.example.it"

    other = vobject.readOne(text)
    assert other.x_wr_calname.value == "Piano di Zona, Area A; Minori"
    assert {e.uid.value for e in other.vevent_list} == {make_event().uid, "second@tavoli"}


def test_feed_and_invite_describe_the_same_event():
    event = make_event()
    _, (invited,) = parsed_events(request_for(event))
    _, (published,) = parsed_events(ics.feed([event], name="Calendario"))
    for name in ("UID", "SEQUENCE", "SUMMARY", "LOCATION", "DESCRIPTION", "URL", "STATUS"):
        assert invited[name] == published[name], name
    assert invited.start == published.start
    assert invited.end == published.end


def test_feed_is_the_same_text_while_nothing_changes():
    """DTSTAMP of a feed is the event's last change, so polling clients see identical bytes."""
    events = [make_event()]
    assert ics.feed(events, name="Calendario") == ics.feed(events, name="Calendario")
    assert "DTSTAMP:20240420T101500Z\r\n" in ics.feed(events, name="Calendario")


def test_special_characters_survive_both_parsers():
    event = make_event(summary="Tavolo \"Fragilità\", anziani; disabilità \\ incontro",
                       location="Sala A, piano 1; Via Roma 3", description="Riga uno\nRiga due, con virgola")
    text = request_for(event)
    _, (parsed,) = parsed_events(text)
    assert str(parsed["SUMMARY"]) == event.summary
    assert str(parsed["LOCATION"]) == event.location
    (other,) = vobject_events(text)
    assert other.summary.value == event.summary
    assert other.location.value == event.location
    assert other.description.value.startswith("Riga uno\nRiga due, con virgola")


def test_empty_feed_is_still_a_valid_calendar():
    text = ics.feed([], name="Nessun incontro")
    calendar = Calendar.from_ical(text)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["X-WR-CALNAME"]) == "Nessun incontro"
