"""The log of the replies (iTIP REPLY) that calendar apps sent to the office's mailbox, one row per message read.

No address or name is kept: the row says which meeting and which entity a reply was about and what became of it,
and the hash of its Message-ID refuses the same message a second time.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.timeutil import utcnow


class ReplyOutcome(enum.Enum):
    #: The answer was recorded, with the same rules as the web form.
    APPLIED = "applied"
    #: No such meeting, or the address was never sent its invitation.
    UNKNOWN = "unknown"
    #: The sender is not the attendee, or the receiving server found the sender's domain checks failed.
    FORGED = "forged"
    #: Answers to the meeting are closed (deadline passed, meeting started or cancelled).
    LATE = "late"
    #: The entity may not answer for this meeting.
    REFUSED = "refused"
    #: Neither yes nor no (tentative, delegated, needs action): nothing to record.
    IGNORED = "ignored"
    #: The same message was already read.
    DUPLICATE = "duplicate"
    #: No calendar reply could be read in the message.
    UNREADABLE = "unreadable"


class CalendarReply(db.Model):
    """One message read from the replies mailbox, and what became of it."""

    __tablename__ = "calendar_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 (hex) of the Message-ID header, or of the whole message when it has none: a message is applied once.
    message_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: When the message was read from the mailbox.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[ReplyOutcome] = mapped_column(enum_column(ReplyOutcome, "calendar_reply_outcome"))
    #: The meeting whose UID the reply carries, when it is one of ours.
    meeting_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    #: The entity the answer was recorded for (or would have been).
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    #: The ATTENDEE's PARTSTAT as the calendar app wrote it (ACCEPTED, DECLINED, TENTATIVE...).
    partstat: Mapped[str | None] = mapped_column(sa.String(20))
