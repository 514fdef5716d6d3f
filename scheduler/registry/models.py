"""Third Sector entities, their contacts and their applications (manifestazioni di interesse)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from scheduler.auth.models import organization_members
from scheduler.calls.models import organization_comuni  # mapped here as Organization.comuni; exported too
from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.formatting import sort_key
from scheduler.timeutil import utcnow

if TYPE_CHECKING:
    from scheduler.auth.models import User
    from scheduler.calendar.models import Rsvp
    from scheduler.calls.models import Area, Call, Comune


class LegalForm(enum.Enum):
    """The forms of art. 4 c.1 D.Lgs. 117/2017 named by the avviso."""

    ODV = "odv"
    APS = "aps"
    PHILANTHROPIC = "ente_filantropico"
    SOCIAL_ENTERPRISE = "impresa_sociale"
    SOCIAL_COOPERATIVE = "cooperativa_sociale"
    NETWORK = "rete_associativa"
    MUTUAL_AID = "societa_mutuo_soccorso"
    RECOGNISED_ASSOCIATION = "associazione_riconosciuta"
    UNRECOGNISED_ASSOCIATION = "associazione_non_riconosciuta"
    FOUNDATION = "fondazione"
    OTHER = "altro_ente"


class ContactKind(enum.Enum):
    LEGAL_REPRESENTATIVE = "legal_representative"
    CONTACT = "contact"
    DELEGATE = "delegate"


class ApplicationStatus(enum.Enum):
    #: Waiting for the contact to confirm the e-mail address; staff do not see it yet.
    UNCONFIRMED = "unconfirmed"
    SUBMITTED = "submitted"
    NEEDS_INFO = "needs_info"
    ADMITTED = "admitted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


def _sort_name_default(context) -> str:
    """For rows inserted without the ORM (imports, the benchmark's data): the sort key of their name."""
    return sort_key(context.get_current_parameters().get("name") or "")


class Organization(db.Model):
    """An Ente del Terzo Settore."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    #: The name without accents and case (`formatting.sort_key`), kept with it: lists sort and page by it in
    #: the database, the same way on SQLite and PostgreSQL.
    sort_name: Mapped[str] = mapped_column(sa.String(300), default=_sort_name_default, index=True)
    legal_form: Mapped[LegalForm] = mapped_column(enum_column(LegalForm, "legal_form"))
    #: Codice fiscale of the entity (11 digits, or 16 characters), normalised upper case; one per entity.
    codice_fiscale: Mapped[str] = mapped_column(sa.String(16), unique=True)
    partita_iva: Mapped[str | None] = mapped_column(sa.String(11))
    #: RUNTS section, or the regional register / albo for cooperative sociali.
    register: Mapped[str] = mapped_column(sa.String(200))
    register_number: Mapped[str] = mapped_column(sa.String(60))
    registered_office: Mapped[str] = mapped_column(sa.String(300))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    #: Sample data made by `flask demo`: shown as such, never mixed with real entities unknowingly.
    is_sample: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Indexed: the public list reads the latest change of any entity to know whether it changed.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    #: Secret part of the entity's private calendar feed URL (/feed/<token>.ics); regenerating it revokes the old.
    feed_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: The entity asked for its data to be erased (GDPR art. 17); staff confirm.
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Personal data removed; what the law requires to keep (protocol, registers) stays.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What an admitted entity asked to change in what the public list shows ({"name", "legal_form",
    #: "website"}), waiting for staff: the list keeps the checked values until staff accept.
    pending_public: Mapped[dict[str, str | None] | None] = mapped_column(sa.JSON)

    comuni: Mapped[list[Comune]] = relationship(secondary=organization_comuni, order_by="Comune.name")
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", order_by="Contact.id"
    )
    applications: Mapped[list[Application]] = relationship(back_populates="organization")
    rsvps: Mapped[list[Rsvp]] = relationship(back_populates="organization")
    #: The accounts that speak for the entity (one may speak for others too).
    users: Mapped[list[User]] = relationship(secondary=organization_members, back_populates="organizations")

    @validates("name")
    def _keep_sort_name(self, key: str, name: str) -> str:
        self.sort_name = sort_key(name or "")
        return name


class Contact(db.Model):
    """A person who speaks for the entity: legal representative, contact person or area delegate."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ContactKind] = mapped_column(enum_column(ContactKind, "contact_kind"))
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(120), default="")
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    #: A delegate may speak for one area only.
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id", ondelete="SET NULL"))
    #: When a delegate opened the confirmation sent to the address: until then the address is not the
    #: entity's (it receives nothing, and the entity cannot set its mail preferences).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship(back_populates="contacts")
    area: Mapped[Area | None] = relationship()


class Application(db.Model):
    """A manifestazione di interesse of one entity for one call."""

    __tablename__ = "applications"
    __table_args__ = (
        sa.UniqueConstraint("call_id", "organization_id"),
        sa.CheckConstraint("wants_drafting OR wants_implementation", name="at_least_one_phase"),
        sa.CheckConstraint("NOT (late AND wants_drafting)", name="late_implementation_only"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    #: Protocol-style number given when the e-mail is confirmed, e.g. MI-2024-0007.
    protocol: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    wants_drafting: Mapped[bool] = mapped_column(default=False)
    wants_implementation: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Arrived after the deadline: joins only the implementation phase.
    late: Mapped[bool] = mapped_column(default=False)
    #: Received on paper and typed in by staff.
    on_paper: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus, "application_status"), default=ApplicationStatus.UNCONFIRMED, index=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it was rejected, or what information is asked for.
    reason: Mapped[str | None] = mapped_column(sa.Text)
    #: What an admitted entity asked to add, waiting for staff: {"areas": {code: competence}, "drafting": bool,
    #: "implementation": bool}. Meanwhile what was admitted stays admitted (list, answers, feeds).
    pending_scope: Mapped[dict | None] = mapped_column(sa.JSON)
    #: When it was asked: the review's first tab lists the applications with an addition to examine.
    pending_scope_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    call: Mapped[Call] = relationship()
    organization: Mapped[Organization] = relationship(back_populates="applications")
    reviewer: Mapped[User | None] = relationship()
    areas: Mapped[list[ApplicationArea]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )
    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationEvent.at"
    )


class ApplicationArea(db.Model):
    """An area an application asks for, with the entity's competence and experience in it."""

    __tablename__ = "application_areas"

    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("areas.id", ondelete="RESTRICT"), primary_key=True)
    competence: Mapped[str] = mapped_column(sa.Text, default="")

    application: Mapped[Application] = relationship(back_populates="areas")
    area: Mapped[Area] = relationship()


class ApplicationEvent(db.Model):
    """Who did what to an application and when: the review's audit trail."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    #: Indexed: the public list reads the latest event to know whether it changed.
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: submitted, confirmed, admitted, rejected, info_requested, info_given, updated, withdrawn...
    action: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    application: Mapped[Application] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class CallInvitation(db.Model):
    """Staff asked an entity admitted to an earlier call to confirm its participation in this one.

    The entity keeps its identity (codice fiscale), contacts and account; confirming writes its application to
    this call from the earlier one (its areas, competences and phases), which staff then review as any other.
    """

    __tablename__ = "call_invitations"
    __table_args__ = (sa.UniqueConstraint("call_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    #: The call the entity was admitted to, whose application is carried over.
    from_call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: The application the entity confirmed with; null while it has not answered.
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("applications.id", ondelete="SET NULL"))

    call: Mapped[Call] = relationship(foreign_keys=[call_id])
    from_call: Mapped[Call] = relationship(foreign_keys=[from_call_id])
    organization: Mapped[Organization] = relationship()
    application: Mapped[Application | None] = relationship()
