"""The outbox: every e-mail the application decides to send, written in the same transaction."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.timeutil import utcnow


class OutboxStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MailCategory(enum.Enum):
    #: Needed to use the service (sign-in links, invites, receipts): never unsubscribable.
    SERVICE = "service"
    #: Announcements and reminders an entity may opt out of.
    OPTIONAL = "optional"


class OutboxMessage(db.Model):
    """One e-mail to one recipient, delivered by the worker."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: RFC 5322 Message-ID, fixed when the row is written: retries never change it.
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    to_address: Mapped[str] = mapped_column(sa.String(254), index=True)
    to_name: Mapped[str] = mapped_column(sa.String(200), default="")
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    #: An iCalendar object sent as text/calendar (iMIP) and as an invito.ics attachment.
    ics: Mapped[str | None] = mapped_column(sa.Text)
    #: The iTIP METHOD of `ics` (REQUEST, CANCEL), repeated as the part's method= parameter.
    ics_method: Mapped[str | None] = mapped_column(sa.String(20))
    #: Further attachments: [{"filename", "content_type", "data" (base64)}].
    attachments: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    #: Extra headers, e.g. List-Unsubscribe for optional mail.
    headers: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    category: Mapped[MailCategory] = mapped_column(
        enum_column(MailCategory, "mail_category"), default=MailCategory.SERVICE
    )
    #: What the message is about, for the logs and staff pages (e.g. "invite", "login-link").
    topic: Mapped[str] = mapped_column(sa.String(60), default="")
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: Which worker holds the row, and since when: a claim that grows old is taken over.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The Ambito the message is from: only its office sees it in the outbox; None for the installation's own
    #: mail (to its administrators).
    ambito_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ambiti.id", ondelete="SET NULL"), index=True)
    #: Its From, the Ambito's sender when it has one of its own; None: the installation's (MAIL_DEFAULT_SENDER).
    sender: Mapped[str | None] = mapped_column(sa.String(254))
    #: The staff announcement this message delivers, for its delivery log.
    announcement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("announcements.id", ondelete="SET NULL"), index=True
    )

    delivery_attempts: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="DeliveryAttempt.at"
    )


class DeliveryAttempt(db.Model):
    """One try at handing a message to the SMTP server, with its outcome."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    worker: Mapped[str] = mapped_column(sa.String(120), default="")
    succeeded: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(sa.Text)

    message: Mapped[OutboxMessage] = relationship(back_populates="delivery_attempts")


class MailOptOut(db.Model):
    """An address that does not want one kind of optional mail (announcements, reminders, follow-ups).

    Kept by address, not by entity: the person who clicked "unsubscribe" is the one who stops receiving,
    whichever entity the address is listed for.
    """

    __tablename__ = "mail_opt_outs"
    __table_args__ = (sa.UniqueConstraint("email", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower case, so "Mario@Example.org" and "mario@example.org" are one person.
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    #: One of `scheduler.mailing.preferences.OPTIONAL_KINDS`.
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: "link" (the unsubscribe link of a message) or "area" (the entity's preferences page).
    source: Mapped[str] = mapped_column(sa.String(20), default="link")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailBounce(db.Model):
    """An address the SMTP server refused for good (5xx at send time): shown when it is chosen again."""

    __tablename__ = "mail_bounces"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    #: The server's answer, e.g. "550 5.1.1 mailbox unavailable".
    error: Mapped[str] = mapped_column(sa.Text, default="")
    count: Mapped[int] = mapped_column(default=1)
    bounced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
