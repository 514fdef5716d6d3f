"""From meetings to calendar events, and the subscribable feeds: their queries, names and validators.

Invites (notifications.py) and feeds build their events here, so UID, SEQUENCE, SUMMARY and DESCRIPTION are
the same wherever a calendar meets the meeting. Every query loads what the events need in a fixed number of
statements, whatever the number of meetings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote_plus

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from scheduler import ics
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus, Venue
from scheduler.calls.models import Area, Call, Track
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.registry.models import Organization

#: Part of every ETag: raise it when the text of the feeds changes shape, so clients fetch the new form.
FEED_FORMAT = "2"
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


def meeting_number(meeting: Meeting) -> int | None:
    """1-based position of the meeting in its track (by start); None if the track does not list it yet."""
    try:
        return meeting.track.meetings.index(meeting) + 1
    except ValueError:
        return None


def meeting_summary(meeting: Meeting) -> str:
    """'Percorso Minori e Famiglia – Incontro 2', or the meeting's own title after the track's name."""
    number = meeting_number(meeting)
    label = meeting.title or (f"Incontro {number}" if number else "")
    return f"{meeting.track.name} – {label}" if label else meeting.track.name


def meeting_description(meeting: Meeting, url: str) -> str:
    """Italian text for DESCRIPTION: what, when, where, access, and the page that always has the news."""
    area = meeting.track.area
    lines = [meeting_summary(meeting), f"Area {area.label}"]
    if meeting.is_cancelled:
        lines.append("L'incontro è ANNULLATO.")
    lines.append(f"Quando: {format_when(meeting.starts_at, meeting.ends_at)} (ora italiana)")
    venue = meeting.venue
    if venue is None:
        lines.append(f"Dove: {ics.NO_VENUE} (sarà comunicata appena possibile)")
    else:
        lines.append(f"Dove: {venue.location}")
        if venue.accessibility_notes:
            lines.append(f"Accessibilità: {venue.accessibility_notes}")
        lines.append(f"Mappa: {map_link(venue)}")
    lines.append(f"Dettagli e aggiornamenti: {url}")
    return "\n".join(lines)


def event_data(meeting: Meeting, base_url: str) -> ics.EventData:
    """The meeting as one calendar event (for invites and feeds alike)."""
    url = meeting_url(meeting.id, base_url)
    return ics.EventData(
        uid=meeting.uid,
        sequence=meeting.sequence,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        summary=meeting_summary(meeting),
        location=meeting.venue.location if meeting.venue else ics.NO_VENUE,
        description=meeting_description(meeting, url),
        url=url,
        cancelled=meeting.is_cancelled,
        created=meeting.created_at,
        last_modified=meeting.updated_at,
    )


@dataclass(frozen=True)
class Feed:
    """A feed ready to answer a conditional GET: validators first, the text only when it is needed."""

    name: str
    description: str
    events: tuple[ics.EventData, ...]
    organizer_email: str
    organizer_name: str
    #: For Last-Modified: the latest change among the feed's meetings, its call and (private feeds) answers.
    last_modified: datetime
    tz: str = "Europe/Rome"

    @property
    def etag(self) -> str:
        """A digest of everything the text is made of, so any visible change (a venue's address, a track's
        name) gives a new ETag, while an unchanged feed is answered 304 without building the text."""
        digest = hashlib.sha256(
            repr((FEED_FORMAT, self.name, self.description, self.organizer_email, self.organizer_name, self.tz,
                  self.events)).encode("utf-8")
        )
        return digest.hexdigest()[:40]

    def render(self) -> str:
        return ics.feed(
            list(self.events), name=self.name, description=self.description, tz=self.tz,
            organizer_email=self.organizer_email, organizer_name=self.organizer_name,
        )


def calendar_tracks(call: Call, area_code: str | None = None) -> list[Track]:
    """The call's tracks (optionally of one area) with area, meetings, venues and comuni loaded."""
    query = (
        sa.select(Track)
        .where(Track.call_id == call.id)
        .order_by(Track.position, Track.id)
        .options(
            selectinload(Track.area),
            selectinload(Track.meetings).selectinload(Meeting.venue).selectinload(Venue.comune),
        )
    )
    if area_code:
        query = query.join(Track.area).where(Area.code == area_code)
    return list(db.session.scalars(query))


def find_area(call: Call, code: str) -> Area | None:
    return db.session.scalar(sa.select(Area).where(Area.call_id == call.id, Area.code == code.upper()))


def _feed(call: Call, name: str, description: str, meetings: list[Meeting], base_url: str,
          *changes: datetime | None) -> Feed:
    events = tuple(sorted((event_data(m, base_url) for m in meetings), key=lambda e: (e.starts_at, e.uid)))
    stamps = [e.last_modified for e in events] + [call.loaded_at] + [c for c in changes if c is not None]
    return Feed(
        name=name, description=description, events=events, organizer_email=call.office_email,
        organizer_name=call.office_name, last_modified=max(stamps), tz=call.timezone or "Europe/Rome",
    )


def public_feed(call: Call, base_url: str, area: Area | None = None) -> Feed:
    """All the meetings of the call, or of one area's tracks."""
    meetings = [m for track in calendar_tracks(call, area.code if area else None) for m in track.meetings]
    if area is None:
        name = f"{call.plan_title} – Calendario degli incontri"
        description = f"Gli incontri dei tavoli del {call.plan_title} ({call.ambito}), in ora italiana."
    else:
        name = f"{call.plan_title} – Area {area.code} {area.name}"
        description = f"Gli incontri dell'area {area.label} del {call.plan_title} ({call.ambito})."
    return _feed(call, name, description, meetings, base_url)


def load_meeting(meeting_id: int) -> Meeting | None:
    """One meeting with what its page and its event show: venue, comune, track, area, call, sibling meetings."""
    return db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            selectinload(Meeting.venue).selectinload(Venue.comune),
            selectinload(Meeting.track).options(
                selectinload(Track.area), selectinload(Track.meetings), selectinload(Track.call)
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


def organization_by_feed_token(token: str) -> Organization | None:
    """The entity whose private feed has this secret; None for an unknown, revoked or erased one."""
    if not token:
        return None
    return db.session.scalar(
        sa.select(Organization).where(Organization.feed_token == token, Organization.erased_at.is_(None))
    )


def private_feed(call: Call, organization: Organization, base_url: str) -> Feed:
    """The meetings of the call the entity said yes to or waits for a seat at."""
    meetings = list(db.session.scalars(
        sa.select(Meeting)
        .join(Rsvp, Rsvp.meeting_id == Meeting.id)
        .join(Track, Track.id == Meeting.track_id)
        .where(
            Rsvp.organization_id == organization.id,
            Rsvp.status.in_(PRIVATE_FEED_STATUSES),
            Track.call_id == call.id,
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .options(
            selectinload(Meeting.venue).selectinload(Venue.comune),
            selectinload(Meeting.track).options(selectinload(Track.area), selectinload(Track.meetings)),
        )
    ))
    # an answer changed to "no" removes a meeting without touching it: count it as a change of the feed
    answered = db.session.scalar(
        sa.select(sa.func.max(Rsvp.updated_at)).where(Rsvp.organization_id == organization.id)
    )
    name = f"{organization.name} – I miei incontri"
    description = f"Gli incontri del {call.plan_title} a cui {organization.name} partecipa o è in lista d'attesa."
    return _feed(call, name, description, meetings, base_url, answered)
