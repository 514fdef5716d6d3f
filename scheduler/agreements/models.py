"""The Accordo di Programma that approves the Piano di Zona, the entities asked to adhere, and their adhesions.

The avviso commits every participant to sign the *Adesione all'Accordo di Programma*: staff write the Accordo
(its text as a PDF, a deadline, the entities asked), open it, and each entity adheres online from its reserved
area. An adhesion is a formal act: the entity cannot withdraw it; staff can annul it with a reason, and the
annulled row is kept beside the new one the entity may then give.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.timeutil import ROME, utcnow

if TYPE_CHECKING:
    from scheduler.auth.models import User
    from scheduler.calls.models import Call
    from scheduler.registry.models import Organization


class AgreementStatus(enum.Enum):
    #: Being prepared: staff edit the text, the document and who is asked; entities do not see it.
    DRAFT = "draft"
    #: The asked entities were told and may adhere until the deadline (after it, adhesion is closed).
    OPEN = "open"


class Agreement(db.Model):
    """An Accordo di Programma of a call, with the PDF of its text."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[AgreementStatus] = mapped_column(
        enum_column(AgreementStatus, "agreement_status"), default=AgreementStatus.DRAFT
    )
    #: The last instant an entity may adhere: the end of the day staff chose, in Europe/Rome.
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The Accordo's text uploaded by staff: a PDF, checked by its content (`scheduler.uploads`).
    document_filename: Mapped[str] = mapped_column(sa.String(200))
    document_content_type: Mapped[str] = mapped_column(sa.String(60))
    document_size: Mapped[int] = mapped_column()
    document_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: The file's bytes: loaded only when it is downloaded.
    document_data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: When staff opened it for adhesion, and the asked entities were written to.
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    call: Mapped[Call] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    invitations: Mapped[list[AgreementInvitation]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", passive_deletes=True
    )

    def is_closed(self, now: datetime | None = None) -> bool:
        """Past the deadline: nobody adheres any more."""
        return (now or utcnow()) > self.closes_at

    @property
    def closes_on(self) -> date:
        """The last day for adhering, as staff chose it (Europe/Rome)."""
        return self.closes_at.astimezone(ROME).date()


class AgreementInvitation(db.Model):
    """An entity asked to adhere to an Accordo (by default every entity admitted to the call)."""

    __tablename__ = "agreement_invitations"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    #: When the request to adhere was written to the entity's addresses (the Accordo was opened).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When staff last reminded the entity that it has not adhered yet, and how many times they did.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_count: Mapped[int] = mapped_column(default=0)

    agreement: Mapped[Agreement] = relationship(back_populates="invitations")
    organization: Mapped[Organization] = relationship()
    adhesions: Mapped[list[AgreementAdhesion]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", passive_deletes=True,
        order_by="AgreementAdhesion.adhered_at",
    )


class AgreementAdhesion(db.Model):
    """An entity's adhesion: who signed for it (as confirmed by the person), when, from which account, and the
    signed PDF when one was uploaded. Annulled by staff, it stays as the record of what happened."""

    __tablename__ = "agreement_adhesions"
    __table_args__ = (
        # one adhesion in force per asked entity; annulled ones are kept beside it
        sa.Index("uq_agreement_adhesions_in_force", "invitation_id", unique=True,
                 sqlite_where=sa.text("annulled_at IS NULL"), postgresql_where=sa.text("annulled_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agreement_invitations.id", ondelete="CASCADE"), index=True
    )
    adhered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The signed-in account that adhered for the entity.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: The legal representative as the person confirmed them (pre-filled from the entity's data).
    signatory_name: Mapped[str] = mapped_column(sa.String(200))
    signatory_role: Mapped[str] = mapped_column(sa.String(120), default="")
    #: The signed adhesion, when the entity uploaded it: a PDF checked by its content; staff only download it.
    signed_filename: Mapped[str | None] = mapped_column(sa.String(200))
    signed_content_type: Mapped[str | None] = mapped_column(sa.String(60))
    signed_size: Mapped[int | None] = mapped_column()
    signed_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    signed_data: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    #: Set when staff annul the adhesion (a wrong signatory, a mistake): the entity may then adhere again.
    annulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    annulled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    annul_reason: Mapped[str] = mapped_column(sa.Text, default="")

    invitation: Mapped[AgreementInvitation] = relationship(back_populates="adhesions")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    annulled_by: Mapped[User | None] = relationship(foreign_keys=[annulled_by_id])

    @property
    def in_force(self) -> bool:
        return self.annulled_at is None

    @property
    def has_signed_copy(self) -> bool:
        return self.signed_sha256 is not None
