"""The links in invitations and notices that answer one meeting for one entity, without signing in.

An e-mail sits in mailboxes, forwards and archives for weeks: the link it carries must not open the entity's
reserved area. It is signed, not stored (hundreds are written in one notice, and the same link keeps working
to change the answer), names one meeting, one entity and the address it was sent to, and works only while that
address is still one of the entity's own and answers to the meeting are open (`services.check_can_answer`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from scheduler.bounds import valid_id
from scheduler.calendar.models import Meeting
from scheduler.extensions import db
from scheduler.links import public_url
from scheduler.registry.models import Organization
from scheduler.registry.recipients import speaks_for

_SALT = "tavoli.answer-link.v1"
#: Signed tokens are about 80 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 300
ANSWER_PATH = "/incontri/{meeting_id}/risposta/{token}"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def answer_token(meeting: Meeting, organization: Organization, email: str) -> str:
    return _serializer().dumps([meeting.id, organization.id, email.strip().lower()])


def answer_url(meeting: Meeting, organization: Organization | None, email: str) -> str:
    """The entity's answer link for this meeting; without an entity, the meeting's public page (on the host of the
    meeting's Ambito)."""
    ambito = meeting.track.call.ambito
    if organization is None or organization.id is None:
        return public_url(f"/incontri/{meeting.id}", ambito)
    return public_url(ANSWER_PATH.format(meeting_id=meeting.id, token=answer_token(meeting, organization, email)),
                      ambito)


@dataclass(frozen=True)
class AnswerLink:
    """Who a valid link answers for."""

    organization: Organization
    email: str


def read_answer_token(meeting: Meeting, token: str) -> AnswerLink | None:
    """The entity and address of a link for this meeting, or None: altered, for another meeting, for an
    entity that was erased, or sent to an address that no longer speaks for the entity."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        meeting_id, organization_id, email = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    if meeting_id != meeting.id or not isinstance(organization_id, int) or not isinstance(email, str):
        return None
    organization = db.session.get(Organization, organization_id) if valid_id(organization_id) else None
    if organization is None or organization.erased_at is not None or not speaks_for(organization, email):
        return None
    return AnswerLink(organization, email)
