"""Venues, meetings and the entities' answers (RSVP) to them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.timeutil import utcnow

if TYPE_CHECKING:
    from scheduler.attendance.models import Attendance
    from scheduler.calls.models import Call, Comune, Track
    from scheduler.registry.models import Organization


class MeetingStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class MeetingMode(enum.Enum):
    """Where people take part: in the room, online, or both."""

    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class DocumentVisibility(enum.Enum):
    """Who reads a meeting's document: everyone, or the admitted entities (and staff)."""

    PUBLIC = "public"
    ADMITTED = "admitted"


class RsvpStatus(enum.Enum):
    YES = "yes"
    NO = "no"
    WAITLIST = "waitlist"


def new_meeting_uid(domain: str | None = None) -> str:
    """A UID made once per meeting and never regenerated, so calendars update the same event; its domain is the
    host name of the meeting's Ambito where it has one (`_uid_of_its_ambito`), as RFC 5545 advises."""
    return f"{uuid.uuid4()}@{domain or 'tavoli'}"


class Venue(db.Model):
    """A place where meetings are held; often announced after the date."""

    __tablename__ = "venues"
    __table_args__ = (sa.CheckConstraint("capacity > 0", name="capacity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300))
    comune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comuni.id", ondelete="SET NULL"), index=True)
    room: Mapped[str | None] = mapped_column(sa.String(120))
    accessibility_notes: Mapped[str] = mapped_column(sa.Text, default="")
    map_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: Seats in the room; a meeting without its own capacity uses this one.
    capacity: Mapped[int | None] = mapped_column()
    #: Last change: part of the validators of the calendar feeds.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call: Mapped[Call] = relationship(back_populates="venues")
    comune: Mapped[Comune | None] = relationship()

    @property
    def location(self) -> str:
        """One line for LOCATION and the pages: name, room, address, comune."""
        parts = [self.name]
        if self.room:
            parts.append(self.room)
        parts.append(self.address)
        if self.comune and self.comune.name not in self.address:
            parts.append(self.comune.name)
        return ", ".join(parts)


class Meeting(db.Model):
    """An incontro of a track: a dated session with an optional venue."""

    __tablename__ = "meetings"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.UniqueConstraint("track_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    #: Key from the call file (stable across reloads); null for meetings planned in the app.
    key: Mapped[str | None] = mapped_column(sa.String(60))
    title: Mapped[str | None] = mapped_column(sa.String(300))
    #: Its number in the track ("Incontro 3"), given when it is planned and never changed: a meeting moved
    #: before another keeps its name, so no calendar holds a title the site no longer shows.
    number: Mapped[int | None] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id", ondelete="SET NULL"), index=True)
    status: Mapped[MeetingStatus] = mapped_column(
        enum_column(MeetingStatus, "meeting_status"), default=MeetingStatus.SCHEDULED
    )
    #: iCalendar UID: made once, never changed.
    uid: Mapped[str] = mapped_column(sa.String(120), unique=True, default=new_meeting_uid)
    #: iCalendar SEQUENCE: raised on every change of time, venue, title or status.
    sequence: Mapped[int] = mapped_column(default=0)
    #: Answers close at this instant (at the latest when the meeting starts).
    rsvp_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Confirmed places, in people; beyond it answers go to the waiting list. Null: the venue's capacity or none.
    capacity: Mapped[int | None] = mapped_column()
    #: At most this many people per entity (staff's choice, within the capacity); null: no limit of its own.
    seats_per_entity: Mapped[int | None] = mapped_column()
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: When staff last moved, renamed, cancelled or restored it in the app: reloading the call file no longer
    #: changes it (what staff did wins over the file).
    edited_in_app_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why staff cancelled it: shown on the meeting's page and in the cancellation sent to calendars.
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: The agenda (ordine del giorno), Markdown, shown on the meeting's page.
    agenda: Mapped[str] = mapped_column(sa.Text, default="")
    mode: Mapped[MeetingMode] = mapped_column(enum_column(MeetingMode, "meeting_mode"), default=MeetingMode.IN_PERSON)
    #: The online room (video call) of an online or hybrid meeting: shown only to confirmed entities and staff,
    #: and carried in their invitations (URL, CONFERENCE, the body).
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: The minutes staff approved for publication on the meeting's page (no personal data).
    minutes_text: Mapped[str] = mapped_column(sa.Text, default="")
    minutes_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: The facilitator closed the register: from then on only staff change it, and every change is logged.
    register_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    register_closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: The facilitator's notes on the meeting, printed on the minutes.
    register_notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: The register records when each person leaves too (a long meeting, a certificate in hours): reports and
    #: certificates then show each entity's hours of participation.
    records_departures: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: When staff were warned that the meeting still has no venue (sent once).
    venue_alert_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    track: Mapped[Track] = relationship(back_populates="meetings")
    venue: Mapped[Venue | None] = relationship()
    rsvps: Mapped[list[Rsvp]] = relationship(back_populates="meeting", order_by="Rsvp.answered_at")
    copies: Mapped[list[CalendarCopy]] = relationship(back_populates="meeting", order_by="CalendarCopy.id")
    attendances: Mapped[list[Attendance]] = relationship(back_populates="meeting")
    documents: Mapped[list[MeetingDocument]] = relationship(
        back_populates="meeting", order_by="MeetingDocument.id", cascade="all, delete-orphan")

    @property
    def is_online(self) -> bool:
        return self.mode is not MeetingMode.IN_PERSON

    @property
    def is_cancelled(self) -> bool:
        return self.status is MeetingStatus.CANCELLED


class Rsvp(db.Model):
    """An entity's answer (adesione) for one meeting, with the people who will come."""

    __tablename__ = "rsvps"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "organization_id"),
        sa.UniqueConstraint("meeting_id", "short_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RsvpStatus] = mapped_column(enum_column(RsvpStatus, "rsvp_status"))
    #: People coming: a list of {"name": ..., "role": ...}.
    people: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    #: The seats it holds, confirmed or in line: its named people (what a meeting's capacity counts); 0 for a no.
    seats: Mapped[int] = mapped_column(default=0)
    #: When the current answer was given: orders the waiting list.
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Unguessable code carried by the invite's QR for check-in.
    checkin_code: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: A short code to read aloud at the door when the QR cannot be scanned (unique per meeting).
    short_code: Mapped[str | None] = mapped_column(sa.String(12))
    #: When the reminder before the meeting was sent (sent once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="rsvps")
    organization: Mapped[Organization] = relationship(back_populates="rsvps")
    passes: Mapped[list[PersonPass]] = relationship(back_populates="rsvp", cascade="all, delete-orphan",
                                                    order_by="PersonPass.id")

    def pass_of(self, email: str | None) -> PersonPass | None:
        key = (email or "").strip().lower()
        return next((p for p in self.passes if p.email == key), None) if key else None


class PersonPass(db.Model):
    """A named person of a confirmed answer who gave an e-mail: their own invitation (ATTENDEE = that person),
    their own check-in codes, every update and cancellation; removed from the answer, they get a CANCEL."""

    __tablename__ = "person_passes"
    __table_args__ = (
        # one person, one seat: the same address is not named twice for a meeting, by one entity or by two
        sa.UniqueConstraint("meeting_id", "email"),
        sa.UniqueConstraint("meeting_id", "short_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rsvp_id: Mapped[int] = mapped_column(sa.ForeignKey("rsvps.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: The person's address, lower case.
    email: Mapped[str] = mapped_column(sa.String(254))
    #: The long code of the person's QR (unique everywhere), and the short one read aloud (unique in the meeting,
    #: among the entities' codes too).
    checkin_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    short_code: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rsvp: Mapped[Rsvp] = relationship(back_populates="passes")


class CalendarCopy(db.Model):
    """An address whose calendar holds the meeting's event, because it was sent an invitation (METHOD:REQUEST).

    Every change of the meeting goes to each copy still held, whoever the address belongs to now, and a
    withdrawal cancels the entity's copies: nobody is left with an event the site no longer shows. The SEQUENCE
    last sent to each address is kept, so every message a calendar receives is newer than the one before it
    (a withdrawal and a second "yes" raise it for that address alone). A calendar's REPLY is accepted only
    from an address that was sent the event.
    """

    __tablename__ = "calendar_copies"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    #: The entity the address was written to for; its answer is the ATTENDEE's PARTSTAT.
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    #: The ATTENDEE address, lower case.
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(300), default="")
    #: SEQUENCE of the last message sent to this address about the meeting.
    sequence: Mapped[int] = mapped_column(default=0)
    #: Whether the calendar holds the event: true after a REQUEST, false after a CANCEL.
    held: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="copies")
    organization: Mapped[Organization | None] = relationship()


class MeetingDocument(db.Model):
    """A document of a meeting (materials, slides, a report), uploaded by staff, checked by its content."""

    __tablename__ = "meeting_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    visibility: Mapped[DocumentVisibility] = mapped_column(
        enum_column(DocumentVisibility, "document_visibility"), default=DocumentVisibility.PUBLIC)
    filename: Mapped[str] = mapped_column(sa.String(200))
    #: Read from the content (magic bytes), never from the name the browser sent.
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship(back_populates="documents")


@sa.event.listens_for(Meeting, "before_insert")
def _uid_of_its_ambito(_mapper: object, _connection: object, meeting: Meeting) -> None:
    """A new meeting's UID names its Ambito's host, whichever way it was made (the calendar's services, a call
    file); an existing meeting's never changes."""
    if meeting.uid is None and meeting.track is not None and meeting.track.call is not None:
        meeting.uid = new_meeting_uid(meeting.track.call.ambito.host)
