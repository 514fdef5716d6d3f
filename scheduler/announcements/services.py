"""Rules of announcements: drafts, preview, test, sending now or later, the venue notice, the delivery log.

Nothing here commits or reads the request. Sending writes one outbox row per recipient in the caller's
transaction, so 300 messages land together or not at all, and the worker delivers them with its retries. The
venue notice sets the venue in the request and leaves its messages to the worker (`send_due`), which writes
them all in one transaction a moment later: staff do not wait for hundreds of messages to be written. The files
staff attach (`attachments`) are kept once with the announcement and named by each of its messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from scheduler.announcements import attachments as files
from scheduler.announcements.audience import (
    Audience,
    AudienceError,
    Recipient,
    meeting_of,
    resolve,
)
from scheduler.announcements.audience import (
    check as check_audience,
)
from scheduler.announcements.compose import (
    Compiled,
    PlaceholderError,
    check_placeholders,
    compile_body,
    compile_line,
)
from scheduler.announcements.models import Announcement, AnnouncementStatus
from scheduler.auth.models import User
from scheduler.calendar.answer_links import answer_url
from scheduler.calendar.feeds import map_link
from scheduler.calendar.models import Meeting, RsvpStatus, Venue
from scheduler.calendar.notifications import Notice, NoticeText, held_addresses
from scheduler.calendar.services import send_event, set_venue
from scheduler.calls.models import Call
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_when
from scheduler.links import public_url
from scheduler.mailing import preferences
from scheduler.mailing.models import MailBounce, MailCategory, OutboxMessage, OutboxStatus
from scheduler.mailing.services import enqueue, render_mail, requeue, with_unsubscribe_footer
from scheduler.registry.recipients import Address
from scheduler.timeutil import utcnow

log = logging.getLogger(__name__)

TOPIC = "announcement"
TEST_TOPIC = "announcement-test"
SUBJECT_MAX = 200
BODY_MAX = 20_000


class AnnouncementError(DomainError):
    """A rule was broken; the message is for staff, `field` names the form field it belongs to."""


@dataclass
class Draft:
    """What staff typed in the composer."""

    subject: str
    body: str
    audience: Audience
    attach_invite: bool = False
    #: The meeting chosen for the placeholders when the audience is not one of a meeting's (an area's entities,
    #: every admitted entity...); a meeting's audience brings its own.
    meeting_id: int | None = None


# --- writing -------------------------------------------------------------------------------------------------


def _meeting(call: Call, draft: Draft) -> Meeting | None:
    """The meeting the message is about: its audience's, or the one chosen for the placeholders."""
    if draft.audience.about_meeting:
        return meeting_of(call, draft.audience.meeting_id)
    if draft.meeting_id is None:
        return None
    meeting = meeting_of(call, draft.meeting_id)
    if meeting is None:
        raise AnnouncementError("Scegli l'incontro.", "meeting_id")
    return meeting


def _check(call: Call, draft: Draft) -> Meeting | None:
    try:
        check_audience(call, draft.audience)
    except AudienceError as error:
        raise AnnouncementError(str(error), error.field) from None
    meeting = _meeting(call, draft)
    if not draft.subject.strip():
        raise AnnouncementError("Scrivi l'oggetto.", "subject")
    if len(draft.subject) > SUBJECT_MAX:
        raise AnnouncementError(f"L'oggetto può avere al massimo {SUBJECT_MAX} caratteri.", "subject")
    if not draft.body.strip():
        raise AnnouncementError("Scrivi il testo del messaggio.", "body")
    if len(draft.body) > BODY_MAX:
        raise AnnouncementError(f"Il testo può avere al massimo {BODY_MAX} caratteri.", "body")
    for field_name in ("subject", "body"):
        try:
            check_placeholders(getattr(draft, field_name), has_meeting=meeting is not None)
        except PlaceholderError as error:
            raise AnnouncementError(str(error), field_name) from None
    if draft.attach_invite and meeting is None:
        raise AnnouncementError("L'invito si può allegare solo a un messaggio su un incontro.", "attach_invite")
    if draft.attach_invite and not draft.audience.about_meeting:
        # an area's entities include those that declined, or that the meeting is not for
        raise AnnouncementError("L'invito si può allegare solo scrivendo agli enti di un incontro (chi ha aderito, "
                                "chi è invitato...): cambia i destinatari o togli l'invito.", "attach_invite")
    return meeting


def _apply(announcement: Announcement, call: Call, draft: Draft) -> None:
    meeting = _check(call, draft)
    announcement.subject = " ".join(draft.subject.split())
    announcement.body = draft.body.replace("\r\n", "\n")
    announcement.audience = draft.audience.to_dict()
    announcement.meeting = meeting
    announcement.attach_invite = bool(draft.attach_invite and meeting)


def create_draft(call: Call, draft: Draft, actor: User) -> Announcement:
    announcement = Announcement(call=call, created_by=actor, status=AnnouncementStatus.DRAFT)
    _apply(announcement, call, draft)
    db.session.add(announcement)
    db.session.flush()
    return announcement


#: Sent by staff: its messages are in the outbox, or being written there by the worker.
GONE = (AnnouncementStatus.SENT, AnnouncementStatus.SENDING)


def update_draft(announcement: Announcement, draft: Draft) -> None:
    """Edit a draft or a scheduled announcement (which stays scheduled); a sent one cannot change."""
    if announcement.status in GONE:
        raise AnnouncementError("La comunicazione è già stata inviata: non si può modificare.", code="closed")
    _apply(announcement, announcement.call, draft)


def delete_draft(announcement: Announcement) -> None:
    if announcement.status in GONE:
        raise AnnouncementError("Una comunicazione inviata resta nel registro degli invii.", code="closed")
    db.session.delete(announcement)


def draft_of(announcement: Announcement) -> Draft:
    return Draft(subject=announcement.subject, body=announcement.body,
                 audience=Audience.from_dict(announcement.audience), attach_invite=announcement.attach_invite,
                 meeting_id=announcement.meeting_id)


# --- who receives it ---------------------------------------------------------------------------------------------


@dataclass
class Resolution:
    """The recipients as they would be if it were sent now, with who is left out and why."""

    recipients: list[Recipient]
    excluded: list[dict[str, str]] = field(default_factory=list)
    bounces: dict[str, MailBounce] = field(default_factory=dict)
    #: The addresses (lower case) that turned announcements off, read once for the whole audience.
    refused: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.recipients)


def _category(announcement: Announcement, recipient: Recipient, holders: set[str]) -> MailCategory:
    """Optional mail, except what people need: a venue notice to whoever holds the meeting's event (it carries
    their updated invitation), and facilitators' work mail."""
    if recipient.facilitator:
        return MailCategory.SERVICE
    if announcement.purpose == "venue" and recipient.key in holders:
        return MailCategory.SERVICE
    return MailCategory.OPTIONAL


def _holders(announcement: Announcement) -> set[str]:
    if announcement.purpose != "venue" or announcement.meeting is None or announcement.meeting.id is None:
        return set()
    return held_addresses(announcement.meeting)


def recipients_of(announcement: Announcement) -> Resolution:
    everyone = resolve(announcement.call, Audience.from_dict(announcement.audience))
    holders = _holders(announcement)
    categories = {r.key: _category(announcement, r, holders) for r in everyone}
    optional = [r for r in everyone if categories[r.key] is MailCategory.OPTIONAL]
    refused = preferences.opted_out((r.email for r in optional), preferences.kind_of(TOPIC))
    kept, excluded = [], []
    for recipient in everyone:
        recipient.category = categories[recipient.key]
        if recipient.key in refused and recipient.category is MailCategory.OPTIONAL:
            excluded.append({"email": recipient.email, "name": recipient.entity_names or recipient.name,
                             "reason": "Ha scelto di non ricevere le comunicazioni"})
        else:
            kept.append(recipient)
    return Resolution(kept, excluded, preferences.bounces_of(r.email for r in kept), refused)


# --- rendering ---------------------------------------------------------------------------------------------------


@dataclass
class Rendered:
    """One recipient's message, exactly as it goes to the outbox (the invitation, if any, is the calendar's)."""

    to: str
    to_name: str
    subject: str
    text: str
    html: str
    #: Whether the message carries the meeting's invitation (written by the calendar when it is sent).
    invite: bool
    category: MailCategory
    #: The files staff attached, as "name (size)": every message carries them.
    attachments: tuple[str, ...] = ()


class Renderer:
    """Compiles an announcement once and renders it for each recipient (hundreds in one request)."""

    def __init__(self, announcement: Announcement, venue: Venue | None = None, *, preview: bool = False) -> None:
        #: A preview or a test shows the answer page's address, never a working answer link of the entity.
        self.preview = preview
        self.announcement = announcement
        self.call = announcement.call
        self.meeting = announcement.meeting
        self.subject: Compiled = compile_line(announcement.subject)
        self.body: Compiled = compile_body(announcement.body)
        self.venue = venue if venue is not None else (self.meeting.venue if self.meeting else None)
        self.attachments = tuple(f"{a.filename} ({files.size_label(a.size)})" for a in announcement.attachments)

    def values(self, recipient: Recipient) -> dict[str, str]:
        values = {"ente": recipient.entity_names or recipient.name, "destinatario": recipient.name}
        meeting = self.meeting
        if meeting is not None:
            values.update({
                "percorso": meeting.track.name,
                "data_incontro": format_when(meeting.starts_at, meeting.ends_at),
                "sede": self.venue.location if self.venue else "Sede da definire",
                "link_incontro": public_url(f"/incontri/{meeting.id}", self.call.ambito),
            })
            if recipient.facilitator:
                values["link_adesione"] = values["link_incontro"]
            elif self.preview:
                values["link_adesione"] = public_url(f"/incontri/{meeting.id}/adesione", self.call.ambito)
            elif "link_adesione" in self.body.used() | self.subject.used():
                organization = recipient.organizations[0] if recipient.organizations else None
                values["link_adesione"] = answer_url(meeting, organization, recipient.email)
        return values

    def carries_invite(self, recipient: Recipient) -> bool:
        return bool(self.announcement.attach_invite and self.meeting is not None and not recipient.facilitator
                    and recipient.rsvp_status is not RsvpStatus.NO)

    def render(self, recipient: Recipient, *, footer_address: str | None = None) -> Rendered:
        """The message for one recipient; a preview also shows the unsubscribe line the outbox will add
        (for a test, pointing at `footer_address`, so staff never unsubscribe the recipient by trying it)."""
        values = self.values(recipient)
        subject = self.subject.fill_text(values)
        invite = self.carries_invite(recipient)
        text, html = render_mail(
            "announcement", call=self.call, subject=subject, body_text=self.body.fill_text(values),
            body_html=self.body.fill_html(values), meeting=self.meeting, invite=invite,
            meeting_url=values.get("link_incontro"),
        )
        category = recipient.category or MailCategory.OPTIONAL
        if self.preview and category is MailCategory.OPTIONAL:
            url = preferences.unsubscribe_url(footer_address or recipient.email, preferences.kind_of(TOPIC))
            text, html = with_unsubscribe_footer(text, html, url)
        return Rendered(to=recipient.email, to_name=recipient.name, subject=subject, text=text, html=html,
                        invite=invite, category=category, attachments=self.attachments)

    def notice(self, recipients: list[Recipient], *, to_holders: bool) -> Notice:
        """The announcement as the calendar writes it with the meeting's event: one message per address."""
        by_key = {r.key: r for r in recipients}

        def render(address: Address, status: RsvpStatus | None) -> NoticeText:
            recipient = by_key.get(address.key) or Recipient(
                email=address.email, name=address.name,
                organizations=[address.organization] if address.organization else [], rsvp_status=status,
                category=MailCategory.SERVICE,
            )
            rendered = self.render(recipient)
            return NoticeText(rendered.subject, rendered.text, rendered.html, rendered.category)

        audience = [Address(r.email, r.name, r.organizations[0] if r.organizations else None) for r in recipients]
        return Notice(render=render, audience=audience, announcement_id=self.announcement.id, topic=TOPIC,
                      to_holders=to_holders)


def preview(announcement: Announcement, index: int = 0,
            venue: Venue | None = None) -> tuple[Rendered | None, Resolution]:
    """The message as the `index`-th recipient will receive it, and everyone it would go to now.

    An audience that no longer resolves (its meeting was removed) previews as nobody; sending it is refused.
    """
    try:
        resolution = recipients_of(announcement)
    except AudienceError:
        return None, Resolution([])
    if not resolution.recipients:
        return None, resolution
    index = min(max(index, 0), resolution.count - 1)
    return Renderer(announcement, venue, preview=True).render(resolution.recipients[index]), resolution


def _enqueue(announcement: Announcement, rendered: Rendered, *, topic: str = TOPIC, linked: bool = True,
             refused: set[str] | None = None, attachments: list[dict] | None = None) -> OutboxMessage | None:
    return enqueue(
        to=rendered.to, to_name=rendered.to_name, subject=rendered.subject, text=rendered.text,
        html=rendered.html, category=rendered.category, topic=topic,
        announcement_id=announcement.id if linked else None, refused=refused, attachments=attachments,
        ambito=announcement.call.ambito,
    )


def send_test(announcement: Announcement, user: User) -> OutboxMessage:
    """The first recipient's message, sent to the staff member who asked, subject marked as a test.

    It carries no invitation: an event in the tester's calendar would never hear of the meeting again.
    """
    resolution = recipients_of(announcement)
    if not resolution.recipients:
        raise AnnouncementError("Nessun destinatario: la prova userebbe segnaposto vuoti. Cambia i destinatari.",
                                code="closed")
    # a preview: no working sign-in link of the entity, and the unsubscribe line points at the tester
    rendered = Renderer(announcement, preview=True).render(resolution.recipients[0], footer_address=user.email)
    rendered.to, rendered.to_name = user.email, user.full_name or user.email
    rendered.subject = f"[PROVA] {rendered.subject}"
    rendered.category = MailCategory.SERVICE  # the body already shows what the recipient will see
    # its own copy of the files: the draft may lose one before the worker sends the test
    return _enqueue(announcement, rendered, topic=TEST_TOPIC, linked=False,
                    attachments=files.copied_items(announcement))


def _stale_notice(announcement: Announcement) -> str | None:
    """Why a venue notice written by the worker must not go out: the meeting changed since staff sent it."""
    meeting = announcement.meeting
    if announcement.purpose != "venue":
        return None
    if meeting is None or meeting.is_cancelled:
        return "L'incontro è stato annullato prima dell'invio"
    if meeting.venue_id != announcement.venue_id:
        return "La sede è stata cambiata di nuovo prima dell'invio"
    return None


def _dispatch(announcement: Announcement, actor: User | None) -> int:
    """Write every recipient's message. Those that carry the meeting's event are written by the calendar
    (which records who holds it); a venue notice goes to every holder of the event too, since it carries the
    venue change they have not been told of otherwise."""
    resolution = recipients_of(announcement)
    stale = _stale_notice(announcement)
    if stale is not None:
        announcement.status = AnnouncementStatus.SENT
        announcement.sent_at = utcnow()
        announcement.recipient_count = 0
        announcement.excluded = [{"email": r.email, "name": r.entity_names or r.name, "reason": stale}
                                 for r in resolution.recipients]
        log.info("announcement %s: not sent, the meeting changed before its messages were written", announcement.id)
        return 0
    renderer = Renderer(announcement)
    attached = files.outbox_items(announcement)  # each message names the files kept once with the announcement
    with_event = [r for r in resolution.recipients if renderer.carries_invite(r)]
    plain = [r for r in resolution.recipients if not renderer.carries_invite(r)]
    messages = [m for m in (_enqueue(announcement, renderer.render(r), refused=resolution.refused,
                                     attachments=attached) for r in plain)
                if m is not None]
    meeting = announcement.meeting
    venue_notice = announcement.purpose == "venue"
    if with_event or venue_notice:
        with_invite = send_event(meeting, renderer.notice(with_event, to_holders=venue_notice))
        for message in with_invite:  # written by the calendar, which knows nothing of the files
            message.attachments = list(attached)
        messages += with_invite
    written = {m.to_address.strip().lower() for m in messages}
    excluded = list(resolution.excluded) + [
        {"email": r.email, "name": r.entity_names or r.name, "reason": "Ha scelto di non ricevere le comunicazioni"}
        for r in resolution.recipients if r.key not in written
    ]
    announcement.status = AnnouncementStatus.SENT
    announcement.sent_at = utcnow()
    announcement.sent_by = actor or announcement.sent_by
    announcement.recipient_count = len(messages)
    announcement.excluded = excluded
    log.info("announcement %s: %d messages queued, %d excluded", announcement.id, len(messages), len(excluded))
    return len(messages)


def send_now(announcement: Announcement, actor: User) -> int:
    """Write every recipient's message to the outbox now; returns how many."""
    if announcement.status in GONE:
        raise AnnouncementError("La comunicazione è già stata inviata.", code="closed")
    _check(announcement.call, draft_of(announcement))
    return _dispatch(announcement, actor)


def schedule(announcement: Announcement, when: datetime, actor: User) -> None:
    """Send later: the worker sends it at `when`; recipients are the audience as it is at that moment."""
    if announcement.status in GONE:
        raise AnnouncementError("La comunicazione è già stata inviata.", code="closed")
    if when <= utcnow():
        raise AnnouncementError("Scegli un momento futuro.", "send_at")
    _check(announcement.call, draft_of(announcement))
    announcement.status = AnnouncementStatus.SCHEDULED
    announcement.send_at = when
    announcement.sent_by = actor


def unschedule(announcement: Announcement) -> None:
    if announcement.status is not AnnouncementStatus.SCHEDULED:
        raise AnnouncementError("La comunicazione non è programmata.", code="closed")
    announcement.status = AnnouncementStatus.DRAFT
    announcement.send_at = None


def send_due(now: datetime | None = None) -> int:
    """Write the messages of the announcements whose time has come: those being sent (the venue notice) and the
    scheduled ones due (the worker runs this on every loop, one indexed query when there is nothing to do).

    Each is claimed by a conditional UPDATE in the same transaction as its messages, so two workers never
    send one twice, and a failure leaves it as it was for the next round. Commits once per announcement.
    """
    now = now or utcnow()
    due = list(db.session.execute(
        sa.select(Announcement.id, Announcement.status).where(
            Announcement.status.in_((AnnouncementStatus.SENDING, AnnouncementStatus.SCHEDULED)),
            Announcement.send_at <= now).order_by(Announcement.send_at, Announcement.id)
    ))
    sent = 0
    for announcement_id, status in due:
        try:
            claimed = db.session.execute(
                sa.update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.status == status)
                .values(status=AnnouncementStatus.SENT)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if not claimed:
                db.session.rollback()
                continue
            announcement = db.session.get(Announcement, announcement_id, populate_existing=True)
            _dispatch(announcement, announcement.sent_by)
            db.session.commit()
            sent += 1
        except Exception:
            db.session.rollback()
            log.exception("announcement %s could not be sent; the worker tries again", announcement_id)
    return sent


# --- the venue notice -------------------------------------------------------------------------------------------


def venue_notice_text(meeting: Meeting, venue: Venue) -> tuple[str, str]:
    """The prefilled subject and body of "tell the entities where the meeting is" (staff can edit both)."""
    when = format_when(meeting.starts_at, meeting.ends_at)

    def _literal(text: str) -> str:  # typed data may hold braces: they are text, not placeholders
        return text.replace("{", "{{").replace("}", "}}")

    venue_line = _literal(venue.name) + (f", {_literal(venue.room)}" if venue.room else "")
    address = venue.address + (f", {venue.comune.name}" if venue.comune and venue.comune.name not in venue.address
                               else "")
    lines = [
        "Gentile {ente},",
        "",
        f"l'incontro del percorso **{_literal(meeting.track.name)}** di {when} si terrà presso:",
        "",
        f"**{venue_line}**  ",
        _literal(address),
        "",
        f"[Vedi sulla mappa](<{_literal(map_link(venue))}>)",
    ]
    if venue.accessibility_notes.strip():
        lines += ["", f"Accessibilità: {_literal(venue.accessibility_notes.strip())}"]
    lines += [
        "",
        "In allegato l'invito aggiornato per il calendario. Dettagli e aggiornamenti: {link_incontro}",
        "",
        "Se non l'avete ancora fatto, potete confermare la partecipazione qui: {link_adesione}",
        "",
        f"Cordiali saluti,  \n{_literal(meeting.track.call.office_name)}",
    ]
    return f"Sede dell'incontro: {meeting.track.name} – {when}", "\n".join(lines)


def _venue_notice(meeting: Meeting, venue: Venue, draft: Draft, actor: User | None) -> Announcement:
    """The notice as an announcement not yet saved (checked like any other)."""
    call = meeting.track.call
    if meeting.is_cancelled:
        raise AnnouncementError("L'incontro è annullato.", code="closed")
    if meeting.ends_at <= utcnow():
        raise AnnouncementError("L'incontro è già concluso.", code="closed")
    if venue.call_id != call.id:
        raise AnnouncementError("Sede sconosciuta.", "venue_id")
    if draft.audience.kind not in ("meeting_attending", "meeting_invited") or draft.audience.meeting_id != meeting.id:
        raise AnnouncementError("Scegli a chi comunicare la sede.", "audience")
    draft.attach_invite = True
    announcement = Announcement(call=call, created_by=actor, purpose="venue", status=AnnouncementStatus.DRAFT)
    _apply(announcement, call, draft)
    return announcement


def preview_venue_notice(meeting: Meeting, venue: Venue, draft: Draft) -> tuple[Rendered | None, Resolution]:
    """The notice as the first recipient will receive it, before the venue is set; nothing is saved."""
    announcement = _venue_notice(meeting, venue, draft, None)
    try:
        return preview(announcement, 0, venue)
    finally:
        if announcement in db.session:
            db.session.expunge(announcement)


def announce_venue(meeting: Meeting, venue: Venue, draft: Draft, actor: User) -> Announcement:
    """Set the venue and tell the entities in one message each, the updated invitation attached.

    The venue changes now through the calendar's `set_venue` (SEQUENCE raised once), and the notice is left
    to the worker in the same transaction ("in invio"): a moment later every holder of the event and everyone
    in the audience gets one e-mail carrying both the message and the new invitation, never two. Staff wait
    for the venue, not for hundreds of messages to be written.
    """
    announcement = _venue_notice(meeting, venue, draft, actor)
    set_venue(meeting, venue, told_later=True, actor_id=actor.id)
    announcement.venue = venue
    announcement.status = AnnouncementStatus.SENDING
    announcement.send_at = utcnow()
    announcement.sent_by = actor
    db.session.add(announcement)
    db.session.flush()
    return announcement


# --- the delivery log ------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What became of each message of an announcement."""

    messages: list[OutboxMessage]
    counts: dict[OutboxStatus, int]
    retried: int


def delivery_log(announcement: Announcement) -> Delivery:
    messages = list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.announcement_id == announcement.id)
        .order_by(OutboxMessage.to_name, OutboxMessage.to_address)
    ))
    counts = dict.fromkeys(OutboxStatus, 0)
    for message in messages:
        counts[message.status] += 1
    return Delivery(messages, counts, sum(1 for m in messages if m.attempts > 1))


def retry_failed(announcement: Announcement) -> int:
    """Put the messages the server refused back in the queue; returns how many."""
    failed = list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.announcement_id == announcement.id,
                                       OutboxMessage.status == OutboxStatus.FAILED)
    ))
    for message in failed:
        requeue(message)
    return len(failed)


def delivery_counts(announcement_ids: list[int]) -> dict[int, dict[OutboxStatus, int]]:
    """Per announcement, how many messages are in each state (one query for the whole list page)."""
    result: dict[int, dict[OutboxStatus, int]] = {i: dict.fromkeys(OutboxStatus, 0) for i in announcement_ids}
    if announcement_ids:
        rows = db.session.execute(
            sa.select(OutboxMessage.announcement_id, OutboxMessage.status, sa.func.count())
            .where(OutboxMessage.announcement_id.in_(announcement_ids))
            .group_by(OutboxMessage.announcement_id, OutboxMessage.status)
        )
        for announcement_id, status, count in rows:
            result[announcement_id][status] = count
    return result
