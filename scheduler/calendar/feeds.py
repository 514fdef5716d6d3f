"""From meetings to calendar events, and the subscribable feeds: their queries, names and validators.

Invites (notifications.py) and feeds build their events here, so UID, SEQUENCE, SUMMARY and DESCRIPTION are
the same wherever a calendar meets the meeting. Every query loads what the events need in a fixed number of
statements, whatever the number of meetings.

Calendar apps poll feeds every hour whether anything changed or not, so a feed is answered in two steps: one
query reads the stamps (last change and number of rows) of everything its text is made of, which gives the
ETag and Last-Modified; only when the client's copy is out of date is the text needed, and then it is taken
from the texts this process served recently by ETag (`rendered_feeds`), or built. The stamps of public feeds
are kept a few seconds too (`StampCache`, FEED_STAMP_TTL), well within the five minutes their answers allow
any cache.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import selectinload

from scheduler import ics
from scheduler.caching import LRUCache, app_cache
from scheduler.calendar.models import Meeting, MeetingMode, Rsvp, RsvpStatus, Venue
from scheduler.calls.ambiti import ambito_id_of_host, normal_host
from scheduler.calls.models import Area, Call, Track, tracks_of_areas
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.registry.models import Organization

#: Part of every ETag: raise it when the text of the feeds changes shape, so clients fetch the new form.
FEED_FORMAT = "3"
#: Answers whose meetings appear in the entity's private feed.
PRIVATE_FEED_STATUSES = (RsvpStatus.YES, RsvpStatus.WAITLIST)


def meeting_url(meeting_id: int, base_url: str) -> str:
    """The public page of a meeting: the same address in invites, feeds and e-mails."""
    return f"{base_url.rstrip('/')}/incontri/{meeting_id}"


def map_link(venue: Venue) -> str:
    """The venue's own map link, else an OpenStreetMap search for its address."""
    if venue.map_url:
        return venue.map_url
    query = venue.address
    if venue.comune and venue.comune.name not in query:
        query = f"{query}, {venue.comune.name}"
    return f"https://www.openstreetmap.org/search?query={quote_plus(query)}"


def meeting_summary(meeting: Meeting) -> str:
    """'Percorso Minori e Famiglia – Incontro 2', or the meeting's own title after the track's name.

    The number is the one the meeting was planned with, so moving another meeting never changes this text.
    """
    label = meeting.title or (f"Incontro {meeting.number}" if meeting.number else "")
    return f"{meeting.track.name} – {label}" if label else meeting.track.name


def meeting_description(meeting: Meeting, url: str) -> str:
    """Italian text for DESCRIPTION: what, when, where, access, and the page that always has the news."""
    areas = meeting.track.served_areas
    lines = [meeting_summary(meeting),
             f"Area {areas[0].label}" if len(areas) == 1 else "Aree " + "; ".join(a.label for a in areas)]
    if meeting.is_cancelled:
        lines.append(f"L'incontro è ANNULLATO. Motivo: {meeting.cancel_reason}" if meeting.cancel_reason
                     else "L'incontro è ANNULLATO.")
    lines.append(f"Quando: {format_when(meeting.starts_at, meeting.ends_at)} (ora italiana)")
    venue = meeting.venue
    if meeting.mode is MeetingMode.ONLINE:
        lines.append("Dove: online (il collegamento è inviato agli enti confermati)")
    elif venue is None:
        lines.append(f"Dove: {ics.NO_VENUE} (sarà comunicata appena possibile)")
    else:
        lines.append(f"Dove: {venue.location}")
        if venue.accessibility_notes:
            lines.append(f"Accessibilità: {venue.accessibility_notes}")
        lines.append(f"Mappa: {map_link(venue)}")
    lines.append(f"Dettagli e aggiornamenti: {url}")
    return "\n".join(lines)


#: LOCATION of an online meeting (no room).
ONLINE = "Online"


def event_data(meeting: Meeting, base_url: str, *, online: bool = False) -> ics.EventData:
    """The meeting as one calendar event (for invites and feeds alike); `online`: the recipient may see the
    online room (a confirmed entity), which the event then carries."""
    url = meeting_url(meeting.id, base_url)
    if meeting.venue:
        location = meeting.venue.location
    else:
        location = ONLINE if meeting.mode is MeetingMode.ONLINE else ics.NO_VENUE
    return ics.EventData(
        uid=meeting.uid,
        sequence=meeting.sequence,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        summary=meeting_summary(meeting),
        location=location,
        description=meeting_description(meeting, url),
        url=url,
        cancelled=meeting.is_cancelled,
        created=meeting.created_at,
        last_modified=meeting.updated_at,
        conference=meeting.online_url if online and meeting.is_online and not meeting.is_cancelled else None,
    )


@dataclass(frozen=True)
class Feed:
    """The events of a feed with its name, ready to be written as text."""

    name: str
    description: str
    events: tuple[ics.EventData, ...]
    organizer_email: str
    organizer_name: str
    tz: str = "Europe/Rome"

    def render(self) -> str:
        return ics.feed(
            list(self.events), name=self.name, description=self.description, tz=self.tz,
            organizer_email=self.organizer_email, organizer_name=self.organizer_name,
        )


# --- validators ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    """What a feed's text is made of, as stamps (latest change, number of rows), read in one query.

    Any change a feed shows moves one of them: an edited meeting, venue, track, area or call its `updated_at`
    or `loaded_at`, a new row a count, an answer the entity's stamps. Answers to a meeting move none of the
    public ones, so the public feeds keep their ETag while entities answer.
    """

    call_id: int
    values: tuple[Any, ...]
    #: Target of the feed (an area, a meeting, an entity) found in the same query, or None.
    target_id: int | None = None

    @property
    def last_modified(self) -> datetime:
        return max(v for v in self.values if isinstance(v, datetime))

    def etag(self, *identity: object) -> str:
        """`identity` names the feed (kind, area, entity, public address): the same stamps, another feed."""
        digest = hashlib.sha256(repr((FEED_FORMAT, self.call_id, identity, self.values)).encode("utf-8"))
        return digest.hexdigest()[:40]


def _stamps_of(model: Any, where: Any, outer: Any) -> list[Any]:
    """Latest change and number of the rows of `model` matching `where`, correlated to `outer` only (the
    outer query may join `model` itself, as the one of a meeting's page does)."""
    return [
        sa.select(sa.func.max(model.updated_at)).where(where).correlate(outer).scalar_subquery(),
        sa.select(sa.func.count()).select_from(model).where(where).correlate(outer).scalar_subquery(),
    ]


def _calendar_stamps() -> list[Any]:
    """Correlated to the outer `calls` row: the stamps of its meetings, venues, tracks and areas."""
    tracks = sa.select(Track.id).where(Track.call_id == Call.id).correlate(Call).scalar_subquery()
    return [
        Call.loaded_at,
        *_stamps_of(Meeting, Meeting.track_id.in_(tracks), Call),
        *_stamps_of(Venue, Venue.call_id == Call.id, Call),
        *_stamps_of(Track, Track.call_id == Call.id, Call),
        *_stamps_of(Area, Area.call_id == Call.id, Call),
    ]


#: The `call_id` of stamps that cover every call of an Ambito (an entity's private feed holds meetings of any of
#: its calls).
EVERY_CALL = 0


def _ambito_stamps() -> list[Any]:
    """The stamps of every call of the Ambito answering ``:host`` at once, in the shape of `_calendar_stamps`: what
    any of its meetings' events shows. Indexed through the calls of the Ambito: another Ambito's changes neither
    cost nor change anything here."""
    calls = sa.select(Call.id).where(Call.ambito_id == ambito_id_of_host())
    tracks = sa.select(Track.id).where(Track.call_id.in_(calls))

    def stamps(model: Any, where: Any) -> list[Any]:
        return [sa.select(sa.func.max(model.updated_at)).where(where).scalar_subquery(),
                sa.select(sa.func.count()).select_from(model).where(where).scalar_subquery()]

    return [
        sa.select(sa.func.max(Call.loaded_at)).where(Call.ambito_id == ambito_id_of_host()).scalar_subquery(),
        *stamps(Meeting, Meeting.track_id.in_(tracks)),
        *stamps(Venue, Venue.call_id.in_(calls)),
        *stamps(Track, Track.call_id.in_(calls)),
        *stamps(Area, Area.call_id.in_(calls)),
    ]


@lru_cache(maxsize=16)
def _stamp_query(kind: str, by_slug: bool) -> sa.Select:
    """The stamp query of one kind of feed, built once per process with bound parameters, so a poll neither
    builds nor compiles it again (the statement is bigger than the work the database does for it)."""
    if kind == "meeting":
        query = (
            sa.select(Call.id, *_calendar_stamps(), Meeting.id)
            .select_from(Meeting).join(Track, Track.id == Meeting.track_id).join(Call, Call.id == Track.call_id)
            .where(Meeting.id == sa.bindparam("meeting_id"), Call.ambito_id == ambito_id_of_host())
        )
        return query.limit(1)
    if kind == "private":  # an entity's own meetings, of every call
        organization = sa.and_(Organization.feed_token == sa.bindparam("token"), Organization.erased_at.is_(None))
        query = (
            sa.select(sa.literal(EVERY_CALL), *_ambito_stamps(), Organization.updated_at,
                      *_stamps_of(Rsvp, Rsvp.organization_id == Organization.id, Organization), Organization.id)
            .where(organization)
        )
        return query.limit(1)
    if kind == "area":
        area = (sa.select(Area.id).where(Area.call_id == Call.id, Area.code == sa.bindparam("code"))
                .correlate(Call).scalar_subquery())
        query = sa.select(Call.id, *_calendar_stamps(), area)
    else:
        query = sa.select(Call.id, *_calendar_stamps())
    # no slug: the Ambito's current call, else its one loaded last (as `calls.services.current_call`)
    query = query.where(Call.ambito_id == ambito_id_of_host())
    query = (query.where(Call.slug == sa.bindparam("slug")) if by_slug
             else query.order_by(Call.is_current.desc(), Call.id.desc()))
    return query.limit(1)


def _stamp(kind: str, slug: str | None, extra: int = 0, **params: object) -> Stamp | None:
    """Run the stamp query of `kind` on the call named by `slug` (else the latest loaded, as `current_call`).

    One statement on its own connection in autocommit: no transaction to open and roll back around it, which
    would cost more round trips than the query. A request that then builds the text uses the session.
    """
    if slug:
        params["slug"] = slug
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_stamp_query(kind, bool(slug)), params).first()
    if row is None:
        return None
    values = tuple(row[1:len(row) - extra])
    target = row[-1] if extra else None
    return Stamp(call_id=row[0], values=values, target_id=target)


class StampCache:
    """Call-wide stamps this process read less than `ttl` seconds ago, used again (see FEED_STAMP_TTL): a
    popular feed polled by many calendars then costs no query at all, and a private feed only the query of
    its own part. What is private to an entity (its address, its answers) is always read fresh, so a
    revoked address stops working at once."""

    def __init__(self, ttl: float, size: int = 64) -> None:
        self.ttl = ttl
        self.size = size
        self._stamps: dict[tuple, tuple[float, Stamp | None]] = {}
        self._lock = threading.Lock()

    def _lookup(self, key: tuple) -> tuple[bool, Stamp | None]:
        """(True, stamp) when a recent enough stamp is kept for `key` (None too: no such call), else (False, None)."""
        if self.ttl <= 0:
            return False, None
        with self._lock:
            cached = self._stamps.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return True, cached[1]
        return False, None

    def fresh(self, key: tuple) -> Stamp | None:
        """The stamp kept for `key` if it is recent enough, else None."""
        return self._lookup(key)[1]

    def put(self, key: tuple, stamp: Stamp | None) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._stamps) >= self.size:  # a call has a handful of public feeds; the rest is noise
                self._stamps.clear()
            self._stamps[key] = (time.monotonic(), stamp)

    def get(self, key: tuple, read: Callable[[], Stamp | None]) -> Stamp | None:
        kept, stamp = self._lookup(key)
        if kept:
            return stamp
        stamp = read()
        self.put(key, stamp)
        return stamp


def public_stamp(slug: str | None, area_code: str | None = None, cache: StampCache | None = None, *,
                 host: str | None = None) -> Stamp | None:
    """The stamps of the public feeds of a call of the Ambito answering `host` (its current one without `slug`);
    with `area_code`, `target_id` is that area (None: no such area). Another Ambito's call is no call here, and
    the Ambito is found within the same one query."""
    code = area_code.upper() if area_code else None
    name = normal_host(host) or ""

    def read() -> Stamp | None:
        if code is None:
            return _stamp("all", slug, host=name)
        return _stamp("area", slug, extra=1, code=code, host=name)

    return cache.get((name, slug, code), read) if cache is not None else read()


def meeting_stamp(meeting_id: int, host: str | None = None) -> Stamp | None:
    """The stamps of the call a meeting belongs to (its page's .ics), if it is of the Ambito answering `host`;
    None for an unknown meeting, or one of another Ambito."""
    return _stamp("meeting", None, extra=1, meeting_id=meeting_id, host=normal_host(host) or "")


def private_stamp(token: str, cache: StampCache | None = None, host: str | None = None) -> Stamp | None:
    """The stamps of an entity's private feed on `host`: every call's of that host's Ambito (it holds the
    entity's meetings of any of them), its own and its answers'; None for an unknown, revoked or erased token.
    `target_id` is the entity.

    With the calls' stamps fresh in `cache`, only the entity's part is read (one small indexed query);
    otherwise one query reads both, and the calls' part is kept for the next feeds.
    """
    if not token:
        return None
    name = normal_host(host) or ""
    key = (EVERY_CALL, name)
    calendar = cache.fresh(key) if cache is not None else None
    if calendar is not None:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            row = connection.execute(_entity_stamp_query(), {"token": token}).first()
        if row is None:
            return None
        return Stamp(call_id=calendar.call_id, values=calendar.values + tuple(row[1:]), target_id=row[0])
    stamp = _stamp("private", None, extra=1, token=token, host=name)
    if stamp is not None and cache is not None:
        cache.put(key, Stamp(call_id=stamp.call_id, values=stamp.values[:_CALENDAR_STAMPS]))
    return stamp


#: How many of a stamp's values are the calls' (`_calendar_stamps`, `_ambito_stamps`: the latest load, then
#: the latest change and the count of four tables); an entity's own follow.
_CALENDAR_STAMPS = 1 + 2 * 4


@lru_cache(maxsize=1)
def _entity_stamp_query() -> sa.Select:
    """The entity behind a feed token and its own stamps, in the order `_stamp_query("private")` has them."""
    return (
        sa.select(Organization.id, Organization.updated_at,
                  *_stamps_of(Rsvp, Rsvp.organization_id == Organization.id, Organization))
        .where(Organization.feed_token == sa.bindparam("token"), Organization.erased_at.is_(None))
    )


def rendered_feeds(app: Flask) -> LRUCache[bytes]:
    """The texts of the feeds this process served recently, by ETag: an ETag names one exact text (see
    `Stamp`), so an entry is never out of date; a change gives the feed a new ETag and the old text ages out."""
    return app_cache(app, "feeds", app.config.get("FEED_CACHE_SIZE", 256))


def stamp_cache(app: Flask) -> StampCache:
    """The app's cache of public stamps, kept FEED_STAMP_TTL seconds."""
    cache = app.extensions.setdefault("tavoli_feed_stamps", StampCache(0))
    cache.ttl = float(app.config.get("FEED_STAMP_TTL") or 0)
    return cache


# --- events -------------------------------------------------------------------------------------------------------


def calendar_tracks(call: Call, area_code: str | None = None) -> list[Track]:
    """The call's tracks (optionally of one area) with area, meetings, venues and comuni loaded."""
    query = (
        sa.select(Track)
        .where(Track.call_id == call.id)
        .order_by(Track.position, Track.id)
        .options(
            selectinload(Track.area), selectinload(Track.areas),
            selectinload(Track.meetings).selectinload(Meeting.venue).selectinload(Venue.comune),
        )
    )
    if area_code:  # the tables serving the area, the joint ones of several areas too
        query = query.where(Track.id.in_(tracks_of_areas(
            sa.select(Area.id).where(Area.call_id == call.id, Area.code == area_code))))
    return list(db.session.scalars(query))


def find_area(call: Call, code: str) -> Area | None:
    return db.session.scalar(sa.select(Area).where(Area.call_id == call.id, Area.code == code.upper()))


def _feed(call: Call, name: str, description: str, meetings: list[Meeting], base_url: str,
          online_ids: frozenset[int] = frozenset()) -> Feed:
    """`online_ids`: the meetings whose online room the feed's reader may see (a confirmed seat)."""
    events = tuple(sorted((event_data(m, base_url, online=m.id in online_ids) for m in meetings),
                          key=lambda e: (e.starts_at, e.uid)))
    return Feed(
        name=name, description=description, events=events, organizer_email=call.office_email,
        organizer_name=call.office_name, tz=call.timezone or "Europe/Rome",
    )


def public_feed(call: Call, base_url: str, area: Area | None = None) -> Feed:
    """All the meetings of the call, or of one area's tracks."""
    meetings = [m for track in calendar_tracks(call, area.code if area else None) for m in track.meetings]
    if area is None:
        name = f"{call.plan_title} – Calendario degli incontri"
        description = f"Gli incontri dei tavoli del {call.plan_title} ({call.ambito.name}), in ora italiana."
    else:
        name = f"{call.plan_title} – Area {area.code} {area.name}"
        description = f"Gli incontri dell'area {area.label} del {call.plan_title} ({call.ambito.name})."
    return _feed(call, name, description, meetings, base_url)


def load_meeting(meeting_id: int) -> Meeting | None:
    """One meeting with what its page and its event show: venue, comune, track, area, call, sibling meetings."""
    return db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            selectinload(Meeting.venue).selectinload(Venue.comune),
            selectinload(Meeting.track).options(
                selectinload(Track.area), selectinload(Track.areas), selectinload(Track.meetings),
                selectinload(Track.call)
            ),
        )
    )


def meeting_feed(meeting_id: int, base_url: str) -> Feed | None:
    """One meeting as a calendar file to add ('Aggiungi al calendario'); None if there is no such meeting."""
    meeting = load_meeting(meeting_id)
    if meeting is None:
        return None
    call = meeting.track.call
    return _feed(call, meeting_summary(meeting), call.plan_title, [meeting], base_url)


def private_feed(call: Call, organization: Organization, base_url: str) -> Feed:
    """The meetings the entity said yes to or waits for a seat at, of every call of `call`'s Ambito (an entity of
    the plan just closed and of the next one keeps one calendar); `call` (the current one) signs the feed. Another
    Ambito's meetings are not in it: the feed is read on this Ambito's host, where their pages are not found."""
    rows = db.session.execute(
        sa.select(Meeting, Rsvp.status)
        .join(Rsvp, Rsvp.meeting_id == Meeting.id)
        .join(Track, Track.id == Meeting.track_id).join(Call, Call.id == Track.call_id)
        .where(
            Rsvp.organization_id == organization.id,
            Rsvp.status.in_(PRIVATE_FEED_STATUSES),
            Call.ambito_id == call.ambito_id,
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .options(
            selectinload(Meeting.venue).selectinload(Venue.comune),
            selectinload(Meeting.track).options(selectinload(Track.area), selectinload(Track.areas),
                                                selectinload(Track.meetings)),
        )
    ).all()
    meetings = [meeting for meeting, _ in rows]
    confirmed = frozenset(meeting.id for meeting, status in rows if status is RsvpStatus.YES)
    name = f"{organization.name} – I miei incontri"
    description = f"Gli incontri dei tavoli a cui {organization.name} partecipa o è in lista d'attesa."
    return _feed(call, name, description, meetings, base_url, confirmed)
