"""Migration 0017 keeps who speaks for which entity: each entity account's organization becomes its first
membership, and back; the rows that point at the rebuilt users table stay. Run on a database of its own (a
SQLite file, or a PostgreSQL database beside the suite's)."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from scheduler import create_app, normalise_database_url
from scheduler.extensions import db
from tests.conftest import PROJECT_DIR, _ensure_postgres_database

MIGRATIONS = str(PROJECT_DIR / "migrations")


@pytest.fixture
def empty_database(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'migration.sqlite3'}"
    own = sa.engine.make_url(normalise_database_url(url))
    own = own.set(database=f"{own.database}_migration")
    rendered = own.render_as_string(hide_password=False)
    _ensure_postgres_database(rendered)
    engine = sa.create_engine(own)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return rendered


def test_entity_accounts_keep_their_entity_through_0017_and_back(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0016")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO organizations (id, name, sort_name, legal_form, codice_fiscale, register, "
                "register_number, registered_office, email, is_sample, created_at, updated_at) VALUES "
                "(7, 'ODV Esempio', 'odv esempio', 'odv', '91000000007', 'RUNTS', 'R-7', 'Via Roma 1', "
                "'odv@example.org', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(sa.text(
                "INSERT INTO users (id, email, full_name, role, organization_id, active, session_version, "
                "created_at) VALUES (3, 'presidente@example.org', 'Paola', 'entity', 7, true, 1, "
                "CURRENT_TIMESTAMP), (4, 'staff@example.org', 'Ufficio', 'staff', NULL, true, 1, "
                "CURRENT_TIMESTAMP)"))
            conn.execute(sa.text(
                "INSERT INTO login_tokens (id, user_id, token_hash, created_at, expires_at) VALUES "
                "(1, 3, 'abc', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text(
                "SELECT user_id, organization_id FROM organization_members")).all() == [(3, 7)]
            assert "organization_id" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
            # rebuilding the users table (SQLite) did not take the rows that point at it with it
            assert conn.execute(sa.text("SELECT user_id FROM login_tokens")).all() == [(3,)]
        downgrade(directory=MIGRATIONS, revision="0016")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, organization_id FROM users ORDER BY id")).all() == [
                (3, 7), (4, None)]
        db.engine.dispose()


def test_0018_keys_every_presence_and_counts_a_person_stored_twice_once(empty_database):
    from scheduler.calls.loader import load_call, parse_call_file
    from tests.conftest import CALL_FILE
    from tests.factories import make_entity, make_meeting

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        load_call(parse_call_file(CALL_FILE))
        db.session.commit()
    entity = make_entity(app, "ODV La Rondine")
    meeting = make_meeting(app, area="A", days_ahead=-1)
    with app.app_context():
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0017")  # the call, the entity and the meeting stay
        with db.engine.begin() as conn:
            for n, (org, guest, name, undone) in enumerate([
                (entity["organization"], None, "Mario Rossi", False),
                (entity["organization"], None, "mario  ROSSI", False),  # the same person, marked again
                (None, "Parrocchia San Giacomo", "Mario Rossi", False),  # another Mario Rossi, a guest
                (entity["organization"], None, "Mario Rossi", True),  # an undone mark stays undone
            ], start=1):
                conn.execute(sa.text(
                    "INSERT INTO attendances (id, meeting_id, organization_id, guest_organization, person_name, "
                    "person_role, needs_follow_up, method, checked_in_at, undone_at) VALUES (:id, :m, :o, :g, :n, "
                    "'', false, 'hand', :at, :undone)"),
                    {"id": n, "m": meeting, "o": org, "g": guest, "n": name,
                     "at": f"2026-01-0{n} 10:00:00+00:00", "undone": "2026-01-09 10:00:00+00:00" if undone else None})
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, person_key, undone_at IS NULL FROM attendances ORDER BY id")).all()
        db.engine.dispose()
    key = f"e{entity['organization']}|mario rossi"
    assert rows == [(1, key, True), (2, key, False), (3, "g|parrocchia san giacomo|mario rossi", True),
                    (4, key, False)]


def test_0020_moves_an_installation_into_its_first_ambito_with_its_addresses_unchanged(empty_database):
    from scheduler.calls.loader import load_call, parse_call_file
    from tests.conftest import CALL_FILE
    from tests.factories import make_entity, make_meeting

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        load_call(parse_call_file(CALL_FILE))
        db.session.commit()
    entity = make_entity(app, "ODV La Rondine")
    meeting = make_meeting(app, area="A", days_ahead=3)
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE organizations SET feed_token = 'tok-rondine' WHERE id = :id"),
                         {"id": entity["organization"]})
            conn.execute(sa.text(
                "INSERT INTO users (id, email, full_name, role, active, session_version, created_at, ambito_id) "
                "VALUES (90, 'ufficio@example.org', 'Ufficio', 'staff', true, 1, CURRENT_TIMESTAMP, NULL), "
                "(91, 'facilitatore@example.org', 'Fabio', 'facilitator', true, 1, CURRENT_TIMESTAMP, NULL)"))
            before = conn.execute(sa.text(
                "SELECT c.slug, c.is_current, m.uid FROM calls c JOIN tracks t ON t.call_id = c.id "
                "JOIN meetings m ON m.track_id = t.id WHERE m.id = :m"), {"m": meeting}).one()
        downgrade(directory=MIGRATIONS, revision="0019")  # today's schema: the Ambito a name on the call
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT ambito FROM calls")).scalars().all() == [
                "Ambito territoriale di Crema"]
            assert "ambiti" not in sa.inspect(conn).get_table_names()
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            ambiti = conn.execute(sa.text(
                "SELECT id, slug, name, lead_municipality, office_email, host, is_default FROM ambiti")).all()
            assert [row[1:] for row in ambiti] == [
                ("crema", "Ambito territoriale di Crema", "Comune di Crema", "udpcrema@comune.crema.cr.it",
                 None, True)]
            ambito_id = ambiti[0][0]
            assert conn.execute(sa.text("SELECT ambito_id FROM calls")).scalars().all() == [ambito_id]
            assert conn.execute(sa.text(
                "SELECT c.slug, c.is_current, m.uid FROM calls c JOIN tracks t ON t.call_id = c.id "
                "JOIN meetings m ON m.track_id = t.id WHERE m.id = :m"), {"m": meeting}).one() == before
            users = conn.execute(sa.text("SELECT role, ambito_id FROM users ORDER BY id")).all()
            assert sorted(users) == sorted([("entity", None), ("staff", ambito_id), ("facilitator", ambito_id)])
            assert conn.execute(sa.text("SELECT feed_token FROM organizations WHERE id = :id"),
                                {"id": entity["organization"]}).scalar() == "tok-rondine"
        db.engine.dispose()
    # the same addresses answer as before, on any host name: the default Ambito's
    client = app.test_client()
    assert client.get(f"/avvisi/{before[0]}").status_code == 200
    assert client.get("/feed/tok-rondine.ics").status_code == 200
    assert client.get(f"/incontri/{meeting}").status_code == 200
