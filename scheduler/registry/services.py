"""Rules of the registry: applying, confirming, reviewing, editing, withdrawing, GDPR requests.

Functions take and return model objects, raise `RegistryError` for a broken rule, write the e-mails they
decide to send to the outbox, and leave the commit to the caller, so views and the CLI share them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scheduler.auth import services as auth_services
from scheduler.auth.models import Role, User
from scheduler.calls.models import Area, Call, Comune
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import N_
from scheduler.hooks import personal_data_erased, personal_data_requested, scope_reduced
from scheduler.mailing.models import MailBounce, MailOptOut
from scheduler.registry import notifications
from scheduler.registry.contacts import every_address, mail_preferences
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationEvent,
    ApplicationStatus,
    Contact,
    ContactKind,
    LegalForm,
    Organization,
)
from scheduler.registry.validation import check_codice_fiscale
from scheduler.textutil import clean_multiline
from scheduler.timeutil import ROME, end_of_day, iso, utcnow

log = logging.getLogger(__name__)


class RegistryError(DomainError):
    """A registry rule was broken; `field` names the form field the message belongs next to."""


class DuplicateOrganization(RegistryError):
    """The codice fiscale (or the address) is already another entity's."""

    default_code = "conflict"


class AwaitingConfirmation(DuplicateOrganization):
    """The codice fiscale is held by an application sent less than UNCONFIRMED_HOLD ago and not yet confirmed.

    Not a dead end: whoever sent it can correct the address from the confirmation page of the same browser
    (`correct_unconfirmed_address`), the office can correct it for them, and after `until` the codice fiscale is
    free again (`_release_if_unconfirmed`). The view, which knows the browser, says which applies."""

    def __init__(self, application: Application) -> None:
        super().__init__(
            "Una candidatura con questo codice fiscale attende la conferma dell'indirizzo e-mail: apri il "
            "collegamento che abbiamo inviato alla persona di riferimento. Se l'indirizzo era sbagliato, "
            "correggilo dalla pagina di conferma nel browser da cui hai inviato la candidatura, oppure chiedi "
            "all'Ufficio di Piano di correggerlo.",
            "codice_fiscale",
        )
        self.application = application
        #: When the codice fiscale is free again for a new application.
        self.until = application.submitted_at + UNCONFIRMED_HOLD


@dataclass
class ContactData:
    full_name: str
    role: str
    email: str
    phone: str | None = None


@dataclass
class ApplicationData:
    """What an application says, whoever typed it (the entity online, or staff from paper)."""

    name: str
    legal_form: LegalForm
    codice_fiscale: str
    register: str
    register_number: str
    registered_office: str
    comune_ids: list[int]
    legal_representative: ContactData
    contact: ContactData
    #: area code -> competence and experience in that area
    areas: dict[str, str]
    wants_drafting: bool
    wants_implementation: bool
    partita_iva: str | None = None
    website: str | None = None
    phone: str | None = None
    extra: dict = field(default_factory=dict)


#: What a concluded (archived) call answers to a new application; the views translate it.
CALL_CONCLUDED = N_("Questo avviso è concluso: non si accettano più candidature.")


def accepts_applications(call: Call) -> bool:
    """A call takes applications until staff archive it (its pages stay, read only)."""
    return not call.is_archived


def check_accepts_applications(call: Call) -> None:
    """Refuse an application to a concluded call (code `closed`)."""
    if not accepts_applications(call):
        raise RegistryError(CALL_CONCLUDED, code="closed")


def is_late(call: Call, at: datetime | None = None) -> bool:
    """After the deadline (end of its day, local time) applications join only the implementation phase."""
    return (at or utcnow()) > end_of_day(call.deadline)


def find_by_codice_fiscale(codice_fiscale: str) -> Organization | None:
    return db.session.scalar(sa.select(Organization).where(Organization.codice_fiscale == codice_fiscale))


def _log(application: Application, action: str, actor: User | None = None, note: str = "") -> None:
    application.events.append(ApplicationEvent(action=action, actor=actor, note=note, at=utcnow()))


def _comuni(call: Call, ids: list[int]) -> list[Comune]:
    comuni = list(db.session.scalars(sa.select(Comune).where(Comune.call_id == call.id, Comune.id.in_(ids))))
    if not comuni or len(comuni) != len(set(ids)):
        raise RegistryError("Scegli almeno uno dei comuni dell'Ambito.", "comuni")
    return sorted(comuni, key=lambda c: c.name)


def _areas(call: Call, chosen: dict[str, str]) -> list[ApplicationArea]:
    areas = {a.code: a for a in db.session.scalars(sa.select(Area).where(Area.call_id == call.id))}
    if not chosen:
        raise RegistryError("Scegli almeno un'area tematica.", "areas")
    unknown = set(chosen) - set(areas)
    if unknown:
        raise RegistryError("Area tematica sconosciuta.", "areas")
    return [ApplicationArea(area=areas[code], competence=text) for code, text in sorted(chosen.items())]


def _check_phases(call: Call, data: ApplicationData, late: bool) -> None:
    if not (data.wants_drafting or data.wants_implementation):
        raise RegistryError("Scegli almeno una fase.", "phases")
    if late and data.wants_drafting:
        raise RegistryError(
            "La scadenza per la fase di stesura è passata: le candidature presentate ora partecipano solo "
            "alla fase di attuazione.",
            "phases",
        )


#: An application nobody confirmed stops holding its codice fiscale and addresses after this long, so a stranger
#: who typed a real entity's (public) codice fiscale cannot keep the entity from applying.
UNCONFIRMED_HOLD = timedelta(hours=1)


def _release_if_unconfirmed(organization: Organization | None) -> bool:
    """Remove an entity whose only applications were never confirmed and are older than UNCONFIRMED_HOLD."""
    if organization is None or not organization.applications:
        return False
    if any(a.status is not ApplicationStatus.UNCONFIRMED or a.submitted_at > utcnow() - UNCONFIRMED_HOLD
           for a in organization.applications):
        return False
    log.info("unconfirmed application of organization %s released after %s", organization.id, UNCONFIRMED_HOLD)
    for application in list(organization.applications):
        db.session.delete(application)
    for user in list(organization.users):
        auth_services.leave_entity(user, organization, keep=False)
    db.session.delete(organization)
    db.session.flush()
    return True


#: The refusal of an address that signs in one of the office's staff or facilitators.
ADDRESS_TAKEN = "Questo indirizzo e-mail è di un operatore dell'Ufficio di Piano: indicane un altro."


def _entity_user(email: str, organization: Organization, full_name: str, field_name: str) -> User:
    """The sign-in account of a contact. An address that already speaks for another entity (one president of an
    ODV and of an APS) is the same account, now speaking for this entity too; a staff member's is refused."""
    email = email.strip().lower()
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=Role.ENTITY, organizations=[organization], full_name=full_name)
        db.session.add(user)
        return user
    if user.role is not Role.ENTITY:
        raise RegistryError(ADDRESS_TAKEN, field_name)
    auth_services.join_entity(user, organization)
    return user


def submit_application(
    call: Call, data: ApplicationData, *, on_paper: bool = False, actor: User | None = None,
    received_at: datetime | None = None,
) -> Application:
    """Record a new application. Online ones wait for the contact to confirm the e-mail address;
    paper ones typed in by staff go straight to review, dated (and judged late or not) by when the paper
    form was received. A concluded (archived) call takes none."""
    check_accepts_applications(call)
    codice_fiscale = check_codice_fiscale(data.codice_fiscale)
    existing = find_by_codice_fiscale(codice_fiscale)
    if _release_if_unconfirmed(existing):
        existing = None
    if existing is not None:
        unconfirmed = next((a for a in existing.applications if a.status is ApplicationStatus.UNCONFIRMED), None)
        if unconfirmed is not None:
            raise AwaitingConfirmation(unconfirmed)
        raise DuplicateOrganization(
            "Questo codice fiscale è già registrato: accedi all'area riservata con il collegamento via e-mail "
            "per aggiornare la candidatura esistente.",
            "codice_fiscale",
        )
    now = received_at or utcnow()
    late = is_late(call, now)
    _check_phases(call, data, late)
    organization = Organization(
        name=data.name, legal_form=data.legal_form, codice_fiscale=codice_fiscale, partita_iva=data.partita_iva,
        register=data.register, register_number=data.register_number, registered_office=data.registered_office,
        website=data.website, email=data.contact.email.lower(), phone=data.contact.phone or data.phone,
        comuni=_comuni(call, data.comune_ids),
    )
    organization.contacts = [
        Contact(kind=ContactKind.LEGAL_REPRESENTATIVE, full_name=data.legal_representative.full_name,
                role=data.legal_representative.role, email=data.legal_representative.email.lower(),
                phone=data.legal_representative.phone),
        Contact(kind=ContactKind.CONTACT, full_name=data.contact.full_name, role=data.contact.role,
                email=data.contact.email.lower(), phone=data.contact.phone),
    ]
    application = Application(
        call=call, organization=organization, wants_drafting=data.wants_drafting,
        wants_implementation=data.wants_implementation, submitted_at=now, late=late, on_paper=on_paper,
        status=ApplicationStatus.SUBMITTED if on_paper else ApplicationStatus.UNCONFIRMED,
        areas=_areas(call, data.areas),
    )
    db.session.add_all([organization, application])
    _log(application, "submitted", actor, "Registrata dal personale da un modulo cartaceo." if on_paper else "")
    contact_user = _entity_user(data.contact.email, organization, data.contact.full_name, "contact_email")
    if data.legal_representative.email.lower() != data.contact.email.lower():
        _entity_user(data.legal_representative.email, organization, data.legal_representative.full_name,
                     "legal_email")
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DuplicateOrganization(
            "Questo codice fiscale è già registrato: accedi all'area riservata per aggiornare la candidatura.",
            "codice_fiscale",
        ) from None
    if on_paper:
        assign_protocol(application)
        notifications.receipt(application)
    else:
        notifications.confirm_email(application, contact_user)
    return application


def assign_protocol(application: Application) -> str:
    """A protocol-style number, MI-<year>-<nnnn>, numbered within the year of confirmation."""
    if application.protocol:
        return application.protocol
    year = utcnow().astimezone(ROME).year
    prefix = f"MI-{year}-"
    for _attempt in range(5):
        last = db.session.scalar(
            sa.select(sa.func.max(Application.protocol)).where(Application.protocol.like(f"{prefix}%"))
        )
        number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
        application.protocol = f"{prefix}{number:04d}"
        try:
            with db.session.begin_nested():
                db.session.flush()
            return application.protocol
        except IntegrityError:  # taken by a simultaneous confirmation: take the next one
            application.protocol = None
    raise RegistryError("Non è stato possibile assegnare il numero di protocollo: riprova.")


def confirm_application(application: Application, actor: User | None = None) -> bool:
    """The contact opened the link: the application reaches staff, with a protocol and a receipt."""
    if application.status is not ApplicationStatus.UNCONFIRMED:
        return False
    application.status = ApplicationStatus.SUBMITTED
    application.email_confirmed_at = utcnow()
    assign_protocol(application)
    _log(application, "confirmed", actor)
    notifications.receipt(application)
    return True


# --- mistakes in the address an application was confirmed from ---------------------------------------------


def correct_unconfirmed_address(application: Application, email: str, actor: User | None = None) -> User:
    """Correct the contact person's address of an application nobody confirmed yet, and send the confirmation
    link again at once, to the corrected address. Returns the account the link was sent to.

    The links sent before stop working: the mistyped address's account is removed (the application was never
    confirmed, so nothing of the entity's hangs on it; a session opened with it ends), which frees that address
    for its real owner. The same address again only sends a new link. `actor` is the staff member who does it; None is
    the applicant, from the browser that sent the application. Only while every application of the entity is
    unconfirmed (code `closed` otherwise): a confirmed entity changes its contacts from its reserved area."""
    organization = application.organization
    if application.status is not ApplicationStatus.UNCONFIRMED or any(
            a.status is not ApplicationStatus.UNCONFIRMED for a in organization.applications):
        raise RegistryError("L'indirizzo di questa candidatura è già stato confermato: non si corregge più da qui.",
                            code="closed")
    try:
        address = auth_services.normalize_email(email or "")
    except auth_services.InvalidEmail:
        raise RegistryError("Indirizzo e-mail non valido.", "email") from None
    by_kind = {c.kind: c for c in organization.contacts}
    contact = by_kind.get(ContactKind.CONTACT)
    if contact is None:
        raise RegistryError("La candidatura non ha una persona di riferimento.", code="closed")
    old = contact.email.strip().lower()
    users = {u.email.lower(): u for u in organization.users}
    if address == old and old in users:
        user = users[old]
        auth_services.void_login_links(user)
        note = "Collegamento di conferma inviato di nuovo allo stesso indirizzo; il precedente non funziona più."
    else:
        user = _entity_user(address, organization, contact.full_name, "email")
        contact.email = address
        legal = by_kind.get(ContactKind.LEGAL_REPRESENTATIVE)
        if legal is not None and legal.email.strip().lower() == old:  # one address typed for both
            legal.email = address
        organization.email = address
        still = {c.email.strip().lower() for c in organization.contacts}
        for other in list(organization.users):
            if other.email.lower() not in still and other is not user:
                auth_services.leave_entity(other, organization, keep=False)
        note = ("Indirizzo della persona di riferimento corretto; inviato un nuovo collegamento di conferma, "
                "il precedente non funziona più.")
    try:
        db.session.flush()
    except IntegrityError:  # an account with this address was created at the same moment
        db.session.rollback()
        raise RegistryError("Questo indirizzo è stato appena registrato da un'altra richiesta: riprova tra "
                            "qualche istante.", "email", code="conflict") from None
    _log(application, "address_corrected", actor,
         note + (" Dalla pagina di conferma, nel browser che ha inviato la candidatura." if actor is None else ""))
    notifications.confirm_email(application, user)
    log.info("confirmation link of application %s sent again by %s", application.id,
             f"user {actor.id}" if actor is not None else "the applicant")
    return user


#: Providers whose addresses Italian applicants use most, and so mistype most (see `suggest_email`).
COMMON_MAIL_DOMAINS = (
    "gmail.com", "hotmail.it", "hotmail.com", "outlook.it", "outlook.com", "libero.it", "virgilio.it", "yahoo.it",
    "yahoo.com", "tiscali.it", "alice.it", "tim.it", "legalmail.it", "pec.it", "aruba.it", "icloud.com",
)
#: Real domains a letter or two away from one of COMMON_MAIL_DOMAINS: never taken for a mistake.
REAL_NEIGHBOUR_DOMAINS = frozenset({
    "tin.it", "live.it", "live.com", "mail.com", "email.it", "email.com", "gmx.it", "gmx.com", "me.com", "mac.com",
    "msn.com", "aol.com", "ymail.com", "googlemail.com", "inwind.it", "iol.it", "fastwebnet.it", "libera.it",
    "arubapec.it", "postecert.it", "cloud.com", "alice.com", "hotmail.fr", "outlook.fr", "yahoo.fr",
})


def _edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from a to b: gmial -> gmail is one."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        previous2, previous = previous, row
    return previous[-1]


def suggest_email(address: str | None) -> str | None:
    """The address with the domain it was probably meant to have (`mario@gmial.com` -> `mario@gmail.com`), or
    None when its domain is not a likely slip of one of COMMON_MAIL_DOMAINS.

    A slip is one edit away from a provider's domain (`gmial.com`, `libero.i`, `pec.i`), two for the longer
    names (`hotmial.con`), or a provider's name with a top-level domain it does not have (`gmail.it`); the names
    of three letters (tim, pec) only with a slip in the top-level domain. A warning only: the person may keep
    what they typed."""
    local, at, domain = (address or "").strip().rpartition("@")
    domain = domain.lower()
    if not at or not local or domain in COMMON_MAIL_DOMAINS or domain in REAL_NEIGHBOUR_DOMAINS:
        return None
    if domain.count(".") != 1 or len(domain) > 40:  # providers' domains are name.tld; a longer one is the entity's
        return None
    name, tld = domain.split(".")
    best: tuple[int, str] | None = None
    for candidate in COMMON_MAIL_DOMAINS:
        candidate_name = candidate.split(".")[0]
        if len(candidate_name) <= 3 and name != candidate_name:
            continue  # tim, pec: only the top-level domain can be a slip (time.it, pc.it are other sites)
        distance = _edit_distance(domain, candidate)
        if distance <= (2 if len(candidate_name) >= 6 else 1) and (best is None or distance < best[0]):
            best = (distance, candidate)
    if best is None:
        same_name = [c for c in COMMON_MAIL_DOMAINS if c.split(".")[0] == name]
        if len(same_name) == 1 and tld in ("it", "com", "net", "org", "eu"):
            best = (0, same_name[0])
    return f"{local}@{best[1]}" if best else None


# --- staff review -------------------------------------------------------------------------------------------

REVIEWABLE = (ApplicationStatus.SUBMITTED, ApplicationStatus.NEEDS_INFO, ApplicationStatus.REJECTED,
              ApplicationStatus.ADMITTED)


def _review(application: Application, staff: User, status: ApplicationStatus, reason: str | None) -> None:
    if application.status not in REVIEWABLE:
        raise RegistryError("Questa candidatura non può essere esaminata nel suo stato attuale.", code="closed")
    application.status = status
    application.reviewer = staff
    application.reviewed_at = utcnow()
    application.reason = reason


def admit(application: Application, staff: User) -> None:
    if application.status is ApplicationStatus.ADMITTED:
        raise RegistryError("La candidatura è già ammessa.", code="closed")
    _review(application, staff, ApplicationStatus.ADMITTED, None)
    _log(application, "admitted", staff)
    notifications.admitted(application)


def reject(application: Application, staff: User, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise RegistryError("Indica il motivo: sarà comunicato all'ente.", "reason")
    _review(application, staff, ApplicationStatus.REJECTED, reason)
    _log(application, "rejected", staff, reason)
    notifications.rejected(application)


def ask_for_information(application: Application, staff: User, message: str) -> None:
    message = (message or "").strip()
    if not message:
        raise RegistryError("Scrivi quali informazioni servono: il messaggio sarà inviato all'ente.", "message")
    _review(application, staff, ApplicationStatus.NEEDS_INFO, message)
    _log(application, "info_requested", staff, message)
    notifications.info_requested(application)


# --- the entity's own actions --------------------------------------------------------------------------------


def answer_information_request(application: Application, actor: User, answer: str) -> None:
    answer = (answer or "").strip()
    if application.status is not ApplicationStatus.NEEDS_INFO:
        raise RegistryError("Non ci sono richieste di integrazione aperte.", code="closed")
    if not answer:
        raise RegistryError("Scrivi la risposta.", "answer")
    application.status = ApplicationStatus.SUBMITTED
    _log(application, "info_given", actor, answer)


def update_application(application: Application, actor: User, data: ApplicationData) -> Updated:
    """The entity corrects its data. A change of areas or phases after admission goes back to review; a change
    of what the public list shows waits for staff."""
    if application.status in (ApplicationStatus.WITHDRAWN,) or application.organization.erased_at:
        raise RegistryError("La candidatura è ritirata: non si può modificare.", code="closed")
    call = application.call
    org = application.organization
    _check_phases(call, data, application.late)
    public_changed = _ask_public_change(application, data, actor)
    org.partita_iva = data.partita_iva
    org.register = data.register
    org.register_number = data.register_number
    org.registered_office = data.registered_office
    org.comuni = _comuni(call, data.comune_ids)
    by_kind = {c.kind: c for c in org.contacts}
    replaced: set[str] = set()
    for kind, values in ((ContactKind.LEGAL_REPRESENTATIVE, data.legal_representative),
                         (ContactKind.CONTACT, data.contact)):
        contact = by_kind.get(kind) or Contact(kind=kind, organization=org)
        contact.full_name, contact.role, contact.phone = values.full_name, values.role, values.phone
        if contact.email != values.email.lower():
            replaced.add(contact.email.strip().lower())
            contact.email = values.email.lower()
            _entity_user(values.email, org, values.full_name,
                         "contact_email" if kind is ContactKind.CONTACT else "legal_email")
    org.email = data.contact.email.lower()
    _retire_replaced(org, replaced)

    if application.status is ApplicationStatus.ADMITTED:
        return _amend(application, actor, data, public_changed)
    new_areas = _areas(call, data.areas)
    competences = {a.area.code: a for a in application.areas}
    application.areas = [competences.get(item.area.code, item) for item in new_areas]
    for item in application.areas:
        item.competence = data.areas[item.area.code]
    application.wants_drafting = data.wants_drafting
    application.wants_implementation = data.wants_implementation
    _log(application, "updated", actor)
    return Updated(public_waits=public_changed)


def _amend(application: Application, actor: User, data: ApplicationData, public_changed: bool) -> Updated:
    """An admitted entity changes its areas or phases: what it gives up goes at once (its answers to meetings
    it may no longer attend are withdrawn, through `scope_reduced`); what it adds waits for staff
    (`pending_scope`), while what was admitted stays admitted."""
    if not data.areas:
        raise RegistryError("Resta almeno un'area: per lasciarle tutte ritira la candidatura.", "areas")
    admitted = {a.area.code: a for a in application.areas}
    kept = [a for code, a in admitted.items() if code in data.areas]
    removed = sorted(set(admitted) - set(data.areas))
    drafting = application.wants_drafting and data.wants_drafting
    implementation = application.wants_implementation and data.wants_implementation
    # checked before anything changes: new areas or phases cannot wait with nothing admitted left
    if not kept:
        raise RegistryError("Resta almeno una delle aree per cui l'ente è ammesso: le aree nuove vengono "
                            "esaminate dall'Ufficio di Piano.", "areas")
    if not (drafting or implementation):
        raise RegistryError("Resta almeno una delle fasi per cui l'ente è ammesso.", "phases")
    dropped = [phase for phase, had, keeps in (("drafting", application.wants_drafting, drafting),
                                               ("implementation", application.wants_implementation, implementation))
               if had and not keeps]
    pending = {"areas": {code: data.areas[code] for code in data.areas if code not in admitted},
               "drafting": data.wants_drafting and not application.wants_drafting,
               "implementation": data.wants_implementation and not application.wants_implementation}
    asked = bool(pending["areas"]) or pending["drafting"] or pending["implementation"]
    for item in kept:
        item.competence = data.areas[item.area.code]
    application.areas = kept
    application.wants_drafting, application.wants_implementation = drafting, implementation
    if asked and pending != application.pending_scope:
        application.pending_scope = pending
        application.pending_scope_at = utcnow()
        _log(application, "amendment_requested", actor, describe_scope(application.call, pending))
    elif not asked and application.pending_scope:
        application.pending_scope, application.pending_scope_at = None, None
        _log(application, "amendment_withdrawn", actor)
    if removed or dropped:
        _log(application, "scope_reduced", actor, describe_scope(
            application.call, {"areas": dict.fromkeys(removed, ""), "drafting": "drafting" in dropped,
                               "implementation": "implementation" in dropped}))
        db.session.flush()
        scope_reduced.send(application)
    else:
        _log(application, "updated", actor)
    return Updated(amendment_waits=bool(application.pending_scope), reduced=bool(removed or dropped),
                   public_waits=public_changed)


def describe_scope(call: Call, scope: dict) -> str:
    """ "area D) Innovazione e giovani; fase di attuazione": areas and phases of an amendment, in words."""
    names = {a.code: a.label for a in call.areas}
    parts = [f"area {names.get(code, code)}" for code in sorted(scope.get("areas") or {})]
    if scope.get("drafting"):
        parts.append("fase di stesura")
    if scope.get("implementation"):
        parts.append("fase di attuazione")
    return "; ".join(parts)


def decide_amendment(application: Application, staff: User, accept: bool, reason: str = "") -> None:
    """Staff accept what an admitted entity asked to add (its areas and phases join what was admitted), or
    refuse it with a reason; the entity is told either way."""
    pending = application.pending_scope
    if not pending or application.status is not ApplicationStatus.ADMITTED:
        raise RegistryError("Non c'è una modifica da esaminare.", code="closed")
    reason = clean_multiline(reason or "")[:2000]
    if not accept and not reason:
        raise RegistryError("Indica il motivo: l'ente lo leggerà.", "reason")
    described = describe_scope(application.call, pending)
    if accept:
        have = {a.area.code for a in application.areas}
        areas = {a.code: a for a in application.call.areas}
        for code, competence in (pending.get("areas") or {}).items():
            if code in areas and code not in have:
                application.areas.append(ApplicationArea(area=areas[code], competence=competence or ""))
        application.wants_drafting = application.wants_drafting or bool(pending.get("drafting"))
        application.wants_implementation = application.wants_implementation or bool(pending.get("implementation"))
    application.pending_scope, application.pending_scope_at = None, None
    _log(application, "amendment_accepted" if accept else "amendment_refused", staff,
         described if accept else f"{described}. Motivo: {reason}")
    db.session.flush()
    notifications.amendment_decided(application, accepted=accept, described=described, reason=reason)


@dataclass(frozen=True)
class Updated:
    """What an entity's correction did beyond saving: an addition waiting for staff, areas or phases given up,
    or a public change waiting for staff."""

    amendment_waits: bool = False
    reduced: bool = False
    public_waits: bool = False


#: What the public list shows of an entity that the entity itself may ask to change.
PUBLIC_FIELDS = ("name", "legal_form", "website")


def _public_values(name: str, legal_form: LegalForm, website: str | None) -> dict[str, str | None]:
    return {"name": name, "legal_form": legal_form.value, "website": website or None}


def _ask_public_change(application: Application, data: ApplicationData, actor: User | None) -> bool:
    """Name, legal form and website as the public list shows them: changed at once while the entity is not on
    the list; once admitted, what differs waits for staff (`accept_public_change`), and the list keeps the
    checked values. Returns whether something now waits."""
    org = application.organization
    wanted = _public_values(data.name, data.legal_form, data.website)
    if application.status is not ApplicationStatus.ADMITTED:
        org.name, org.legal_form, org.website = data.name, data.legal_form, data.website
        org.pending_public = None
        return False
    current = _public_values(org.name, org.legal_form, org.website)
    pending = {key: value for key, value in wanted.items() if value != current[key]} or None
    if pending != org.pending_public:
        org.pending_public = pending
        if pending:
            _log(application, "public_change_requested", actor, _describe_public(pending))
    return pending is not None


def _describe_public(values: dict[str, str | None]) -> str:
    labels = {"name": "denominazione", "legal_form": "forma giuridica", "website": "sito web"}
    return "; ".join(f"{labels[key]}: {value or '(nessuno)'}" for key, value in values.items())


def accept_public_change(application: Application, staff: User) -> None:
    """Staff checked the entity's requested name, legal form or website: the public list shows them now."""
    org = application.organization
    if not org.pending_public:
        raise RegistryError("Non ci sono modifiche da verificare.", code="closed")
    pending = org.pending_public
    if "name" in pending:
        org.name = pending["name"] or org.name
    if "legal_form" in pending:
        org.legal_form = LegalForm(pending["legal_form"])
    if "website" in pending:
        org.website = pending["website"]
    org.pending_public = None
    _log(application, "public_change_accepted", staff, _describe_public(pending))


def refuse_public_change(application: Application, staff: User) -> None:
    """Staff did not accept the requested change: the public list keeps what it shows."""
    org = application.organization
    if not org.pending_public:
        raise RegistryError("Non ci sono modifiche da verificare.", code="closed")
    _log(application, "public_change_refused", staff, _describe_public(org.pending_public))
    org.pending_public = None


def _retire_replaced(organization: Organization, replaced: set[str]) -> None:
    """The accounts of addresses that are no longer any of the entity's stop working (their sessions and
    sign-in links too): a replaced contact person does not keep a way into the reserved area."""
    still = {(organization.email or "").lower(), *(c.email.lower() for c in organization.contacts if c.email)}
    for user in list(organization.users):
        if user.email.lower() in replaced and user.email.lower() not in still:
            auth_services.leave_entity(user, organization, keep=True)


def withdraw(application: Application, actor: User) -> None:
    if application.status is ApplicationStatus.WITHDRAWN:
        raise RegistryError("La candidatura è già ritirata.", code="closed")
    application.status = ApplicationStatus.WITHDRAWN
    _log(application, "withdrawn", actor)
    notifications.withdrawn(application)


def request_erasure(organization: Organization, actor: User) -> None:
    if organization.erasure_requested_at or organization.erased_at:
        raise RegistryError("La richiesta di cancellazione è già stata inviata.", code="closed")
    organization.erasure_requested_at = utcnow()
    for application in organization.applications:
        _log(application, "erasure_requested", actor)


#: What is kept after an erasure, and why (shown to the entity and to staff).
KEPT_AFTER_ERASURE = N_(
    "Si conservano la denominazione e il codice fiscale dell'ente, il numero di protocollo della candidatura "
    "e le presenze agli incontri, perché fanno parte degli atti del procedimento e dei registri delle presenze "
    "che l'Ufficio di Piano deve conservare (D.Lgs. 42/2004 e normativa sugli archivi pubblici). "
    "Sono cancellati i dati delle persone: contatti, account, nomi indicati nelle adesioni."
)


def confirm_erasure(organization: Organization, staff: User) -> None:
    """Remove the people's data; keep what the administration must keep (see KEPT_AFTER_ERASURE).

    The packages above the registry (answers in the calendar, names in the registers) scrub their own rows when
    `personal_data_erased` reaches them."""
    if organization.erased_at:
        raise RegistryError("I dati sono già stati cancellati.", code="closed")
    if organization.erasure_requested_at is None:
        raise RegistryError("L'ente non ha chiesto la cancellazione dei dati.", code="closed")
    # a person who also speaks for another entity keeps, for that one, their mail preferences and bounce record
    shared = {u.email.lower() for u in organization.users if len(u.organizations) > 1}
    addresses = [a for a in {a.lower() for a in every_address(organization) + [u.email for u in organization.users]}
                 if a not in shared]
    db.session.execute(sa.delete(MailOptOut).where(MailOptOut.email.in_(addresses)))
    db.session.execute(sa.delete(MailBounce).where(MailBounce.email.in_(addresses)))
    organization.contacts.clear()
    for user in list(organization.users):  # an account that speaks for other entities too stays theirs
        auth_services.leave_entity(user, organization, keep=False)
    personal_data_erased.send(organization)
    organization.email = ""
    organization.phone = None
    organization.erased_at = utcnow()
    for application in organization.applications:
        if application.status is not ApplicationStatus.WITHDRAWN:
            application.status = ApplicationStatus.WITHDRAWN
        _log(application, "erased", staff, KEPT_AFTER_ERASURE)


def export_data(organization: Organization) -> dict:
    """Everything held about the entity and its people (GDPR art. 15 and 20), as plain data.

    The packages above the registry add their sections (answers, attendance) through `personal_data_requested`,
    in the order of their names, so the export does not depend on which package was imported first."""
    data: dict[str, Any] = {
        "ente": {
            "denominazione": organization.name,
            "forma_giuridica": organization.legal_form.value,
            "codice_fiscale": organization.codice_fiscale,
            "partita_iva": organization.partita_iva,
            "registro": organization.register,
            "numero_iscrizione": organization.register_number,
            "sede_legale": organization.registered_office,
            "sito_web": organization.website,
            "email": organization.email,
            "telefono": organization.phone,
            "comuni": [c.name for c in organization.comuni],
            "creato_il": iso(organization.created_at),
        },
        "contatti": [
            {"tipo": c.kind.value, "nome": c.full_name, "ruolo": c.role, "email": c.email, "telefono": c.phone,
             "area": c.area.code if c.area else None}
            for c in organization.contacts
        ],
        "preferenze_email": {
            email: sorted(kinds) for email, kinds in mail_preferences(organization, every=True).items() if kinds
        },
        "account": [
            {"email": u.email, "nome": u.full_name, "creato_il": iso(u.created_at),
             "ultimo_accesso": iso(u.last_login_at)}
            for u in organization.users
        ],
        "candidature": [
            {
                "protocollo": a.protocol,
                "avviso": a.call.title,
                "stato": a.status.value,
                "aree": [{"codice": x.area.code, "competenze": x.competence} for x in a.areas],
                "fase_stesura": a.wants_drafting,
                "fase_attuazione": a.wants_implementation,
                "presentata_il": iso(a.submitted_at),
                "tardiva": a.late,
                "motivazione": a.reason,
                "storico": [{"data": iso(e.at), "azione": e.action, "nota": e.note} for e in a.events],
            }
            for a in organization.applications
        ],
    }
    sections = dict(section for _receiver, section in personal_data_requested.send(organization))
    data.update(sorted(sections.items()))
    return data
