"""Invitations (iTIP over e-mail) the calendar decides to send; rows in the outbox, same transaction."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from scheduler import ics
from scheduler.auth.models import User
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.links import public_url
from scheduler.mailing.services import enqueue, render_mail
from scheduler.timeutil import utcnow

PARTSTAT = {RsvpStatus.YES: "ACCEPTED", RsvpStatus.WAITLIST: "TENTATIVE", RsvpStatus.NO: "DECLINED"}


class Recipients:
    """Who keeps each entity's copy of a meeting, and the accounts their answer links sign in to.

    Loaded for many answers at once (two queries, whatever their number), so an invitation to hundreds of
    entities does not look each person up on its own.
    """

    def __init__(self, rsvps: list[Rsvp]) -> None:
        ids = {rsvp.answered_by_id for rsvp in rsvps if rsvp.answered_by_id}
        self.by_id = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
        self.by_email: dict[str, User] = {u.email: u for u in self.by_id.values()}
        wanted = {rsvp.organization.email.strip().lower() for rsvp in rsvps if rsvp.organization.email}
        missing = wanted - self.by_email.keys()
        if missing:
            self.by_email.update(
                (u.email, u) for u in db.session.scalars(sa.select(User).where(User.email.in_(missing)))
            )

    def of(self, rsvp: Rsvp) -> tuple[str, str] | None:
        """The person who answered, else the entity's address."""
        user = self.by_id.get(rsvp.answered_by_id) if rsvp.answered_by_id else None
        if user is not None and user.active:
            return user.email, user.full_name or rsvp.organization.name
        if rsvp.organization.email:
            return rsvp.organization.email, rsvp.organization.name
        return None

    def link(self, email: str, meeting: Meeting) -> str:
        return rsvp_link(email, meeting, self.by_email.get(email.strip().lower()))


def recipient_of(rsvp: Rsvp) -> tuple[str, str] | None:
    """Who keeps the entity's copy of the event: the person who answered, else the entity's address."""
    return Recipients([rsvp]).of(rsvp)


_UNKNOWN = object()


def rsvp_link(email: str, meeting: Meeting, user: User | object | None = _UNKNOWN) -> str:
    """A sign-in link that lands on the meeting's answer page, valid until the meeting ends.

    `user` is the account of `email` when the caller already looked it up (None: there is none).
    """
    from scheduler.auth.services import find_user, issue_login_token, login_link_url

    if user is _UNKNOWN:
        user = find_user(email)
    path = f"/incontri/{meeting.id}/adesione"
    if user is None:
        return public_url(path)
    ttl = max(meeting.ends_at - utcnow(), timedelta(hours=1))
    return login_link_url(issue_login_token(user, path, ttl=min(ttl, timedelta(days=60))))


def _send(rsvp: Rsvp, *, method: str, partstat: str, template: str, subject: str, topic: str,
          change=None, invitation: ics.Invitation | None = None, recipients: Recipients | None = None) -> bool:
    recipients = recipients or Recipients([rsvp])
    recipient = recipients.of(rsvp)
    if recipient is None:
        return False
    email, name = recipient
    meeting = rsvp.meeting
    call = meeting.track.call
    if invitation is None:
        invitation = _invitation(meeting, method)
    calendar = invitation.for_attendee(ics.Attendee(email, rsvp.organization.name, partstat))
    text, html = render_mail(
        template, meeting=meeting, rsvp=rsvp, call=call, change=change, when=format_when(meeting.starts_at,
                                                                                        meeting.ends_at),
        meeting_url=public_url(f"/incontri/{meeting.id}"), rsvp_url=recipients.link(email, meeting),
        organization=rsvp.organization, waiting=rsvp.status is RsvpStatus.WAITLIST,
    )
    enqueue(to=email, to_name=name, subject=subject, text=text, html=html, ics=calendar, ics_method=method,
            topic=topic)
    return True


def _invitation(meeting: Meeting, method: str) -> ics.Invitation:
    from scheduler.calendar.feeds import event_data

    call = meeting.track.call
    return ics.Invitation(event_data(meeting, public_url()), method=method, organizer_email=call.office_email,
                          organizer_name=call.office_name, tz=call.timezone or "Europe/Rome")


def _title(meeting: Meeting) -> str:
    return f"{meeting.track.name} – {format_when(meeting.starts_at, meeting.ends_at)}"


def invitation(rsvp: Rsvp, user: User) -> None:
    waiting = rsvp.status is RsvpStatus.WAITLIST
    _send(rsvp, method="REQUEST", partstat=PARTSTAT[rsvp.status], template="invite",
          subject=("Lista d'attesa: " if waiting else "Invito: ") + _title(rsvp.meeting),
          topic="invite-waitlist" if waiting else "invite")


def withdrawal(rsvp: Rsvp, user: User) -> None:
    _send(rsvp, method="CANCEL", partstat="DECLINED", template="invite_withdrawn",
          subject="Partecipazione annullata: " + _title(rsvp.meeting), topic="invite-withdrawn")


def promotion(rsvp: Rsvp) -> None:
    _send(rsvp, method="REQUEST", partstat="ACCEPTED", template="invite",
          subject="Posto confermato: " + _title(rsvp.meeting), topic="invite-promoted", change="promoted")


def meeting_changed(meeting: Meeting, change) -> int:
    """One updated invitation (or cancellation) per entity that said yes or is waiting; returns how many.

    The whole change is written in a fixed number of queries: answers, entities and accounts are loaded
    together and the calendar part is built once, so hundreds of entities are told in one short request.
    """
    rsvps = list(db.session.scalars(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id,
                              Rsvp.status.in_([RsvpStatus.YES, RsvpStatus.WAITLIST]))
        .order_by(Rsvp.id)
        .options(sa.orm.selectinload(Rsvp.organization))
    ))
    if not rsvps:
        return 0
    if change.cancelled:
        subject, method, template, topic = "Annullato: " + _title(meeting), "CANCEL", "invite_cancelled", "cancel"
    else:
        what = ("nuova sede" if meeting.venue else "sede da definire") if change.venue else "nuovo orario"
        subject, method, template, topic = f"Aggiornamento ({what}): " + _title(meeting), "REQUEST", "invite", "update"
    invitation = _invitation(meeting, method)
    recipients = Recipients(rsvps)
    sent = 0
    with db.session.no_autoflush:
        for rsvp in rsvps:
            partstat = "DECLINED" if change.cancelled else PARTSTAT[rsvp.status]
            sent += _send(rsvp, method=method, partstat=partstat, template=template, subject=subject, topic=topic,
                          change=change, invitation=invitation, recipients=recipients)
    return sent
