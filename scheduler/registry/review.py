"""The staff's review queue: which applications, filtered how, loaded in a fixed number of queries.

Reading only: the decisions themselves (admit, reject, ask for information, erase) are in `services`. No request
globals here, so the CLI, the views and the benchmarks share the same queries.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from scheduler.auth.models import Role
from scheduler.calls.models import Area, Call
from scheduler.extensions import db
from scheduler.pagination import Page, clamp_page
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationEvent,
    ApplicationStatus,
    Contact,
    LegalForm,
    Organization,
    organization_comuni,
)

#: Every application that reached staff (unconfirmed ones wait for the entity's e-mail confirmation).
REACHED_STAFF: frozenset[ApplicationStatus] = frozenset(
    s for s in ApplicationStatus if s is not ApplicationStatus.UNCONFIRMED
)

#: The tab of every application that reached staff, whatever its status.
ALL_TAB = "tutte"
#: The status tabs of the queue, in the order staff work, as (value in the URL, statuses shown). Apart from
#: "tutte", each status is under exactly one tab, so each application is: "Da esaminare" is what waits for the
#: staff's decision (new, back with the information asked, or changed by an admitted entity); what waits for
#: the entity has its own tab, and so has each decision. Unconfirmed ones, which have not reached staff, come
#: last, after "tutte".
STATUS_TABS: tuple[tuple[str, frozenset[ApplicationStatus]], ...] = (
    ("", frozenset({ApplicationStatus.SUBMITTED})),
    (ApplicationStatus.NEEDS_INFO.value, frozenset({ApplicationStatus.NEEDS_INFO})),
    (ApplicationStatus.ADMITTED.value, frozenset({ApplicationStatus.ADMITTED})),
    (ApplicationStatus.REJECTED.value, frozenset({ApplicationStatus.REJECTED})),
    (ApplicationStatus.WITHDRAWN.value, frozenset({ApplicationStatus.WITHDRAWN})),
    (ALL_TAB, REACHED_STAFF),
    (ApplicationStatus.UNCONFIRMED.value, frozenset({ApplicationStatus.UNCONFIRMED})),
)
#: The default view of the queue: what waits for staff.
AWAITING_STAFF: frozenset[ApplicationStatus] = STATUS_TABS[0][1]

PER_PAGE = 50

#: The history of an application as staff read it.
EVENT_LABELS = {
    "submitted": _l("Presentata"),
    "confirmed": _l("Indirizzo e-mail confermato, protocollo assegnato"),
    "admitted": _l("Ammessa"),
    "rejected": _l("Non ammessa"),
    "info_requested": _l("Richiesta di integrazioni"),
    "info_given": _l("Integrazioni inviate dall'ente"),
    "updated": _l("Dati modificati dall'ente"),
    "withdrawn": _l("Ritirata"),
    "erasure_requested": _l("Cancellazione dei dati richiesta"),
    "erased": _l("Dati personali cancellati"),
    "public_change_requested": _l("Modifica dei dati pubblici chiesta dall'ente"),
    "public_change_accepted": _l("Modifica dei dati pubblici accettata"),
    "public_change_refused": _l("Modifica dei dati pubblici non accettata"),
    "contact_added": _l("Delegato aggiunto"),
    "contact_removed": _l("Delegato rimosso"),
    "contact_confirmed": _l("Delegato confermato"),
    "address_corrected": _l("Indirizzo e-mail corretto, collegamento di conferma inviato di nuovo"),
    "amendment_requested": _l("Modifica chiesta dall'ente (da esaminare)"),
    "amendment_withdrawn": _l("Modifica ritirata dall'ente"),
    "amendment_accepted": _l("Modifica accolta"),
    "amendment_refused": _l("Modifica non accolta"),
    "scope_reduced": _l("Aree o fasi tolte dall'ente"),
}


def event_label(action: str) -> str:
    """Unknown actions (added by a later feature) are shown as they are rather than hidden."""
    label = EVENT_LABELS.get(action)
    return str(label) if label else action


def event_actor(event: ApplicationEvent) -> str:
    """Who did it: the staff member's e-mail, or "ente" for the entity (also after its accounts are erased)."""
    actor = event.actor
    if actor is None:
        return str(_l("ente"))
    if actor.role is Role.ENTITY:
        return str(_l("ente (%(email)s)", email=actor.email))
    return actor.email


@dataclass
class ReviewQueue:
    """A page of applications plus the counts shown on the status tabs."""

    page: Page
    #: Applications per status under the other filters (area, comune, search...), so the tabs tell what a
    #: click on them would show.
    counts: dict[ApplicationStatus, int] = field(default_factory=dict)
    #: Erasure requests of the call still waiting for staff, whatever the filters.
    pending_erasures: int = 0
    #: Admitted applications with an addition to examine (listed under "Da esaminare" too).
    amendments: int = 0

    def count(self, statuses: Collection[ApplicationStatus]) -> int:
        extra = self.amendments if frozenset(statuses) == AWAITING_STAFF else 0
        return sum(self.counts.get(s, 0) for s in statuses) + extra


def _conditions(
    call: Call,
    *,
    area_code: str | None,
    comune_id: int | None,
    late: bool | None,
    legal_form: LegalForm | None,
    q: str | None,
    erasure_requested: bool,
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of the filters other than status (queries join Application to Organization)."""
    conditions: list[sa.ColumnElement[bool]] = [Application.call_id == call.id]
    if area_code:
        conditions.append(
            sa.exists().where(
                ApplicationArea.application_id == Application.id,
                ApplicationArea.area_id == Area.id,
                Area.code == area_code,
            )
        )
    if comune_id is not None:
        conditions.append(
            sa.exists().where(
                organization_comuni.c.organization_id == Organization.id,
                organization_comuni.c.comune_id == comune_id,
            )
        )
    if late is not None:
        conditions.append(Application.late == late)
    if legal_form is not None:
        conditions.append(Organization.legal_form == legal_form)
    if erasure_requested:
        conditions.append(Organization.erasure_requested_at.is_not(None))
        conditions.append(Organization.erased_at.is_(None))
    term = " ".join((q or "").split())
    if term:
        conditions.append(
            sa.or_(
                Organization.name.icontains(term, autoescape=True),
                Organization.codice_fiscale.icontains(term.replace(" ", ""), autoescape=True),
                Application.protocol.icontains(term, autoescape=True),
                Organization.email.icontains(term, autoescape=True),
                sa.exists().where(
                    Contact.organization_id == Organization.id,
                    Contact.email.icontains(term, autoescape=True),
                ),
            )
        )
    return conditions


def review_queue(
    call: Call,
    *,
    statuses: Collection[ApplicationStatus] = AWAITING_STAFF,
    area_code: str | None = None,
    comune_id: int | None = None,
    late: bool | None = None,
    legal_form: LegalForm | None = None,
    q: str | None = None,
    erasure_requested: bool = False,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ReviewQueue:
    """The applications staff work through, oldest first.

    Three or four queries whatever the number of applications (counts, pending erasures, the page with its
    organizations, then areas and comuni in one query each): the list must stay fast with hundreds of entities.
    A page past the end shows the last page rather than an error.
    """
    conditions = _conditions(
        call, area_code=area_code, comune_id=comune_id, late=late, legal_form=legal_form, q=q,
        erasure_requested=erasure_requested,
    )
    rows = db.session.execute(
        sa.select(Application.status, sa.func.count(), sa.func.count(Application.pending_scope_at))
        .join(Application.organization)
        .where(*conditions)
        .group_by(Application.status)
    ).all()
    counts = {status: 0 for status in ApplicationStatus}
    counts.update({status: number for status, number, _asked in rows})
    amendments = sum(asked for status, _number, asked in rows if status is ApplicationStatus.ADMITTED)
    pending_erasures = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Application)
        .join(Application.organization)
        .where(
            Application.call_id == call.id,
            Organization.erasure_requested_at.is_not(None),
            Organization.erased_at.is_(None),
        )
    ) or 0

    wanted = frozenset(statuses)
    # what waits for staff includes the additions admitted entities asked for
    with_amendments = wanted == AWAITING_STAFF and amendments > 0
    total = sum(counts[s] for s in wanted) + (amendments if with_amendments else 0)
    chosen = (sa.or_(Application.status.in_(wanted), sa.and_(Application.status == ApplicationStatus.ADMITTED,
                                                               Application.pending_scope_at.is_not(None)))
              if with_amendments else Application.status.in_(wanted))
    per_page = max(1, per_page)
    page = clamp_page(page, total, per_page)
    items: list[Application] = []
    if total and wanted:
        items = list(
            db.session.scalars(
                sa.select(Application)
                .join(Application.organization)
                .where(*conditions, chosen)
                .options(
                    contains_eager(Application.organization).selectinload(Organization.comuni),
                    selectinload(Application.areas).joinedload(ApplicationArea.area),
                )
                .order_by(Application.submitted_at, Application.id)
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
    return ReviewQueue(
        page=Page(items=items, page=page, per_page=per_page, total=total),
        counts=counts,
        pending_erasures=pending_erasures,
        amendments=amendments,
    )


def application_for_review(application_id: int) -> Application | None:
    """One application with everything its review page shows, in a handful of queries."""
    return db.session.scalar(
        sa.select(Application)
        .where(Application.id == application_id)
        .options(
            joinedload(Application.call),
            joinedload(Application.reviewer),
            joinedload(Application.organization).selectinload(Organization.contacts).joinedload(Contact.area),
            joinedload(Application.organization).selectinload(Organization.comuni),
            selectinload(Application.areas).joinedload(ApplicationArea.area),
            selectinload(Application.events).joinedload(ApplicationEvent.actor),
        )
    )
