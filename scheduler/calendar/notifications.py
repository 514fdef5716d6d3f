"""Invitations (iTIP over e-mail) the calendar sends, and the calendar copies they leave behind.

The rule, one for every message about a meeting: **whoever was sent the event keeps hearing of it.** Each
METHOD:REQUEST records its address as a `CalendarCopy`; every later change of the meeting (time, venue, title,
cancellation) goes to every copy still held, with a SEQUENCE higher than the last one that address received; a
withdrawal sends the entity's copies a CANCEL for that attendee only (higher SEQUENCE, the meeting not marked
cancelled). Who is sent the first invitation is `registry.recipients`' decision. Rows go to the outbox in the
caller's transaction; each function returns the messages it queued.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from scheduler import ics
from scheduler.calendar.answer_links import answer_url
from scheduler.calendar.feeds import event_data
from scheduler.calendar.models import CalendarCopy, Meeting, PersonPass, Rsvp, RsvpStatus
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.links import public_url
from scheduler.mailing import preferences
from scheduler.mailing.models import MailCategory, OutboxMessage
from scheduler.mailing.services import enqueue, render_mail
from scheduler.registry.models import Organization
from scheduler.registry.recipients import Address, speaks_for

PARTSTAT = {RsvpStatus.YES: "ACCEPTED", RsvpStatus.WAITLIST: "TENTATIVE", RsvpStatus.NO: "DECLINED"}


def partstat_of(status: RsvpStatus | None) -> str:
    return PARTSTAT.get(status, "NEEDS-ACTION") if status else "NEEDS-ACTION"


@dataclass
class MeetingChange:
    """What changed in a meeting, told to the holders of its event in the updated invitation."""

    venue: bool = False
    time: bool = False
    title: bool = False
    cancelled: bool = False
    #: A cancelled meeting is on again (perhaps at another time): its answers' calendars get it back.
    restored: bool = False
    previous_location: str | None = None
    #: The time the holders knew, as the pages write it, when the time changed ("prima: ...").
    previous_when: str | None = None
    #: How people take part changed (in the room, online, both) or the online room's link did.
    online: bool = False

    @property
    def any(self) -> bool:
        return self.venue or self.time or self.title or self.cancelled or self.restored or self.online


@dataclass(frozen=True)
class NoticeText:
    subject: str
    text: str
    html: str
    category: MailCategory = MailCategory.OPTIONAL


@dataclass
class Notice:
    """Staff's own message about a change (the venue notice), written instead of the standard update.

    `render` writes the message for one address (with the entity's answer); `audience` names addresses to
    tell beyond the holders of the event, who are sent the event too and so become holders. Holders always
    receive it (it carries their updated invitation); the audience's messages are optional mail.
    """

    render: Callable[[Address, RsvpStatus | None], NoticeText]
    audience: list[Address] = dataclasses.field(default_factory=list)
    announcement_id: int | None = None
    topic: str = "announcement"
    #: Also every holder of the event (a change they must hear of); otherwise the audience alone.
    to_holders: bool = True


# --- copies ---------------------------------------------------------------------------------------------------


class Copies:
    """The copies of one meeting's event, loaded once (one query) for the messages of one change."""

    def __init__(self, meeting: Meeting) -> None:
        self.meeting = meeting
        self.by_email: dict[str, CalendarCopy] = {
            c.email: c for c in db.session.scalars(
                sa.select(CalendarCopy).where(CalendarCopy.meeting_id == meeting.id).order_by(CalendarCopy.id)
            )
        } if meeting.id is not None else {}

    def held(self, organization_id: int | None = None) -> list[CalendarCopy]:
        return [c for c in self.by_email.values()
                if c.held and (organization_id is None or c.organization_id == organization_id)]

    def sequence_for(self, email: str, *, newer: bool) -> int:
        """The SEQUENCE of the next message to `email`: the meeting's, and above the last one the address got
        when the message must supersede it (a change, a withdrawal) or its copy was cancelled."""
        copy = self.by_email.get(email.strip().lower())
        if copy is None:
            return self.meeting.sequence
        return max(self.meeting.sequence, copy.sequence + 1 if newer or not copy.held else copy.sequence)

    def record(self, address: Address, sequence: int, *, held: bool) -> None:
        key = address.key
        copy = self.by_email.get(key)
        if copy is None:
            copy = self.by_email[key] = CalendarCopy(meeting_id=self.meeting.id, email=key)
            db.session.add(copy)
        if address.organization is not None:
            copy.organization_id = address.organization.id
        copy.name = (address.name or "")[:300]
        copy.sequence = sequence
        copy.held = held


def holds_event(meeting: Meeting, organization_id: int) -> bool:
    """Whether some address of the entity holds the meeting's event."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(CalendarCopy).where(
            CalendarCopy.meeting_id == meeting.id, CalendarCopy.organization_id == organization_id,
            CalendarCopy.held.is_(True))
    ) > 0


def held_addresses(meeting: Meeting) -> set[str]:
    """The addresses (lower case) whose calendars hold the meeting's event."""
    return set(db.session.scalars(
        sa.select(CalendarCopy.email).where(CalendarCopy.meeting_id == meeting.id, CalendarCopy.held.is_(True))
    ))


# --- writing --------------------------------------------------------------------------------------------------


class _Writer:
    """Writes the messages of one change of one meeting: the calendar part is built once per SEQUENCE, the
    copies and answers are read together, so hundreds of holders cost a fixed number of queries."""

    def __init__(self, meeting: Meeting, targets: list[Address], copies: Copies | None = None) -> None:
        self.meeting = meeting
        self.call = meeting.track.call
        self.copies = copies if copies is not None else Copies(meeting)
        base = public_url("", self.call.ambito)  # the Ambito's own host name, where it has one
        self.event = event_data(meeting, base)
        self.online_event = event_data(meeting, base, online=True) if meeting.is_online else self.event
        self.when = format_when(meeting.starts_at, meeting.ends_at)
        self.meeting_url = public_url(f"/incontri/{meeting.id}", self.call.ambito)
        self._parts: dict[tuple[str, int], ics.Invitation] = {}
        self._emails = [t.email for t in targets]
        self._refused: dict[str, set[str]] = {}
        #: The named people with their own pass: their invitation names them, and carries their own code.
        self.people = {p.email: p for p in db.session.scalars(
            sa.select(PersonPass).where(PersonPass.meeting_id == meeting.id))}

    def refused(self, topic: str) -> set[str]:
        """The targets that turned off this kind of optional mail, read once for all of them."""
        kind = preferences.kind_of(topic)
        if kind not in self._refused:
            self._refused[kind] = preferences.opted_out(self._emails, kind)
        return self._refused[kind]

    def part(self, method: str, sequence: int, online: bool = False) -> ics.Invitation:
        """The calendar part for one SEQUENCE; `online`: with the online room (for a confirmed seat)."""
        key = (method, sequence, online)
        if key not in self._parts:
            event = dataclasses.replace(self.online_event if online else self.event, sequence=sequence)
            self._parts[key] = ics.Invitation(
                event, method=method, organizer_email=self.call.office_email, organizer_name=self.call.office_name,
                tz=self.call.timezone or "Europe/Rome",
            )
        return self._parts[key]

    def write(self, address: Address, *, method: str, rsvp: Rsvp | None, subject: str, template: str, topic: str,
              newer: bool, change: MeetingChange | str | None = None, notice: Notice | None = None,
              category: MailCategory = MailCategory.SERVICE) -> OutboxMessage | None:
        sequence = self.copies.sequence_for(address.email, newer=newer)
        status = rsvp.status if rsvp else None
        organization = address.organization
        partstat = "DECLINED" if method == "CANCEL" or change == "person_removed" else partstat_of(status)
        # the online room only reaches a confirmed seat, in the calendar part and in the body alike
        online = (status is RsvpStatus.YES and change != "person_removed" and self.meeting.is_online
                  and bool(self.meeting.online_url))
        person = self.people.get(address.key) if change != "person_removed" else None
        named = person is not None or change == "person_removed"  # a named person, not the entity's contact
        attendee = address.name if named else (organization.name if organization else address.name)
        calendar = self.part(method, sequence, online).for_attendee(ics.Attendee(address.email, attendee, partstat))
        if notice is not None:
            rendered = notice.render(address, status)
            subject, text, html = rendered.subject, rendered.text, rendered.html
            if category is not MailCategory.SERVICE:
                category = rendered.category
        else:
            # a named person's message carries their own code, and no link to change the entity's answer
            # unless the address also speaks for the entity
            speaks = organization is not None and (not named or speaks_for(organization, address.email))
            text, html = render_mail(
                template, meeting=self.meeting, rsvp=rsvp, call=self.call, change=change, when=self.when,
                meeting_url=self.meeting_url,
                rsvp_url=answer_url(self.meeting, organization, address.email) if speaks else None,
                organization=organization, waiting=status is RsvpStatus.WAITLIST,
                online_url=self.meeting.online_url if online else None,
                person_email=address.key if person is not None else None,
                person_name=address.name if named else None,
            )
        topic = notice.topic if notice else topic
        message = enqueue(to=address.email, to_name=address.name, subject=subject, text=text, html=html,
                          ics=calendar, ics_method=method, topic=topic, category=category,
                          announcement_id=notice.announcement_id if notice else None,
                          refused=self.refused(topic) if category is MailCategory.OPTIONAL else None,
                          ambito=self.call.ambito)
        if message is not None:
            self.copies.record(address, sequence, held=method == "REQUEST")
        return message


def _title(meeting: Meeting) -> str:
    return f"{meeting.track.name} – {format_when(meeting.starts_at, meeting.ends_at)}"


def _copy_address(copy: CalendarCopy, organizations: dict[int, Organization]) -> Address:
    return Address(copy.email, copy.name, organizations.get(copy.organization_id) if copy.organization_id else None)


def invitation(rsvp: Rsvp, to: list[Address]) -> list[OutboxMessage]:
    """The invitation after an answer (yes, or the waiting list) to the addresses `registry.recipients` chose."""
    waiting = rsvp.status is RsvpStatus.WAITLIST
    writer = _Writer(rsvp.meeting, to)
    queued = [writer.write(address, method="REQUEST", rsvp=rsvp, newer=False, template="invite",
                           subject=("Lista d'attesa: " if waiting else "Invito: ") + _title(rsvp.meeting),
                           topic="invite-waitlist" if waiting else "invite")
              for address in to]
    return [m for m in queued if m is not None]


def person_removed(rsvp: Rsvp, to: list[Address]) -> list[OutboxMessage]:
    """People taken off an answer: each gets a CANCEL for themselves (the entity's seat and event stay)."""
    writer = _Writer(rsvp.meeting, to)
    queued = [writer.write(address, method="CANCEL", rsvp=rsvp, newer=True, template="invite_person_removed",
                           subject="Partecipazione annullata: " + _title(rsvp.meeting), topic="invite-withdrawn",
                           change="person_removed")
              for address in to]
    return [m for m in queued if m is not None]


def _entity_copies(rsvp: Rsvp, fallback: list[Address]) -> tuple[_Writer, list[Address]]:
    copies = Copies(rsvp.meeting)
    held = [Address(c.email, c.name, rsvp.organization) for c in copies.held(rsvp.organization_id)]
    targets = held or fallback
    writer = _Writer(rsvp.meeting, targets, copies)
    return writer, targets


def withdrawal(rsvp: Rsvp, fallback: list[Address]) -> list[OutboxMessage]:
    """The entity will not come: each of its copies gets a CANCEL for that attendee (the meeting goes on)."""
    writer, targets = _entity_copies(rsvp, fallback)
    queued = [writer.write(address, method="CANCEL", rsvp=rsvp, newer=True, template="invite_withdrawn",
                           subject="Partecipazione annullata: " + _title(rsvp.meeting), topic="invite-withdrawn")
              for address in targets]
    return [m for m in queued if m is not None]


def promotion(rsvp: Rsvp, fallback: list[Address]) -> list[OutboxMessage]:
    """A seat came free: the entity's copies are told it is confirmed (PARTSTAT from TENTATIVE to ACCEPTED)."""
    writer, targets = _entity_copies(rsvp, fallback)
    queued = [writer.write(address, method="REQUEST", rsvp=rsvp, newer=False, template="invite",
                           subject="Posto confermato: " + _title(rsvp.meeting), topic="invite-promoted",
                           change="promoted")
              for address in targets]
    return [m for m in queued if m is not None]


def meeting_changed(meeting: Meeting, change: MeetingChange | None,
                    notice: Notice | None = None) -> list[OutboxMessage]:
    """Tell every holder of the event (and a notice's audience) of a change: one message each, carrying the
    updated event (REQUEST) or the cancellation (CANCEL). With no change, only a notice is sent, with the event
    as it is. Written in a fixed number of queries whatever the number of holders."""
    copies = Copies(meeting)
    held = copies.held()
    answers = {r.organization_id: r for r in db.session.scalars(
        sa.select(Rsvp).where(Rsvp.meeting_id == meeting.id).options(sa.orm.selectinload(Rsvp.organization))
    )}
    organizations = {org_id: r.organization for org_id, r in answers.items()}
    missing = {c.organization_id for c in held if c.organization_id and c.organization_id not in organizations}
    if missing:
        organizations.update((o.id, o) for o in db.session.scalars(
            sa.select(Organization).where(Organization.id.in_(missing))))
    to_holders = notice is None or notice.to_holders
    if change is not None and change.restored:
        # the cancellation took the event out of every calendar: it goes back to those of the entities whose
        # answer still stands (not to an address whose entity withdrew)
        live = {org_id for org_id, r in answers.items() if r.status in (RsvpStatus.YES, RsvpStatus.WAITLIST)}
        held = [c for c in copies.by_email.values() if c.held or c.organization_id in live]
    targets = [(_copy_address(c, organizations), True) for c in held] if to_holders else []
    keys = {address.key for address, _ in targets}
    for address in notice.audience if notice else []:
        if address.key not in keys:
            keys.add(address.key)
            targets.append((address, False))
    if not targets:
        return []
    writer = _Writer(meeting, [address for address, _ in targets], copies)
    cancelled = bool(change and change.cancelled)
    if cancelled:
        subject, method, template, topic = "Annullato: " + _title(meeting), "CANCEL", "invite_cancelled", "cancel"
    else:
        if change is None:
            what = "invito"
        elif change.restored:
            what = "incontro di nuovo in programma"
        elif change.venue:
            what = "nuova sede" if meeting.venue else "sede da definire"
        elif change.time:
            what = "nuovo orario"
        elif change.online:
            what = "partecipazione online"
        else:
            what = "nuovo titolo"
        subject, method, template, topic = f"Aggiornamento ({what}): " + _title(meeting), "REQUEST", "invite", "update"
    queued = []
    with db.session.no_autoflush:
        for address, holder in targets:
            organization = address.organization
            rsvp = answers.get(organization.id) if organization else None
            message = writer.write(
                address, method=method, rsvp=rsvp, subject=subject, template=template, topic=topic,
                newer=change is not None, change=change, notice=notice,
                category=MailCategory.SERVICE if holder or notice is None else MailCategory.OPTIONAL,
            )
            if message is not None:
                queued.append(message)
    return queued


def send_event(meeting: Meeting, notice: Notice) -> list[OutboxMessage]:
    """Staff's message with the meeting's event as it is, to the notice's audience (an announcement with the
    invitation attached); each address becomes a holder and will hear of every change."""
    return meeting_changed(meeting, None, notice)
