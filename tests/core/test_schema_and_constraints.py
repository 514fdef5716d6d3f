"""The database itself keeps the rules: migrations reach the models exactly; constraints hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calls.models import Track
from scheduler.extensions import db
from scheduler.registry.models import Application, LegalForm, Organization


def test_migrations_reach_the_models_exactly(ctx):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_sqlite_runs_with_foreign_keys_and_wal(ctx):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _organization(cf: str = "80012345678", name: str = "Associazione Esempio") -> Organization:
    return Organization(
        name=name, legal_form=LegalForm.APS, codice_fiscale=cf, register="RUNTS - APS",
        register_number="123", registered_office="Via Roma 1, Crema", email="info@example.org",
    )


def _meeting_of(track_id: int, **values) -> Meeting:
    start = datetime(2030, 1, 15, 8, 30, tzinfo=UTC)
    return Meeting(track_id=track_id, starts_at=values.pop("starts_at", start),
                   ends_at=values.pop("ends_at", start + timedelta(hours=3)), **values)


def test_codice_fiscale_is_unique(ctx):
    db.session.add(_organization())
    db.session.commit()
    db.session.add(_organization(name="Un altro nome"))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_one_rsvp_per_organization_per_meeting(ctx, crema):
    org = _organization()
    db.session.add(org)
    meeting = db.session.scalar(sa.select(Meeting).limit(1))
    db.session.add(Rsvp(meeting=meeting, organization=org, status=RsvpStatus.YES))
    db.session.commit()
    db.session.add(Rsvp(meeting_id=meeting.id, organization_id=org.id, status=RsvpStatus.NO))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_meeting_must_end_after_it_starts(ctx, crema):
    track_id = db.session.scalar(sa.select(Track.id).limit(1))
    start = datetime(2030, 1, 15, 8, 30, tzinfo=UTC)
    db.session.add(_meeting_of(track_id, starts_at=start, ends_at=start))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_capacity_must_be_positive(ctx, crema):
    track_id = db.session.scalar(sa.select(Track.id).limit(1))
    db.session.add(_meeting_of(track_id, capacity=0))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_foreign_keys_are_enforced(ctx):
    db.session.add(_meeting_of(track_id=999_999))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_enum_values_are_checked_by_the_database(ctx):
    db.session.add(_organization())
    db.session.commit()
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE organizations SET legal_form = 'spa'"))


def test_an_account_speaks_for_an_entity_once_and_loses_only_a_removed_entity(ctx):
    from scheduler.auth.models import organization_members

    first, second = _organization(), _organization("98765432109", "Seconda associazione")
    user = User(email="ente@example.org", role=Role.ENTITY, organizations=[first, second])
    db.session.add(user)
    db.session.commit()
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(organization_members.insert().values(user_id=user.id, organization_id=first.id,
                                                          created_at=sa.func.now()))
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM organizations WHERE id = :id"), {"id": first.id})
    db.session.expire_all()
    assert [o.name for o in db.session.get(User, user.id).organizations] == ["Seconda associazione"]


def test_late_application_cannot_join_drafting(ctx, crema):
    from scheduler.calls.models import Call

    org = _organization()
    db.session.add(org)
    call_id = db.session.scalar(sa.select(Call.id))
    db.session.add(Application(call_id=call_id, organization=org, late=True, wants_drafting=True))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Application(call_id=call_id, organization_id=org.id, wants_drafting=False,
                               wants_implementation=False))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_instants_come_back_timezone_aware_in_utc(ctx, crema):
    meeting = db.session.scalar(sa.select(Meeting).where(Meeting.key == "B1"))
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.starts_at.tzinfo is not None
    assert meeting.starts_at.utcoffset() == timedelta(0)
    # 14:30 in Rome on 7 May 2024 (CEST) is 12:30Z
    assert meeting.starts_at == datetime(2024, 5, 7, 12, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(ctx, crema):
    track_id = db.session.scalar(sa.select(Track.id).limit(1))
    db.session.add(Meeting(track_id=track_id, starts_at=datetime(2030, 1, 1, 9), ends_at=datetime(2030, 1, 1, 12)))
    with pytest.raises(sa.exc.StatementError):
        db.session.commit()
