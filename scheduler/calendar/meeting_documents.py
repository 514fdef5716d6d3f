"""A meeting's documents: uploaded by staff, checked by their content, public or for the admitted entities.

Who reads a document is decided here, once, for the meeting's page and for the download alike.
"""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.audit.services import record
from scheduler.auth.models import Role, User
from scheduler.calendar.models import DocumentVisibility, Meeting, MeetingDocument
from scheduler.calendar.services import CalendarError, admitted_application
from scheduler.extensions import db
from scheduler.textutil import clean_line
from scheduler.uploads import JPEG, PDF, PNG, UploadRule, accept_upload

#: The largest document accepted, unless the app sets MEETING_DOCUMENT_MAX_BYTES.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
#: The most documents one meeting holds.
MAX_DOCUMENTS = 30

DOCUMENT = UploadRule(
    accepted=(PDF, PNG, JPEG),
    empty="Il file è vuoto: scegli il documento da pubblicare.",
    wrong_kind="Il file non è un PDF, un PNG o un JPEG: salva il documento in PDF e caricalo di nuovo.",
    too_large_advice="Riduci il file (ad esempio esportando il PDF con immagini compresse).",
    default_stem="documento",
)


def add_document(meeting: Meeting, title: str, filename: str, data: bytes, visibility: DocumentVisibility, *,
                 max_bytes: int = DEFAULT_MAX_BYTES, actor_id: int | None = None) -> MeetingDocument:
    """Store a document of the meeting; refused (next to the file field) if it is not what it says it is."""
    title = clean_line(title)[:200]
    if not title:
        raise CalendarError("Indica il titolo del documento.", "title")
    if len(meeting.documents) >= MAX_DOCUMENTS:
        raise CalendarError(f"L'incontro ha già {MAX_DOCUMENTS} documenti: togline qualcuno prima di aggiungerne.",
                            "document", code="conflict")
    checked = accept_upload(filename, data, DOCUMENT, max_bytes)
    document = MeetingDocument(meeting=meeting, title=title, visibility=visibility, filename=checked.filename,
                               content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
                               data=checked.data, uploaded_by_id=actor_id)
    db.session.add(document)
    db.session.flush()
    record("meeting.document_added", "meeting", meeting.id, actor_id=actor_id, call_id=meeting.track.call_id,
           document=document.id, title=title, visibility=visibility, sha256=checked.sha256)
    return document


def remove_document(document: MeetingDocument, *, actor_id: int | None = None) -> None:
    meeting = document.meeting
    record("meeting.document_removed", "meeting", meeting.id, actor_id=actor_id, call_id=meeting.track.call_id,
           document=document.id, title=document.title)
    db.session.delete(document)
    db.session.flush()


def reads_admitted_documents(meeting: Meeting, user: User | None) -> bool:
    """Staff and facilitators, and the entities admitted to the meeting's call, read the reserved documents."""
    if user is None or not user.is_authenticated:
        return False
    if user.role in (Role.STAFF, Role.FACILITATOR):
        return True
    return (user.role is Role.ENTITY and user.acting_for_id is not None
            and admitted_application(user.acting_for_id, meeting.track.call_id) is not None)


def documents_for(meeting: Meeting, user: User | None) -> list[MeetingDocument]:
    """The documents of the meeting this person may read (without their content)."""
    query = sa.select(MeetingDocument).where(MeetingDocument.meeting_id == meeting.id).order_by(MeetingDocument.id)
    if not reads_admitted_documents(meeting, user):
        query = query.where(MeetingDocument.visibility == DocumentVisibility.PUBLIC)
    return list(db.session.scalars(query))


def document_for(meeting: Meeting, document_id: int, user: User | None) -> MeetingDocument | None:
    """One document with its content, if it is the meeting's and this person may read it (else None: a 404)."""
    document = db.session.scalar(
        sa.select(MeetingDocument).where(MeetingDocument.id == document_id, MeetingDocument.meeting_id == meeting.id)
        .options(sa.orm.undefer(MeetingDocument.data))
    )
    if document is None:
        return None
    if document.visibility is DocumentVisibility.ADMITTED and not reads_admitted_documents(meeting, user):
        return None
    return document
