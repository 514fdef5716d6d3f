"""Rules of the Accordo di Programma: writing it, choosing who is asked, opening it, adhering, reminding the
entities that have not adhered, annulling an adhesion; and what the pages read (in a fixed number of queries).

Nothing here reads the request or commits. Every change is recorded in the audit log, and the mail it decides
to send is written to the outbox (`notifications`), in the caller's transaction. An adhesion is a formal act:
the entity cannot withdraw it; staff annul it with a reason, and the entity may then adhere again before the
deadline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from scheduler.agreements import notifications
from scheduler.agreements.models import Agreement, AgreementAdhesion, AgreementInvitation, AgreementStatus
from scheduler.audit.services import changes, record
from scheduler.auth.models import User
from scheduler.calls.models import Call
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_instant, format_long_date
from scheduler.registry.models import Application, ApplicationStatus, Contact, ContactKind, Organization
from scheduler.textutil import clean_line, clean_multiline
from scheduler.timeutil import end_of_day, utcnow
from scheduler.uploads import PDF, CheckedFile, UploadError, UploadRule, accept_upload

TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
NAME_MAX = 200
ROLE_MAX = 120
REASON_MAX = 2_000
#: The largest PDF accepted (the Accordo's text, a signed adhesion), unless the app sets AGREEMENT_FILE_MAX_BYTES.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

#: The Accordo's text: a PDF.
DOCUMENT = UploadRule(
    accepted=(PDF,),
    empty="Il file è vuoto: scegli il PDF con il testo dell'Accordo.",
    wrong_kind="Il file non è un PDF: carica il testo dell'Accordo in formato PDF.",
    too_large_advice="Salvalo di nuovo in PDF con immagini a risoluzione più bassa.",
    default_stem="accordo-di-programma",
)
#: The adhesion signed by the legal representative (digitally, or on paper and scanned): a PDF.
SIGNED_COPY = UploadRule(
    accepted=(PDF,),
    empty="Il file è vuoto: scegli il PDF dell'adesione firmata.",
    wrong_kind="Il file non è un PDF: carica l'adesione firmata in formato PDF (firmata digitalmente o scansionata).",
    too_large_advice="Scansiona a risoluzione più bassa o in bianco e nero.",
    default_stem="adesione-firmata",
)


class AgreementError(DomainError):
    """A rule of the Accordo was broken; `field` names the form field."""


@dataclass
class AgreementData:
    """What staff typed: title, description, the last day for adhering, the entities asked (None: as they are)."""

    title: str
    description: str
    closes_on: date | None
    organization_ids: list[int] | None = None


#: A file as the browser sent it: its name and (at most one byte more than the limit of) its bytes.
SentFile = tuple[str, bytes]


def _checked(sent: SentFile, rule: UploadRule, max_bytes: int, field_name: str) -> CheckedFile:
    try:
        return accept_upload(sent[0], sent[1], rule, max_bytes)
    except UploadError as error:
        raise AgreementError(error.message, field_name, error.code) from error


# --- who can be asked ------------------------------------------------------------------------------------------


def admitted_organizations(call: Call) -> list[Organization]:
    """The entities admitted to the call (those asked by default), by name."""
    return list(db.session.scalars(
        sa.select(Organization).join(Application, Application.organization_id == Organization.id)
        .where(Application.call_id == call.id, Application.status == ApplicationStatus.ADMITTED,
               Organization.erased_at.is_(None))
        .order_by(Organization.sort_name, Organization.id)
    ))


def _asked(call: Call, organization_ids: list[int], already: set[int]) -> list[int]:
    """The ids chosen, each once, refused unless each is admitted to the call (or already asked)."""
    chosen = list(dict.fromkeys(organization_ids))
    if not chosen:
        raise AgreementError("Scegli almeno un ente a cui chiedere l'adesione.", "organizations")
    allowed = {o.id for o in admitted_organizations(call)} | already
    if not set(chosen) <= allowed:
        raise AgreementError("Uno degli enti scelti non è ammesso all'avviso.", "organizations")
    return chosen


def _closes_at(closes_on: date | None, current: datetime | None = None) -> datetime:
    if closes_on is None:
        raise AgreementError("Indica il termine per aderire.", "closes_on")
    closes_at = end_of_day(closes_on)
    if closes_at != current and closes_at <= utcnow():
        raise AgreementError("Il termine per aderire deve essere un giorno futuro.", "closes_on")
    return closes_at


def _texts(data: AgreementData) -> tuple[str, str]:
    title, description = clean_line(data.title), clean_multiline(data.description)
    if not title:
        raise AgreementError("Indica il titolo dell'Accordo.", "title")
    if len(title) > TITLE_MAX:
        raise AgreementError(f"Al massimo {TITLE_MAX} caratteri.", "title")
    if len(description) > DESCRIPTION_MAX:
        raise AgreementError(f"Al massimo {DESCRIPTION_MAX} caratteri.", "description")
    return title, description


def _set_document(agreement: Agreement, document: CheckedFile) -> None:
    agreement.document_filename = document.filename
    agreement.document_content_type = document.content_type
    agreement.document_size = document.size
    agreement.document_sha256 = document.sha256
    agreement.document_data = document.data


def _locked(agreement: Agreement) -> Agreement:
    """The agreement read again under a row lock (PostgreSQL), so two clicks do not open or remind it twice."""
    return db.session.scalars(
        sa.select(Agreement).where(Agreement.id == agreement.id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()


# --- staff: writing the Accordo ----------------------------------------------------------------------------------


def create_agreement(call: Call, data: AgreementData, document: SentFile | None, actor: User,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> Agreement:
    """A draft Accordo with its PDF and the entities asked; nobody is written to until it is opened."""
    title, description = _texts(data)
    closes_at = _closes_at(data.closes_on)
    chosen = _asked(call, data.organization_ids or [], set())
    if document is None:
        raise AgreementError("Carica il testo dell'Accordo (PDF).", "document")
    checked = _checked(document, DOCUMENT, max_bytes, "document")
    agreement = Agreement(call=call, title=title, description=description, closes_at=closes_at,
                          status=AgreementStatus.DRAFT, created_by=actor)
    _set_document(agreement, checked)
    agreement.invitations = [AgreementInvitation(organization_id=org_id) for org_id in chosen]
    db.session.add(agreement)
    db.session.flush()
    record("agreement.created", "agreement", agreement.id, actor_id=actor.id, call_id=call.id, title=title,
           closes_at=closes_at, document=checked.filename, document_sha256=checked.sha256, organizations=chosen)
    return agreement


def update_agreement(agreement: Agreement, data: AgreementData, document: SentFile | None, actor: User,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Change the Accordo. A draft changes in everything; once open, only its title, description and deadline
    (a longer deadline, typically): the entities were sent that document, and were asked already."""
    is_open = agreement.status is AgreementStatus.OPEN
    if is_open and (document is not None or data.organization_ids is not None):
        raise AgreementError("L'Accordo è aperto alle adesioni: il documento e gli enti non si cambiano più.",
                             code="closed")
    title, description = _texts(data)
    closes_at = _closes_at(data.closes_on, agreement.closes_at)
    before = {"title": agreement.title, "description": agreement.description, "closes_at": agreement.closes_at}
    agreement.title, agreement.description, agreement.closes_at = title, description, closes_at
    details: dict = {"changes": changes(before, {"title": title, "description": description,
                                                 "closes_at": closes_at})}
    if document is not None:
        checked = _checked(document, DOCUMENT, max_bytes, "document")
        details["document"] = [agreement.document_sha256, checked.sha256]
        _set_document(agreement, checked)
    if data.organization_ids is not None:
        current = {i.organization_id: i for i in agreement.invitations}
        chosen = _asked(agreement.call, data.organization_ids, set(current))
        added = [org_id for org_id in chosen if org_id not in current]
        removed = [org_id for org_id in current if org_id not in set(chosen)]
        for org_id in removed:
            agreement.invitations.remove(current[org_id])
        agreement.invitations.extend(AgreementInvitation(organization_id=org_id) for org_id in added)
        if added or removed:
            details.update(organizations_added=added, organizations_removed=removed)
    db.session.flush()
    if any(details.values()):
        record("agreement.updated", "agreement", agreement.id, actor_id=actor.id, call_id=agreement.call_id,
               **details)


def delete_draft(agreement: Agreement, actor: User) -> None:
    """A draft nobody was told of goes away; an open Accordo stays (its adhesions are formal acts)."""
    if agreement.status is not AgreementStatus.DRAFT:
        raise AgreementError("L'Accordo è già aperto alle adesioni: non si può eliminare.", code="closed")
    record("agreement.deleted", "agreement", agreement.id, actor_id=actor.id, call_id=agreement.call_id,
           title=agreement.title)
    db.session.delete(agreement)
    db.session.flush()


@dataclass(frozen=True)
class Sent:
    """How many entities a step wrote to, and how many messages it put in the outbox."""

    entities: int
    messages: int


def _with_contacts(agreement: Agreement, invitation_ids: list[int] | None = None) -> list[AgreementInvitation]:
    """The agreement's invitations with their entities and contacts (who to write to), in one go."""
    query = (sa.select(AgreementInvitation).where(AgreementInvitation.agreement_id == agreement.id)
             .options(selectinload(AgreementInvitation.organization).selectinload(Organization.contacts))
             .order_by(AgreementInvitation.id))
    if invitation_ids is not None:
        query = query.where(AgreementInvitation.id.in_(invitation_ids))
    return list(db.session.scalars(query))


def open_for_adhesion(agreement: Agreement, actor: User) -> Sent:
    """Open the Accordo: every asked entity is written to (the contact person and the legal representative,
    `registry.recipients`' DECISION rule) and may adhere from its reserved area until the deadline."""
    agreement = _locked(agreement)
    if agreement.status is not AgreementStatus.DRAFT:
        raise AgreementError("L'Accordo è già aperto alle adesioni.", code="closed")
    if agreement.is_closed():
        raise AgreementError("Il termine per aderire è già passato: cambialo prima di aprire l'Accordo.",
                             code="closed")
    invitations = _with_contacts(agreement)
    if not invitations:
        raise AgreementError("Nessun ente a cui chiedere l'adesione: scegli gli enti prima di aprire l'Accordo.",
                             code="closed")
    now = utcnow()
    agreement.status = AgreementStatus.OPEN
    agreement.opened_at = now
    agreement.opened_by = actor
    messages = 0
    for invitation in invitations:
        messages += notifications.asked_to_adhere(agreement, invitation)
        invitation.notified_at = now
    record("agreement.opened", "agreement", agreement.id, actor_id=actor.id, call_id=agreement.call_id,
           entities=len(invitations), messages=messages)
    return Sent(len(invitations), messages)


def _missing_ids(agreement: Agreement) -> list[int]:
    """The invitations without an adhesion in force."""
    in_force = sa.select(AgreementAdhesion.id).where(AgreementAdhesion.invitation_id == AgreementInvitation.id,
                                                    AgreementAdhesion.annulled_at.is_(None))
    return list(db.session.scalars(
        sa.select(AgreementInvitation.id).where(AgreementInvitation.agreement_id == agreement.id, ~in_force.exists())
    ))


def remind_missing(agreement: Agreement, actor: User) -> Sent:
    """Write again to the entities that have not adhered yet (only to them), and record when."""
    agreement = _locked(agreement)
    if agreement.status is not AgreementStatus.OPEN:
        raise AgreementError("L'Accordo non è ancora aperto alle adesioni.", code="closed")
    if agreement.is_closed():
        raise AgreementError("Il termine per aderire è scaduto: non si inviano più solleciti.", code="closed")
    missing = _missing_ids(agreement)
    if not missing:
        raise AgreementError("Tutti gli enti hanno già aderito: non c'è nessuno da sollecitare.", code="closed")
    now = utcnow()
    invitations = _with_contacts(agreement, missing)
    messages = 0
    for invitation in invitations:
        messages += notifications.reminder(agreement, invitation)
        invitation.reminded_at = now
        invitation.reminder_count += 1
    record("agreement.reminded", "agreement", agreement.id, actor_id=actor.id, call_id=agreement.call_id,
           organizations=[i.organization_id for i in invitations], messages=messages)
    return Sent(len(invitations), messages)


# --- the entity: adhering ----------------------------------------------------------------------------------------


def visible_invitation(agreement: Agreement, organization_id: int | None) -> AgreementInvitation | None:
    """The entity's invitation to an open Accordo (of any call, current or not), with its adhesions; None when
    the Accordo is not for it (a draft, or an entity not asked): the entity's pages then answer as for no
    Accordo at all."""
    if agreement.status is not AgreementStatus.OPEN or organization_id is None:
        return None
    return db.session.scalar(
        sa.select(AgreementInvitation)
        .where(AgreementInvitation.agreement_id == agreement.id, AgreementInvitation.organization_id == organization_id)
        .options(selectinload(AgreementInvitation.adhesions), selectinload(AgreementInvitation.organization)
                 .selectinload(Organization.contacts))
    )


def in_force(invitation: AgreementInvitation) -> AgreementAdhesion | None:
    return next((a for a in invitation.adhesions if a.annulled_at is None), None)


def legal_representative(organization: Organization) -> Contact | None:
    """The person the adhesion form is pre-filled with."""
    return next((c for c in organization.contacts if c.kind is ContactKind.LEGAL_REPRESENTATIVE), None)


def check_can_adhere(agreement: Agreement, invitation: AgreementInvitation) -> None:
    """Refuse when adhering is no longer possible: the deadline passed, or the entity adhered already."""
    if agreement.is_closed():
        raise AgreementError(
            f"Il termine per aderire è scaduto il {format_long_date(agreement.closes_on)}: l'adesione online non "
            f"è più possibile. Per informazioni scrivi a {agreement.call.office_email}.", code="closed")
    current = db.session.scalar(sa.select(AgreementAdhesion).where(
        AgreementAdhesion.invitation_id == invitation.id, AgreementAdhesion.annulled_at.is_(None)))
    if current is not None:
        raise AgreementError(f"L'ente ha già aderito a questo Accordo il {format_instant(current.adhered_at)}.",
                             code="conflict")


def adhere(agreement: Agreement, organization: Organization, user: User, *, signatory_name: str,
           signatory_role: str, declared: bool, signed_copy: SentFile | None = None,
           max_bytes: int = DEFAULT_MAX_BYTES) -> AgreementAdhesion:
    """The entity adheres: the legal representative as the person confirmed them, the date, the account, and
    the signed PDF when one was given. Once per entity (until staff annul it), before the deadline."""
    invitation = visible_invitation(agreement, organization.id)
    if invitation is None:
        raise AgreementError("Questo Accordo non è rivolto all'ente.", code="not_found")
    # the invitation locked (PostgreSQL): two people of the entity pressing at once give one adhesion
    db.session.scalars(sa.select(AgreementInvitation.id).where(AgreementInvitation.id == invitation.id)
                       .with_for_update()).one()
    check_can_adhere(agreement, invitation)
    name, role = clean_line(signatory_name), clean_line(signatory_role)
    if not name:
        raise AgreementError("Indica nome e cognome del legale rappresentante.", "signatory_name")
    if len(name) > NAME_MAX:
        raise AgreementError(f"Al massimo {NAME_MAX} caratteri.", "signatory_name")
    if not role:
        raise AgreementError("Indica il ruolo di chi firma (ad esempio Presidente).", "signatory_role")
    if len(role) > ROLE_MAX:
        raise AgreementError(f"Al massimo {ROLE_MAX} caratteri.", "signatory_role")
    if not declared:
        raise AgreementError("Per aderire conferma la dichiarazione.", "declaration")
    adhesion = AgreementAdhesion(invitation_id=invitation.id, user_id=user.id, signatory_name=name,
                                 signatory_role=role, adhered_at=utcnow())
    if signed_copy is not None:
        checked = _checked(signed_copy, SIGNED_COPY, max_bytes, "signed_copy")
        adhesion.signed_filename = checked.filename
        adhesion.signed_content_type = checked.content_type
        adhesion.signed_size = checked.size
        adhesion.signed_sha256 = checked.sha256
        adhesion.signed_data = checked.data
    try:
        with db.session.begin_nested():
            db.session.add(adhesion)
    except IntegrityError as error:  # another adhesion got there first (SQLite has no row lock)
        raise AgreementError("L'ente ha già aderito a questo Accordo.", code="conflict") from error
    db.session.expire(invitation, ["adhesions"])
    notifications.adhesion_receipt(agreement, invitation, adhesion)
    record("agreement.adhered", "agreement", agreement.id, actor_id=user.id, call_id=agreement.call_id,
           organization_id=organization.id, adhesion_id=adhesion.id, signed_copy_sha256=adhesion.signed_sha256)
    return adhesion


# --- staff: annulling an adhesion --------------------------------------------------------------------------------


def adhesion_of(agreement: Agreement, adhesion_id: int | None) -> AgreementAdhesion | None:
    """The adhesion if it belongs to this Accordo (a forged id of another Accordo is not found)."""
    if adhesion_id is None:
        return None
    return db.session.scalar(
        sa.select(AgreementAdhesion).join(AgreementInvitation)
        .where(AgreementAdhesion.id == adhesion_id, AgreementInvitation.agreement_id == agreement.id)
        .options(joinedload(AgreementAdhesion.invitation).joinedload(AgreementInvitation.organization),
                 joinedload(AgreementAdhesion.user))
    )


def annul(adhesion: AgreementAdhesion, actor: User, reason: str) -> None:
    """Staff annul an adhesion (a wrong signatory, a mistake), with the reason the entity is told; the row stays,
    and the entity may adhere again before the deadline."""
    if adhesion.annulled_at is not None:
        raise AgreementError("L'adesione è già stata annullata.", code="closed")
    reason = clean_multiline(reason)
    if not reason:
        raise AgreementError("Indica il motivo dell'annullamento: lo leggerà l'ente.", "reason")
    if len(reason) > REASON_MAX:
        raise AgreementError(f"Al massimo {REASON_MAX} caratteri.", "reason")
    adhesion.annulled_at = utcnow()
    adhesion.annulled_by = actor
    adhesion.annul_reason = reason
    db.session.flush()
    invitation = adhesion.invitation
    agreement = invitation.agreement
    notifications.adhesion_annulled(agreement, invitation, adhesion)
    record("agreement.adhesion_annulled", "agreement", agreement.id, actor_id=actor.id, call_id=agreement.call_id,
           organization_id=invitation.organization_id, adhesion_id=adhesion.id, reason=reason)


# --- what the pages read -----------------------------------------------------------------------------------------


@dataclass
class BoardRow:
    """One asked entity on the staff page and in the exports."""

    invitation: AgreementInvitation
    organization: Organization
    #: The adhesion in force, or None: the entity has not adhered (or its adhesion was annulled).
    adhesion: AgreementAdhesion | None
    annulled: list[AgreementAdhesion] = field(default_factory=list)


@dataclass
class Board:
    rows: list[BoardRow]

    @property
    def adhered(self) -> int:
        return sum(1 for r in self.rows if r.adhesion is not None)

    @property
    def missing(self) -> int:
        return len(self.rows) - self.adhered


def board(agreement: Agreement) -> Board:
    """Who was asked, who adhered and who did not, by name: two queries, however many entities."""
    invitations = list(db.session.scalars(
        sa.select(AgreementInvitation).join(AgreementInvitation.organization)
        .where(AgreementInvitation.agreement_id == agreement.id)
        .options(contains_eager(AgreementInvitation.organization))
        .order_by(Organization.sort_name, Organization.id)
    ))
    adhesions: dict[int, list[AgreementAdhesion]] = defaultdict(list)
    for adhesion in db.session.scalars(
        sa.select(AgreementAdhesion).join(AgreementInvitation)
        .where(AgreementInvitation.agreement_id == agreement.id)
        .options(joinedload(AgreementAdhesion.user), joinedload(AgreementAdhesion.annulled_by))
        .order_by(AgreementAdhesion.adhered_at, AgreementAdhesion.id)
    ):
        adhesions[adhesion.invitation_id].append(adhesion)
    rows = []
    for invitation in invitations:
        mine = adhesions.get(invitation.id, [])
        rows.append(BoardRow(invitation=invitation, organization=invitation.organization,
                             adhesion=next((a for a in mine if a.annulled_at is None), None),
                             annulled=[a for a in mine if a.annulled_at is not None]))
    return Board(rows)


@dataclass(frozen=True)
class Summary:
    agreement: Agreement
    asked: int
    adhered: int


def summaries(call: Call) -> list[Summary]:
    """The call's Accordi, newest first, each with how many entities were asked and adhered (two queries)."""
    agreements = list(db.session.scalars(
        sa.select(Agreement).where(Agreement.call_id == call.id).order_by(Agreement.created_at.desc(),
                                                                          Agreement.id.desc())
    ))
    counts = {}
    if agreements:
        counts = {agreement_id: (asked, adhered) for agreement_id, asked, adhered in db.session.execute(
            sa.select(AgreementInvitation.agreement_id, sa.func.count(AgreementInvitation.id),
                      sa.func.count(AgreementAdhesion.id))
            .outerjoin(AgreementAdhesion, sa.and_(AgreementAdhesion.invitation_id == AgreementInvitation.id,
                                                  AgreementAdhesion.annulled_at.is_(None)))
            .where(AgreementInvitation.agreement_id.in_([a.id for a in agreements]))
            .group_by(AgreementInvitation.agreement_id)
        )}
    return [Summary(a, *counts.get(a.id, (0, 0))) for a in agreements]


@dataclass(frozen=True)
class EntityAgreement:
    """An open Accordo the entity was asked to adhere to, as its reserved area shows it."""

    agreement: Agreement
    adhesion: AgreementAdhesion | None
    closed: bool

    @property
    def awaiting(self) -> bool:
        return self.adhesion is None and not self.closed


def for_entity(organization_id: int, call_id: int | None = None) -> list[EntityAgreement]:
    """The open Accordi the entity was asked to, of one call or (None) of every call, with their call; those
    awaiting its adhesion first (two queries)."""
    query = (
        sa.select(AgreementInvitation).join(AgreementInvitation.agreement).join(Agreement.call)
        .where(AgreementInvitation.organization_id == organization_id, Agreement.status == AgreementStatus.OPEN)
        .options(contains_eager(AgreementInvitation.agreement).contains_eager(Agreement.call),
                 selectinload(AgreementInvitation.adhesions))
        .order_by(Agreement.closes_at, Agreement.id)
    )
    if call_id is not None:
        query = query.where(Agreement.call_id == call_id)
    invitations = db.session.scalars(query)
    now = utcnow()
    found = [EntityAgreement(i.agreement, in_force(i), i.agreement.is_closed(now)) for i in invitations]
    return sorted(found, key=lambda e: not e.awaiting)
