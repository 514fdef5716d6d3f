"""Files staff attach to an announcement: checked by their content, limited in size, sent with every message.

A file is kept once, with the announcement (`AnnouncementAttachment`); each outbox row of the announcement names
it (`scheduler.mailing.delivery.stored_attachment`) and the worker reads it once per batch, so 300 messages
do not copy a 15 MB PDF 300 times into the outbox. A sent announcement cannot change, and so neither can the
files its messages name; a test message, sent from a draft that may still change, carries its own copy.

Nothing here commits or reads the request.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping, Sequence

import sqlalchemy as sa

from scheduler.announcements.models import Announcement, AnnouncementAttachment, AnnouncementStatus
from scheduler.auth.models import User
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.mailing.delivery import register_attachment_store, stored_attachment
from scheduler.uploads import (
    DOCX,
    JPEG,
    MEGABYTE,
    ODS,
    ODT,
    PDF,
    PNG,
    XLSX,
    UploadError,
    UploadRule,
    accept_upload,
)

#: The largest file accepted, unless the app sets ANNOUNCEMENT_ATTACHMENT_MAX_BYTES.
DEFAULT_MAX_BYTES = 8 * MEGABYTE
#: The most all the files of one announcement may weigh together, unless the app sets
#: ANNOUNCEMENT_ATTACHMENTS_MAX_TOTAL_BYTES (every message carries them all: mail servers refuse large ones).
DEFAULT_MAX_TOTAL_BYTES = 15 * MEGABYTE
#: The most files one announcement carries.
MAX_FILES = 10
#: The name the outbox rows give the announcements' store of files.
STORE = "announcement"
#: The form field the refusals belong to.
FIELD = "attachments"

ATTACHMENT = UploadRule(
    accepted=(PDF, DOCX, XLSX, ODT, ODS, PNG, JPEG),
    empty="Il file è vuoto: scegli il file da allegare.",
    wrong_kind=(
        "Il file non è di un tipo che si può allegare: sono ammessi PDF, documenti DOCX o ODT, fogli di calcolo "
        "XLSX o ODS (senza macro) e immagini PNG o JPEG, riconosciuti dal contenuto e non dal nome del file."
    ),
    too_large_advice=(
        "Riducilo (ad esempio esportando il PDF con immagini compresse), oppure pubblicalo tra i documenti "
        "dell'incontro e metti il link nel testo."
    ),
    default_stem="allegato",
)

#: A file as the views hand it over: the name the browser sent and at most one byte more than the limit.
SentFile = tuple[str, bytes]


class AttachmentError(DomainError):
    """A file refused, or an attachment that cannot change now; `field` is the composer's file field."""


def size_label(size: int) -> str:
    """"1,2 MB" or "340 kB", as the pages and the refusals write a size."""
    if size >= MEGABYTE:
        return f"{size / MEGABYTE:.1f} MB".replace(".", ",")
    return f"{max(round(size / 1024), 1)} kB"


def _editable(announcement: Announcement) -> None:
    if announcement.status in (AnnouncementStatus.SENT, AnnouncementStatus.SENDING):
        raise AttachmentError("La comunicazione è già stata inviata: i suoi allegati non si possono cambiare.",
                              FIELD, code="closed")


def add_attachments(announcement: Announcement, files: Sequence[SentFile], actor: User | None, *,
                    max_bytes: int = DEFAULT_MAX_BYTES,
                    max_total: int = DEFAULT_MAX_TOTAL_BYTES) -> list[AnnouncementAttachment]:
    """Attach the files to a draft or a scheduled announcement, all or none: each is judged by its content
    (an executable renamed .pdf is refused, naming the file), and the announcement's files together stay within
    `max_total`. A file already attached (same content) is not attached twice."""
    if not files:
        return []
    _editable(announcement)
    present = list(announcement.attachments)
    known = {a.sha256 for a in present}
    added: list[AnnouncementAttachment] = []
    for filename, data in files:
        shown = (filename or "").replace("\\", "/").rsplit("/", 1)[-1][:80] or "senza nome"
        try:
            checked = accept_upload(filename, data, ATTACHMENT, max_bytes)
        except UploadError as error:
            raise AttachmentError(f"«{shown}»: {error.message}", FIELD, code=error.code) from None
        if checked.sha256 in known:
            continue
        known.add(checked.sha256)
        added.append(AnnouncementAttachment(
            filename=checked.filename, content_type=checked.content_type, size=checked.size,
            sha256=checked.sha256, data=checked.data, uploaded_by_id=actor.id if actor is not None else None))
    if len(present) + len(added) > MAX_FILES:
        raise AttachmentError(f"Si possono allegare al massimo {MAX_FILES} file a una comunicazione.", FIELD)
    total = sum(a.size for a in present) + sum(a.size for a in added)
    if total > max_total:
        raise AttachmentError(
            f"Gli allegati insieme pesano {size_label(total)}: il massimo per una comunicazione è "
            f"{size_label(max_total)}, perché ogni messaggio li porta tutti. Togline qualcuno o riducili.",
            FIELD, code="too_large")
    for attachment in added:
        announcement.attachments.append(attachment)
    db.session.flush()
    return added


def remove_attachments(announcement: Announcement, attachment_ids: Collection[int]) -> list[AnnouncementAttachment]:
    """Take files off a draft or a scheduled announcement (ids that are not its own are ignored: a file removed
    meanwhile in another tab); returns those removed."""
    removed = [a for a in announcement.attachments if a.id in set(attachment_ids)]
    if removed:
        _editable(announcement)
        for attachment in removed:
            announcement.attachments.remove(attachment)
        db.session.flush()
    return removed


def remove_attachment(announcement: Announcement, attachment_id: int | None) -> AnnouncementAttachment:
    """Take one file off a draft or a scheduled announcement; returns it (deleted, for its name)."""
    if not any(a.id == attachment_id for a in announcement.attachments):
        raise AttachmentError("Allegato non trovato.", FIELD, code="not_found")
    return remove_attachments(announcement, [attachment_id])[0]


def outbox_items(announcement: Announcement) -> list[dict]:
    """What each message of the announcement carries in `OutboxMessage.attachments`: its files, by name."""
    return [stored_attachment(STORE, a.id, a.filename, a.content_type, a.sha256) for a in announcement.attachments]


def copied_items(announcement: Announcement) -> list[dict]:
    """The files with their bytes, for a message that must not depend on the draft staying as it is (a test)."""
    return [{"filename": a.filename, "content_type": a.content_type,
             "data": base64.b64encode(a.data).decode("ascii")} for a in announcement.attachments]


def _load(ids: Collection[int]) -> Mapping[int, bytes]:
    """The bytes of the attachments the worker's batch names, in one query."""
    rows = db.session.execute(
        sa.select(AnnouncementAttachment.id, AnnouncementAttachment.data)
        .where(AnnouncementAttachment.id.in_(list(ids)))
    )
    return {attachment_id: data for attachment_id, data in rows}


register_attachment_store(STORE, _load)
