"""Reminders before meetings, and a warning to staff when a meeting is close and still has no venue (an online
meeting needs none; a hybrid one does).

`send_due()` can run in several workers at once: each row is claimed by a conditional UPDATE before its
e-mail is written, so nobody is reminded twice.
"""

from __future__ import annotations

import logging
import time as clock_time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, MeetingMode, MeetingStatus, Rsvp, RsvpStatus
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.links import public_url
from scheduler.mailing.models import MailCategory
from scheduler.mailing.services import enqueue, render_mail
from scheduler.registry.models import Organization
from scheduler.registry.recipients import Directory, Purpose
from scheduler.timeutil import utcnow

log = logging.getLogger(__name__)

REMIND_BEFORE = timedelta(days=2)
VENUE_ALERT_BEFORE = timedelta(days=3)


@dataclass
class ReminderStats:
    reminders: int = 0
    venue_alerts: int = 0


def _claim(model, row_id: int, column) -> bool:
    """Mark the reminder as sent; the row's updated_at stays, since neither the event nor the answer changed."""
    result = db.session.execute(
        sa.update(model).where(model.id == row_id, column.is_(None))
        .values({column.key: utcnow(), "updated_at": model.updated_at})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def send_due() -> ReminderStats:
    """Write the reminders and alerts that are due to the outbox and commit."""
    now = utcnow()
    stats = ReminderStats()
    due = db.session.scalars(
        sa.select(Rsvp).join(Meeting).where(
            Rsvp.status == RsvpStatus.YES, Rsvp.reminded_at.is_(None),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now, Meeting.starts_at <= now + REMIND_BEFORE,
        ).options(sa.orm.selectinload(Rsvp.meeting),
                  sa.orm.selectinload(Rsvp.organization).selectinload(Organization.contacts))
    ).all()
    directory = Directory(r.answered_by_id for r in due)
    for rsvp in due:
        if rsvp.answered_at >= rsvp.meeting.starts_at - REMIND_BEFORE:
            continue  # an answer given inside the window came with its own invitation a moment ago
        if not _claim(Rsvp, rsvp.id, Rsvp.reminded_at):
            continue
        meeting = rsvp.meeting
        call = meeting.track.call
        text, html = render_mail(
            "reminder", meeting=meeting, rsvp=rsvp, call=call, organization=rsvp.organization,
            when=format_when(meeting.starts_at, meeting.ends_at),
            meeting_url=public_url(f"/incontri/{meeting.id}", call.ambito),
            online_url=meeting.online_url if meeting.is_online else None,  # reminders go to confirmed seats only
        )
        for address in directory.addresses(rsvp.organization, Purpose.REMINDER, answered_by_id=rsvp.answered_by_id):
            queued = enqueue(to=address.email, to_name=address.name, subject=f"Promemoria: {meeting.track.name} – "
                             f"{format_when(meeting.starts_at, meeting.ends_at)}", text=text, html=html,
                             topic="reminder", category=MailCategory.OPTIONAL, ambito=call.ambito)
            stats.reminders += queued is not None

    bare = db.session.scalars(
        sa.select(Meeting).where(
            Meeting.venue_id.is_(None), Meeting.mode != MeetingMode.ONLINE, Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.venue_alert_sent_at.is_(None), Meeting.starts_at > now,
            Meeting.starts_at <= now + VENUE_ALERT_BEFORE,
        )
    ).all()
    staff = db.session.scalars(sa.select(User).where(User.role == Role.STAFF, User.active.is_(True))).all()
    for meeting in bare:
        ambito = meeting.track.call.ambito
        if not _claim(Meeting, meeting.id, Meeting.venue_alert_sent_at):
            continue
        text, html = render_mail(
            "venue_alert", meeting=meeting, call=meeting.track.call,
            when=format_when(meeting.starts_at, meeting.ends_at),
            manage_url=public_url(f"/gestione/calendario/incontri/{meeting.id}", ambito),
            confirmed=sum(1 for r in meeting.rsvps if r.status is RsvpStatus.YES),
        )
        for user in (u for u in staff if u.ambito_id == ambito.id):  # its own office only
            enqueue(to=user.email, to_name=user.full_name, subject=f"Sede mancante: {meeting.track.name} – "
                    f"{format_when(meeting.starts_at, meeting.ends_at)}", text=text, html=html, topic="venue-alert",
                    ambito=ambito)
        stats.venue_alerts += 1
    db.session.commit()
    if stats.reminders or stats.venue_alerts:
        log.info("reminders: %d, venue alerts: %d", stats.reminders, stats.venue_alerts)
    return stats


def every(seconds: float, task: Callable[[], object]) -> Callable[[], None]:
    """Run `task` at most once per `seconds` (the worker loops every few seconds)."""
    last: list[float | None] = [None]  # never run: the first loop runs it (the monotonic clock starts at boot)

    def hook() -> None:
        now = clock_time.monotonic()
        if last[0] is None or now - last[0] >= seconds:
            last[0] = now
            task()

    return hook
