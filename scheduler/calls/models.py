"""The Ambito (the tenant), its calls (avvisi) and what a call defines: comuni, thematic areas, tracks."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from scheduler.dbtypes import UTCDateTime, enum_column
from scheduler.extensions import db
from scheduler.timeutil import utcnow

if TYPE_CHECKING:
    from scheduler.auth.models import User
    from scheduler.calendar.models import Meeting, Venue


class Phase(enum.Enum):
    """The two phases of the avviso (art. 2): writing the plan, and the tavoli that implement it."""

    DRAFTING = "drafting"
    IMPLEMENTATION = "implementation"


class Ambito(db.Model):
    """An Ambito territoriale: the tenant. It owns its calls (and through them tables, meetings, applications),
    its staff and facilitators, and the settings its pages and mail speak with; entities are shared."""

    __tablename__ = "ambiti"
    __table_args__ = (
        # one Ambito at most answers the host names no Ambito claims (a single-Ambito installation: every host)
        sa.Index("uq_ambiti_default", "is_default", unique=True, postgresql_where=sa.text("is_default"),
                 sqlite_where=sa.text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short stable key, for the command line and the platform's pages (e.g. ``crema``).
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: E.g. "Ambito territoriale di Crema".
    name: Mapped[str] = mapped_column(sa.String(200))
    #: The lead municipality (ente capofila), e.g. "Comune di Crema".
    lead_municipality: Mapped[str] = mapped_column(sa.String(200))
    #: The lead municipality's code in the Indice dei domicili digitali della PA (indicepa.gov.it), e.g. "c_d142".
    ipa_code: Mapped[str] = mapped_column(sa.String(20), default="")
    office_name: Mapped[str] = mapped_column(sa.String(200))
    office_email: Mapped[str] = mapped_column(sa.String(254))
    #: The From of the Ambito's mail; empty: the installation's sender (MAIL_DEFAULT_SENDER).
    mail_sender: Mapped[str] = mapped_column(sa.String(254), default="")
    privacy_controller: Mapped[str] = mapped_column(sa.String(200), default="")
    privacy_dpo_name: Mapped[str] = mapped_column(sa.String(200), default="")
    privacy_dpo_email: Mapped[str] = mapped_column(sa.String(254), default="")
    #: The person responsible for the office (responsabile del procedimento), as the pages name them.
    responsible: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The header's small line above the site's name; empty: "<lead municipality> – ente capofila".
    heading: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The host name its pages answer on (lower case, no port), e.g. "tavoli.ambitocrema.it"; None: only as the
    #: default Ambito.
    host: Mapped[str | None] = mapped_column(sa.String(253), unique=True)
    #: Answers every host name no Ambito claims: a single-Ambito installation keeps its addresses.
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    calls: Mapped[list[Call]] = relationship(back_populates="ambito", order_by="Call.id")


class Call(db.Model):
    """One avviso di manifestazione di interesse; loaded from a TOML file, never hard-coded."""

    __tablename__ = "calls"
    __table_args__ = (
        # one call at most is the current one: the site's short addresses (/candidatura, /elenco...) show it
        sa.Index("uq_calls_current", "ambito_id", "is_current", unique=True,
                 postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The Ambito that issued the call: its pages, staff and everything under the call are that Ambito's.
    ambito_id: Mapped[int] = mapped_column(sa.ForeignKey("ambiti.id", ondelete="RESTRICT"), index=True)
    #: Stable key of the call file (e.g. ``crema-2025-2027``); reloading the file updates this row. Unique on the
    #: installation, so an address /avvisi/<slug> names one call whichever Ambito it is asked of.
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    #: The lead municipality (ente capofila), data controller for the call.
    lead_municipality: Mapped[str] = mapped_column(sa.String(200))
    plan_title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    #: Last day for applications that join the drafting phase (inclusive, local time).
    deadline: Mapped[date] = mapped_column(sa.Date)
    #: Late applications join only the implementation phase, from this day.
    late_implementation_from: Mapped[date] = mapped_column(sa.Date)
    late_rule: Mapped[str] = mapped_column(sa.Text)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Rome")
    privacy_controller: Mapped[str] = mapped_column(sa.String(200))
    privacy_dpo_name: Mapped[str] = mapped_column(sa.String(200))
    privacy_dpo_email: Mapped[str] = mapped_column(sa.String(254))
    #: The full art. 13 GDPR notice shown before an application is submitted.
    privacy_notice: Mapped[str] = mapped_column(sa.Text)
    procedure_manager: Mapped[str] = mapped_column(sa.String(300), default="")
    office_name: Mapped[str] = mapped_column(sa.String(200))
    office_email: Mapped[str] = mapped_column(sa.String(254))
    office_phone: Mapped[str | None] = mapped_column(sa.String(40))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    open_data_licence: Mapped[str] = mapped_column(sa.String(100), default="CC BY 4.0")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: The call of its Ambito the short addresses show (/candidatura, /elenco, /calendario), chosen by staff.
    is_current: Mapped[bool] = mapped_column(default=False)
    #: When staff moved the call to the archive: its pages stay, read only in spirit, listed as concluded.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ambito: Mapped[Ambito] = relationship(back_populates="calls")
    comuni: Mapped[list[Comune]] = relationship(
        back_populates="call", order_by="Comune.name", cascade="all, delete-orphan"
    )
    areas: Mapped[list[Area]] = relationship(
        back_populates="call", order_by="Area.code", cascade="all, delete-orphan"
    )
    tracks: Mapped[list[Track]] = relationship(
        back_populates="call", order_by="Track.position", cascade="all, delete-orphan"
    )
    venues: Mapped[list[Venue]] = relationship(back_populates="call", order_by="Venue.name")

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Comune(db.Model):
    """A municipality of the Ambito: entities must operate in at least one."""

    __tablename__ = "comuni"
    __table_args__ = (sa.UniqueConstraint("call_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))

    call: Mapped[Call] = relationship(back_populates="comuni")


class Area(db.Model):
    """A thematic area of the call (A Minori e Famiglia ... D Innovazione e giovani)."""

    __tablename__ = "areas"
    __table_args__ = (sa.UniqueConstraint("call_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    #: One capital letter, as the avviso numbers them.
    code: Mapped[str] = mapped_column(sa.String(4))
    #: Short name, e.g. "Fragilità".
    name: Mapped[str] = mapped_column(sa.String(120))
    #: Full name as in the avviso, e.g. "Fragilità (Anziani e Persone con disabilità)".
    full_name: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Last change: part of the validators of the calendar feeds.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call: Mapped[Call] = relationship(back_populates="areas")
    tracks: Mapped[list[Track]] = relationship(back_populates="area", order_by="Track.position")

    @property
    def label(self) -> str:
        return f"{self.code}) {self.full_name}"


#: The comuni an entity operates in. Kept with the comuni, since the call loader must know whether a comune it
#: would remove is still named by an entity; the registry maps it as `Organization.comuni`.
organization_comuni = sa.Table(
    "organization_comuni",
    db.metadata,
    sa.Column("organization_id", sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("comune_id", sa.ForeignKey("comuni.id", ondelete="CASCADE"), primary_key=True),
)


#: Every area a table serves, its main one (`Track.area`) included: the entities admitted to any of them may
#: take part, and the table is in each area's calendar.
track_areas = sa.Table(
    "track_areas",
    db.metadata,
    sa.Column("track_id", sa.ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("area_id", sa.ForeignKey("areas.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


def tracks_of_areas(area_ids: Any) -> sa.Select:
    """The ids of the tables serving any of these areas (a list, or a subquery of area ids): for `Track.id.in_`."""
    return sa.select(track_areas.c.track_id).where(track_areas.c.area_id.in_(area_ids))


track_facilitators = sa.Table(
    "track_facilitators",
    db.metadata,
    sa.Column("track_id", sa.ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Track(db.Model):
    """A percorso / tavolo tematico: the series of meetings of one area (or several) in one phase."""

    __tablename__ = "tracks"
    __table_args__ = (sa.UniqueConstraint("call_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    #: The table's main area: its badge, its place in lists. `areas` holds it with any other the table serves.
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    #: Key from the call file, stable across reloads.
    key: Mapped[str] = mapped_column(sa.String(60))
    name: Mapped[str] = mapped_column(sa.String(300))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, "phase"))
    #: The usual time slot, local time (the avviso: mornings 9:30-13:00, afternoons 14:30-18:00).
    slot_start: Mapped[time | None] = mapped_column(sa.Time)
    slot_end: Mapped[time | None] = mapped_column(sa.Time)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    #: Where its meetings are usually held: a new meeting of the track starts with this venue.
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id", ondelete="SET NULL"), index=True)
    #: When staff created or last edited the track in the app: reloading the call file no longer changes it.
    edited_in_app_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When staff closed the table: it keeps its history, takes no new meetings and leaves the upcoming list.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Last change: part of the validators of the calendar feeds.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call: Mapped[Call] = relationship(back_populates="tracks")
    area: Mapped[Area] = relationship(back_populates="tracks")
    areas: Mapped[list[Area]] = relationship(secondary=track_areas, order_by="Area.code")
    venue: Mapped[Venue | None] = relationship()
    meetings: Mapped[list[Meeting]] = relationship(back_populates="track", order_by="Meeting.starts_at")
    facilitators: Mapped[list[User]] = relationship(
        secondary=track_facilitators, back_populates="tracks", order_by="User.email"
    )

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def served_areas(self) -> list[Area]:
        """Every area the table serves, by code (its main one alone for a table not yet written)."""
        return self.areas or [self.area]

    @property
    def area_ids(self) -> set[int]:
        """Every area the table serves (its main one at least, also before `areas` is written)."""
        return {a.id for a in self.areas} | {self.area_id}

    def set_areas(self, areas: list[Area]) -> None:
        """Serve these areas; the first by code becomes the main one."""
        ordered = sorted(areas, key=lambda a: a.code)
        self.area = ordered[0]
        self.areas = ordered

    def next_meeting_number(self) -> int:
        """The number a new meeting of the track is given ("Incontro 4"): one more than the highest so far."""
        return max((m.number or 0 for m in self.meetings), default=0) + 1


@sa.event.listens_for(Session, "before_flush")
def _main_area_served(session: Session, _context: object, _instances: object) -> None:
    """A table always serves its main area: `track_areas` holds it whoever wrote the track (the call loader,
    staff, a test), so the rules can read that one table."""
    for track in [*session.new, *session.dirty]:
        if isinstance(track, Track) and track.area is not None and track.area not in track.areas:
            track.areas.append(track.area)
