"""An announcement staff write once and the outbox delivers to each recipient."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.timeutil import utcnow

if TYPE_CHECKING:
    from scheduler.auth.models import User
    from scheduler.calendar.models import Meeting, Venue
    from scheduler.calls.models import Call


class AnnouncementStatus(enum.Enum):
    #: Written, not sent: can be previewed, tested, edited, deleted.
    DRAFT = "draft"
    #: Will be sent by the worker at `send_at`.
    SCHEDULED = "scheduled"
    #: Sent by staff, its messages being written by the worker (the venue notice: the venue is already set,
    #: and every holder of the event hears of it in this notice's message). Cannot be edited or withdrawn.
    SENDING = "sending"
    #: Its messages are in the outbox (the delivery log says what became of each).
    SENT = "sent"


class Announcement(db.Model):
    """A message to an audience (all admitted entities, an area, a meeting's answers, facilitators...)."""

    __tablename__ = "announcements"
    __table_args__ = (sa.Index("ix_announcements_due", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    #: What staff typed: Markdown with {placeholders}; rendered per recipient when sent.
    body: Mapped[str] = mapped_column(sa.Text)
    #: Who receives it: {"kind": ..., "areas": [...], "meeting_id": ..., "track_id": ..., "all_contacts": bool}.
    audience: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The meeting it is about: fills the meeting placeholders (with any audience: each entity of an area gets its
    #: own answer link) and, for a meeting's audience with `attach_invite`, the invitation.
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    attach_invite: Mapped[bool] = mapped_column(default=False)
    #: The venue a venue notice set: if the meeting's venue changed again before the worker wrote the notice's
    #: messages, the notice is not sent (the meeting form's update told the holders already).
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id", ondelete="SET NULL"))
    #: "message", or "venue" for the notice sent when a meeting's venue is set (it carries the updated invite).
    purpose: Mapped[str] = mapped_column(sa.String(20), default="message")
    status: Mapped[AnnouncementStatus] = mapped_column(
        enum_column(AnnouncementStatus, "announcement_status"), default=AnnouncementStatus.DRAFT
    )
    #: When a scheduled announcement goes out.
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Messages written to the outbox when it was sent.
    recipient_count: Mapped[int] = mapped_column(default=0)
    #: Addresses left out when it was sent, with why: [{"email", "name", "reason"}].
    excluded: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call: Mapped[Call] = relationship()
    meeting: Mapped[Meeting | None] = relationship()
    venue: Mapped[Venue | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    attachments: Mapped[list[AnnouncementAttachment]] = relationship(
        back_populates="announcement", cascade="all, delete-orphan", passive_deletes=True,
        order_by="AnnouncementAttachment.id")


class AnnouncementAttachment(db.Model):
    """A file staff attach to an announcement (a PDF, an office document, an image), checked by its content.

    Kept once and sent as a part of every message of the announcement: the outbox rows name it (see
    `scheduler.announcements.attachments`) instead of carrying its bytes hundreds of times.
    """

    __tablename__ = "announcement_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(sa.ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    #: The stored name, plain, with the extension of the real content (`scheduler.uploads.safe_filename`).
    filename: Mapped[str] = mapped_column(sa.String(200))
    #: Read from the content (magic bytes, an office document's archive), never from the name the browser sent.
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    #: Of `data`: a message whose file no longer has it is not built (the same bytes on every attempt).
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    announcement: Mapped[Announcement] = relationship(back_populates="attachments")
