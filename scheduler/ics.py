"""iCalendar text for e-mailed invites (iTIP, RFC 5546/6047) and subscribable feeds (RFC 5545/7986).

Pure: no Flask and no database, so the mail worker, the views and the tests build the same bytes from the same
EventData. Invites and feeds share UID and SEQUENCE, so a calendar that has both keeps one event.
"""

from __future__ import annotations

import calendar as calendar_days
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vDuration, vText

from scheduler.timeutil import utcnow

PRODID = "-//Tavoli//Piano di Zona//IT"
CANCELLED_PREFIX = "ANNULLATO - "
NO_VENUE = "Sede da definire"
#: How often subscribed calendars should ask again (clients may poll less often: Google does).
REFRESH = timedelta(hours=1)
METHODS = ("REQUEST", "CANCEL")
PARTSTATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE")


@dataclass(frozen=True)
class EventData:
    """One meeting as the calendar sees it; instants are timezone-aware."""

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str
    url: str
    cancelled: bool
    created: datetime
    last_modified: datetime
    #: The online room of an online or hybrid meeting, for the recipients who may see it (RFC 7986 CONFERENCE,
    #: and URL, which more calendar apps show as a link); None in public feeds.
    conference: str | None = None


@dataclass(frozen=True)
class Attendee:
    """The recipient of an invitation, as its ATTENDEE property names them."""

    email: str
    name: str = ""
    partstat: str = "ACCEPTED"


class Invitation:
    """The text/calendar part of invitation mails for one event: METHOD REQUEST (new or changed) or CANCEL.

    Everything but the ATTENDEE is the same for every recipient of one change, so it is built and serialised
    once; `for_attendee()` then adds each recipient's ATTENDEE line, which costs a fraction of a full build
    (a venue change writes one invitation per entity, hundreds in one request).
    The mail's Content-Type must carry `method=` equal to `method`, or Outlook will not treat it as an invite.
    """

    def __init__(
        self,
        event: EventData,
        *,
        method: str,
        organizer_email: str,
        organizer_name: str,
        rsvp: bool = False,
        dtstamp: datetime | None = None,
        tz: str = "Europe/Rome",
    ) -> None:
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {method!r}")
        self.rsvp = rsvp
        cal = _calendar()
        cal.add("METHOD", method)
        # a CANCEL of a meeting that goes on removes one attendee (RFC 5546, 3.2.5): no STATUS, no "ANNULLATO"
        status = "CANCELLED" if event.cancelled else (None if method == "CANCEL" else "CONFIRMED")
        vevent = _vevent(
            event, tz, dtstamp=dtstamp or utcnow(), status=status, organizer=(organizer_email, organizer_name),
        )
        self._vevent = vevent
        head, end, tail = _finish(cal, [vevent]).rpartition(_END_VEVENT)
        if not end:
            raise ValueError("the event did not serialise")
        self._head, self._tail = head, end + tail

    def for_attendee(self, attendee: Attendee) -> str:
        if attendee.partstat not in PARTSTATS:
            raise ValueError(f"partstat must be one of {PARTSTATS}, not {attendee.partstat!r}")
        address = vCalAddress(f"mailto:{attendee.email}")
        if attendee.name:
            address.params["CN"] = attendee.name
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = attendee.partstat
        address.params["RSVP"] = "TRUE" if self.rsvp else "FALSE"
        line = self._vevent.content_line("ATTENDEE", address).to_ical().decode("utf-8")
        return f"{self._head}{line}\r\n{self._tail}"


_END_VEVENT = "END:VEVENT\r\n"


def invite(
    event: EventData,
    *,
    method: str,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str,
    attendee_name: str = "",
    partstat: str = "ACCEPTED",
    rsvp: bool = False,
    dtstamp: datetime | None = None,
    tz: str = "Europe/Rome",
) -> str:
    """One invitation for one recipient (see `Invitation` to write the same change to many)."""
    return Invitation(
        event, method=method, organizer_email=organizer_email, organizer_name=organizer_name, rsvp=rsvp,
        dtstamp=dtstamp, tz=tz,
    ).for_attendee(Attendee(attendee_email, attendee_name, partstat))


def feed(
    events: list[EventData],
    *,
    name: str,
    description: str = "",
    tz: str = "Europe/Rome",
    organizer_email: str | None = None,
    organizer_name: str = "",
) -> str:
    """A subscribable calendar (no METHOD): cancelled events stay, marked, so subscribers see the change.

    With an organizer, Outlook recognises the same event on a second import instead of duplicating it.
    DTSTAMP is the event's last change (RFC 5545 for objects without METHOD), so an unchanged feed has
    unchanged bytes.
    """
    cal = _calendar()
    # TEXT values, escaped (icalendar's calendar_name setter writes commas and semicolons raw)
    cal.add("NAME", vText(name))
    # a calendar's name is one line: clients show X-WR-CALNAME as it is, and do not unescape a line break in it
    cal.add("X-WR-CALNAME", vText(" ".join(name.splitlines()) if "\n" in name or "\r" in name else name))
    if description:
        cal.add("DESCRIPTION", vText(description))
        cal.add("X-WR-CALDESC", vText(description))
    cal.add("X-WR-TIMEZONE", vText(tz))
    cal.add("REFRESH-INTERVAL", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    organizer = (organizer_email, organizer_name) if organizer_email else None
    vevents = [
        _vevent(event, tz, dtstamp=event.last_modified, status="CANCELLED" if event.cancelled else "CONFIRMED",
                organizer=organizer)
        for event in events
    ]
    return _finish(cal, vevents)


def _calendar() -> Calendar:
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    return cal


def _finish(cal: Calendar, vevents: list[Event]) -> str:
    """Timezones first (clients read VTIMEZONE before the events that use it), then the events."""
    tzids = sorted({
        str(e[name].params["TZID"]) for e in vevents for name in ("DTSTART", "DTEND") if "TZID" in e[name].params
    })
    for tzid in tzids:
        cal.add_component(vtimezone(tzid))
    for vevent in vevents:
        cal.add_component(vevent)
    cal.add_missing_timezones()  # a zone vtimezone() could not describe: icalendar's own form
    return cal.to_ical().decode("utf-8")


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return dt.astimezone(UTC).replace(microsecond=0)


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant in the meeting's zone; in the hour repeated when clocks go back, the second occurrence in UTC,
    since a local time names the first one (RFC 5545, 3.3.5) and every client would show it an hour early."""
    utc = _utc(instant)
    local = utc.astimezone(zone)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return utc
    return local


def _vevent(
    event: EventData,
    tz: str,
    *,
    dtstamp: datetime,
    status: str | None,
    organizer: tuple[str, str] | None,
) -> Event:
    """The VEVENT; `status` CANCELLED marks the whole meeting cancelled, None leaves STATUS out."""
    cancelled = status == "CANCELLED"
    zone = ZoneInfo(tz)
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("DTSTAMP", _utc(dtstamp))
    vevent.add("DTSTART", _local(event.starts_at, zone))
    vevent.add("DTEND", _local(event.ends_at, zone))
    vevent.add("SUMMARY", (CANCELLED_PREFIX if cancelled else "") + event.summary)
    vevent.add("LOCATION", event.location or NO_VENUE)
    description = event.description
    if event.url and event.url not in description:
        description = f"{description}\n\n{event.url}".strip()
    if event.conference and event.conference not in description:
        description = f"{description}\n\nCollegamento online: {event.conference}".strip()
    vevent.add("DESCRIPTION", description)
    if event.conference:
        vevent.add("URL", event.conference)
        vevent.add("CONFERENCE", event.conference,
                   parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Collegamento online"})
    elif event.url:
        vevent.add("URL", event.url)
    if status:
        vevent.add("STATUS", status)
    vevent.add("TRANSP", "OPAQUE")
    vevent.add("CLASS", "PUBLIC")
    vevent.add("CREATED", _utc(event.created))
    vevent.add("LAST-MODIFIED", _utc(event.last_modified))
    if organizer:
        email, name = organizer
        address = vCalAddress(f"mailto:{email}")
        if name:
            address.params["CN"] = name
        vevent.add("ORGANIZER", address)
    return vevent


# --- VTIMEZONE -------------------------------------------------------------------------------------------------

#: Transitions are read from the zone over these years; a rule that holds for all of them becomes an RRULE.
RULE_YEARS = (2000, 2040)


@lru_cache(maxsize=16)
def vtimezone(tzid: str) -> Timezone:
    """The VTIMEZONE of `tzid`, made once per process (building it walks decades of transitions).

    A zone whose changes follow a yearly rule (Europe/Rome: last Sunday of March and of October) gets the
    RRULE form that Outlook reads correctly; icalendar's own form lists each change as an RDATE, which
    Outlook misreads and then shows times an hour off. Other zones fall back to icalendar's form.
    The returned component is shared: callers only serialise it.
    """
    zone = ZoneInfo(tzid)
    return _rule_vtimezone(tzid, zone) or Timezone.from_tzid(
        tzid, first_date=date(RULE_YEARS[0], 1, 1), last_date=date(RULE_YEARS[1], 1, 1)
    )


def _transitions(zone: ZoneInfo) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of every change of offset in RULE_YEARS."""
    found = []
    moment = datetime(RULE_YEARS[0], 1, 1, tzinfo=UTC)
    end = datetime(RULE_YEARS[1], 1, 1, tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + timedelta(days=1)
        next_offset = following.astimezone(zone).utcoffset()
        if next_offset != offset:
            low, high = moment, following  # the change is in (low, high]: find the minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            change = high.replace(second=0, microsecond=0)
            if change.astimezone(zone).utcoffset() == offset:
                change += timedelta(minutes=1)
            found.append((change, offset, next_offset))
            offset = next_offset
        moment = following
    return found


def _rule_vtimezone(tzid: str, zone: ZoneInfo) -> Timezone | None:
    """The zone as yearly RRULEs, or None when its changes do not follow one rule per kind of change."""
    transitions = _transitions(zone)
    component = Timezone()
    component.add("TZID", tzid)
    if not transitions:
        offset = datetime(RULE_YEARS[0], 1, 1, tzinfo=UTC).astimezone(zone).utcoffset()
        standard = TimezoneStandard()
        standard.add("TZNAME", datetime(RULE_YEARS[0], 1, 1, tzinfo=zone).tzname())
        standard.add("TZOFFSETFROM", offset)
        standard.add("TZOFFSETTO", offset)
        standard.add("DTSTART", datetime(1970, 1, 1))
        component.add_component(standard)
        return component
    kinds: dict[tuple[timedelta, timedelta], list[datetime]] = {}
    for instant, before, after in transitions:
        kinds.setdefault((before, after), []).append(instant)
    if len(kinds) > 2:
        return None
    for (before, after), instants in kinds.items():
        onsets = [(instant + before).replace(tzinfo=None) for instant in instants]  # local time before the change
        if len(onsets) != RULE_YEARS[1] - RULE_YEARS[0]:
            return None
        byday = _yearly_byday(onsets)
        if byday is None:
            return None
        after_local = instants[0].astimezone(zone)
        observance = TimezoneDaylight() if after_local.dst() else TimezoneStandard()
        observance.add("TZNAME", after_local.tzname())
        observance.add("TZOFFSETFROM", before)
        observance.add("TZOFFSETTO", after)
        observance.add("DTSTART", onsets[0])
        observance.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": onsets[0].month, "BYDAY": byday})
        component.add_component(observance)
    return component


def _yearly_byday(onsets: list[datetime]) -> str | None:
    """'-1SU' or '2SU' when every onset is that weekday of the same month at the same time, else None."""
    first = onsets[0]
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[first.weekday()]
    if any((o.month, o.time(), o.weekday()) != (first.month, first.time(), first.weekday()) for o in onsets):
        return None
    if all(o.day + 7 > calendar_days.monthrange(o.year, o.month)[1] for o in onsets):
        return f"-1{weekday}"
    nth = {(o.day - 1) // 7 + 1 for o in onsets}
    return f"{nth.pop()}{weekday}" if len(nth) == 1 else None
