"""A realistic dataset on a dedicated PostgreSQL database, so every figure in RESULTS.md can be reproduced.

`python -m bench.seed --entities 600` (re)creates the database, migrates it with `flask db upgrade`, loads the
real Crema call with `flask calls load`, then bulk-inserts through the app's models: entities with contacts,
comuni and applications, 4 tracks with 60 meetings, RSVPs with the calendar copies their invitations made,
attendance rows and sent mail. The default sizes are those of issue 8 (600 entities, 3,000 RSVPs, 10,000
attendance rows); other sizes scale RSVPs, attendance and mail with the number of entities, so pages are
compared on data of the same shape.

Rows are inserted with explicit ids in bulk (executemany) because going through the services would take
minutes at 6,000 entities; the sequences are moved past them at the end so the app keeps inserting normally.
Two meetings are reserved for the scripts: one future meeting with 300 confirmed answers and no venue (the
venue change and the venue notice) and one future meeting with 20 seats and no answers (the RSVP contention).

The rows are those the app itself would have written: every meeting has its number in the track (its place by
start, 1-based, the loader's meetings included), every confirmed answer its short check-in code (unique in the
meeting), and every confirmed or waiting answer a calendar copy for the address of the user who answered, at the
meeting's SEQUENCE, as migration 0006 fills them in for existing data. Changes of a meeting go to the copies
held, so without them a venue change would notify nobody. The staff account and the facilitators belong to the
call's Ambito, as `flask users create-staff` makes them.

`python -m bench.seed --national` fills `tavoli_bench_national` (`seed_national`): 600 Ambiti, each with its host
name and its own copy of the Crema call, and for each call the same `Seeder` rows (500 entities, 60 meetings,
2,500 answers, no attendance rows and no mail), numbered after those of the Ambiti before it: 300,000 entities,
36,000 meetings, 1.5 million answers, in about nine minutes on two cores.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import secrets
import subprocess
import sys
import time as timer
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql
from stdnum import luhn
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = Path(__file__).resolve().parent / "out"
CALL_FILE = ROOT / "scheduler" / "calls" / "crema-2025-2027.toml"
#: The PostgreSQL server that holds the bench databases (each recreated on every run).
SERVER = os.environ.get("BENCH_DATABASE_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432").rstrip("/")
ADMIN_URL = SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"

STAFF_EMAIL = "staff@bench.example.org"
STAFF_PASSWORD = "bench-staff-password-1"  # noqa: S105  (a throwaway account on a throwaway database)
#: Meetings per track beyond the three of the call file: past ones (with registers) and future ones.
EXTRA_PAST, EXTRA_FUTURE = 7, 5
VENUE_CHANGE_RSVPS = 300
#: The national dataset: every Ambito has the shape of the single-Ambito baseline `NATIONAL_BASELINE`.
NATIONAL_DATABASE, NATIONAL_BASELINE = "tavoli_bench_national", "tavoli_bench_500"
NATIONAL_AMBITI, NATIONAL_ENTITIES, NATIONAL_RSVPS = 600, 500, 2500
#: The Ambito measured (not the default one, which answers unknown host names).
NATIONAL_MEASURED = 300
CONTENTION_CAPACITY = 20

LEGAL_FORMS = ["odv", "aps", "cooperativa_sociale", "impresa_sociale", "fondazione", "associazione_riconosciuta",
               "associazione_non_riconosciuta", "rete_associativa", "ente_filantropico", "societa_mutuo_soccorso"]
PREFIXES = {"odv": "ODV", "aps": "APS", "cooperativa_sociale": "Cooperativa sociale",
            "impresa_sociale": "Impresa sociale", "fondazione": "Fondazione",
            "associazione_riconosciuta": "Associazione",
            "associazione_non_riconosciuta": "Associazione", "rete_associativa": "Rete",
            "ente_filantropico": "Ente filantropico", "societa_mutuo_soccorso": "Società di mutuo soccorso"}
WORDS = ["Il Ponte", "Girasole", "Arcobaleno", "Mani Aperte", "Filo d'Argento", "La Tenda", "Insieme", "Orizzonti",
         "Casa Comune", "Il Melograno", "San Martino", "Nuovi Passi", "La Rete", "Auser", "Il Seme", "Sentieri"]
FIRST_NAMES = ["Maria", "Luca", "Giulia", "Marco", "Francesca", "Paolo", "Chiara", "Andrea", "Elena", "Stefano",
               "Anna", "Giovanni", "Sara", "Davide", "Laura", "Matteo"]
SURNAMES = ["Rossi", "Bianchi", "Ferrari", "Bonetti", "Cremonesi", "Vailati", "Locatelli", "Barbieri", "Zanini",
            "Mariani", "Ogliari", "Tessadori", "Guerini", "Marazzi", "Fusar Poli", "Stabilini"]
VENUES = [
    ("Sala Alessandrini", "Via Matilde di Canossa 10", "Crema"),
    ("Sala riunioni dell'Ufficio di Piano", "Piazza Duomo 25", "Crema"),
    ("Sala civica", "Via Roma 1", "Pandino"),
    ("Biblioteca comunale", "Piazza Garibaldi 3", "Castelleone"),
    ("Centro sociale", "Via Dante 8", "Soncino"),
    ("Auditorium", "Via Marconi 12", "Rivolta d'Adda"),
]


@dataclass
class Manifest:
    """What the benchmark scripts need to know about a seeded database."""

    database_url: str
    entities: int
    meetings: int
    rsvps: int
    #: Calendar copies: one per confirmed or waiting answer.
    copies: int
    attendances: int
    outbox: int
    staff_email: str
    staff_password: str
    #: A future meeting of track A with VENUE_CHANGE_RSVPS confirmed answers and no venue yet.
    venue_change_meeting: int
    venue_change_rsvps: int
    #: The venue staff pick for it.
    venue_change_venue: int
    #: The future meetings of track A besides the two reserved ones, the fewest confirmed answers first, and
    #: their confirmed answers (the venue notice's statements are counted on the first at 60 entities).
    spare_meetings: list[int]
    spare_meeting_rsvps: list[int]
    #: A future meeting of track A with CONTENTION_CAPACITY seats and no answers.
    contention_meeting: int
    #: Entity users (admitted, area A, drafting) free to answer the contention meeting.
    contention_users: list[int]
    #: The private feed of the entity with the most confirmed answers.
    feed_token: str
    feed_meetings: int
    seconds: float
    #: The national dataset: the host name of the Ambito described here, and the totals of the database.
    host: str | None = None
    ambiti: int = 1
    totals: dict[str, int] | None = None


@functools.cache
def staff_password_hash() -> str:
    """One hash for every bench account: hashing is slow on purpose, and 600 Ambiti would pay it 600 times."""
    return generate_password_hash(STAFF_PASSWORD)


def codice_fiscale(n: int) -> str:
    """A valid 11-digit codice fiscale (check digit included), in a range no real entity uses."""
    base = f"7{n:06d}019"
    return base + luhn.calc_check_digit(base)


def database_url(name: str) -> str:
    return f"{SERVER}/{name}"


def recreate_database(name: str) -> None:
    """Drop and create the database: every run starts from the same empty schema."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flask(url: str, *args: str) -> None:
    """Run a `flask --app scheduler` command against the bench database, as an operator would."""
    env = {**os.environ, "DATABASE_URL": url, "TAVOLI_CONFIG": "development", "LOG_LEVEL": "WARNING"}
    done = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "scheduler", *args],  # noqa: S603
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"flask {' '.join(args)} failed with {done.returncode}")


class Seeder:
    """Builds rows as dicts with explicit ids and inserts them table by table."""

    def __init__(self, entities: int, rsvps: int, attendances: int, rng: random.Random, *, mail: bool = True,
                 staff_email: str = STAFF_EMAIL) -> None:
        self.n = entities
        self.target_rsvps = rsvps
        self.target_attendances = attendances
        self.rng = rng
        #: Whether to write the mail already sent (a receipt and an admission notice per entity).
        self.mail = mail
        self.staff_email = staff_email
        self.now = datetime.now(UTC).replace(microsecond=0)

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(SURNAMES)}"

    def run(self, url: str) -> Manifest:
        from scheduler import create_app
        from scheduler.extensions import db

        started = timer.perf_counter()
        app = create_app({"CONFIG_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            manifest = self.seed_call(db, url)
        manifest.seconds = round(timer.perf_counter() - started, 1)
        return manifest

    def _insert(self, db: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 5000):
            db.session.execute(sa.insert(table), rows[start:start + 5000])

    def _last_ids(self, db: Any, *tables: sa.Table) -> list[int]:
        """The largest id of each table: rows are added after those already there (other Ambiti's)."""
        return [db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))) for table in tables]

    def seed_call(self, db: Any, url: str, call_id: int | None = None) -> Manifest:
        """Fill call `call_id` (default: the one loaded last) with entities, meetings, answers...; the rows of
        other calls already in the database stay, and the new ones are numbered after them."""
        from scheduler import models as m
        from scheduler.calendar.services import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH

        rng, now = self.rng, self.now
        call = db.session.get(m.Call, call_id) if call_id is not None else db.session.scalar(
            sa.select(m.Call).order_by(m.Call.id.desc()))
        last_user, last_org, last_venue, last_rsvp, last_copy, last_attendance, last_mail = self._last_ids(
            db, m.User.__table__, m.Organization.__table__, m.Venue.__table__, m.Rsvp.__table__,
            m.CalendarCopy.__table__, m.Attendance.__table__, m.OutboxMessage.__table__)
        numbers = range(last_org + 1, last_org + self.n + 1)
        areas = {a.code: a.id for a in db.session.scalars(sa.select(m.Area).where(m.Area.call_id == call.id))}
        comuni = {c.name: c.id for c in db.session.scalars(sa.select(m.Comune).where(m.Comune.call_id == call.id))}
        tracks = {t.area_id: t for t in db.session.scalars(sa.select(m.Track).where(m.Track.call_id == call.id))}
        area_of_track = {t.id: t.area_id for t in tracks.values()}

        # staff and a facilitator per track
        password_hash = staff_password_hash()
        staff_id = last_user + 1
        users = [dict(id=staff_id, email=self.staff_email, full_name="Ufficio di Piano (bench)", role=m.Role.STAFF,
                      password_hash=password_hash, created_at=now, ambito_id=call.ambito_id)]
        for index in range(staff_id + 1, staff_id + len(tracks) + 1):
            users.append(dict(id=index, email=f"facilitatore{index}@bench.example.org", full_name=self.person(),
                              role=m.Role.FACILITATOR, password_hash=password_hash, created_at=now,
                              ambito_id=call.ambito_id))
        self._insert(db, m.User.__table__, users)
        self._insert(db, m.track_facilitators, [dict(track_id=t.id, user_id=i)
                                                for i, t in enumerate(tracks.values(), start=staff_id + 1)])
        next_user = last_user + len(users) + 1

        # entities, contacts, comuni, applications and their areas, entity users
        organizations, contacts, org_comuni, applications, app_areas, events, entity_users = [], [], [], [], [], [], []
        comune_ids = list(comuni.values())
        crema = comuni.get("Crema", comune_ids[0])
        eligible: dict[int, list[int]] = {area_id: [] for area_id in areas.values()}  # area -> admitted orgs
        user_of: dict[int, int] = {}
        statuses = [m.ApplicationStatus.ADMITTED] * 90 + [m.ApplicationStatus.SUBMITTED] * 5 + [
            m.ApplicationStatus.NEEDS_INFO] * 3 + [m.ApplicationStatus.REJECTED] * 2
        for i in numbers:
            form = rng.choice(LEGAL_FORMS)
            email = f"ente{i}@bench.example.org"
            submitted = datetime(2024, 4, 1, 8, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 31))
            organizations.append(dict(
                id=i, name=f"{PREFIXES[form]} {rng.choice(WORDS)} {i}", legal_form=form,
                codice_fiscale=codice_fiscale(i), register="RUNTS", register_number=f"B-{10000 + i}",
                registered_office=f"Via Roma {i % 90 + 1}, Crema", email=email, phone="0373 000000",
                website=f"https://ente{i}.example.org" if i % 3 == 0 else None, is_sample=False,
                created_at=submitted, updated_at=submitted, feed_token=secrets.token_urlsafe(24),
            ))
            contacts.append(dict(id=2 * i - 1, organization_id=i, kind=m.ContactKind.LEGAL_REPRESENTATIVE,
                                 full_name=self.person(), role="Presidente", email=f"legale{i}@bench.example.org"))
            contacts.append(dict(id=2 * i, organization_id=i, kind=m.ContactKind.CONTACT, full_name=self.person(),
                                 role="Referente", email=email))
            chosen = {crema} if i % 4 == 0 else set()
            chosen.update(rng.sample(comune_ids, rng.randint(1, 3)))
            org_comuni.extend(dict(organization_id=i, comune_id=c) for c in chosen)
            status = rng.choice(statuses)
            # about 70% of the entities work in area A, so track A has enough of them for the 300-answer meeting
            codes = {"A"} if rng.random() < 0.7 else set()
            codes.update(rng.sample(sorted(areas), rng.randint(1, 2)))
            admitted = status is m.ApplicationStatus.ADMITTED
            applications.append(dict(
                id=i, call_id=call.id, organization_id=i, protocol=f"MI-2024-{i:05d}", wants_drafting=True,
                wants_implementation=rng.random() < 0.6, submitted_at=submitted, email_confirmed_at=submitted,
                late=False, on_paper=i % 25 == 0, status=status,
                reviewer_id=staff_id if status is not m.ApplicationStatus.SUBMITTED else None,
                reviewed_at=submitted + timedelta(days=3) if status is not m.ApplicationStatus.SUBMITTED else None,
                reason="Manca la visura del registro." if status is m.ApplicationStatus.NEEDS_INFO else None,
            ))
            app_areas.extend(dict(application_id=i, area_id=areas[c], competence="Servizi e progetti nel territorio.")
                             for c in sorted(codes))
            events.append(dict(id=2 * i - 1, application_id=i, at=submitted, actor_id=None, action="submitted",
                               note=""))
            if status is not m.ApplicationStatus.SUBMITTED:
                events.append(dict(id=2 * i, application_id=i, at=submitted + timedelta(days=3), actor_id=staff_id,
                                   action=status.value, note=""))
            user_of[i] = next_user
            entity_users.append(dict(id=next_user, email=email, full_name=self.person(), role=m.Role.ENTITY,
                                     organization_id=i, created_at=submitted))
            next_user += 1
            if admitted:
                for c in codes:
                    eligible[areas[c]].append(i)
        for table, rows in ((m.Organization.__table__, organizations), (m.Contact.__table__, contacts),
                            (m.organization_comuni, org_comuni), (m.Application.__table__, applications),
                            (m.ApplicationArea.__table__, app_areas), (m.ApplicationEvent.__table__, events),
                            (m.User.__table__, entity_users)):
            self._insert(db, table, rows)

        # venues and the 48 meetings beyond the call's 12 (past ones weekly since September 2024, future ones
        # from next week), so 60 in all
        venues = [dict(id=last_venue + i, call_id=call.id, name=name, address=f"{address}, {comune}",
                       comune_id=comuni.get(comune),
                       accessibility_notes="Accesso senza barriere; servizi igienici accessibili.", capacity=None)
                  for i, (name, address, comune) in enumerate(VENUES, start=1)]
        self._insert(db, m.Venue.__table__, venues)
        existing = list(db.session.scalars(sa.select(m.Meeting).join(m.Track).where(m.Track.call_id == call.id)))
        for meeting in existing:
            meeting.venue_id = rng.choice(venues)["id"]
            meeting.register_closed_at = meeting.ends_at + timedelta(hours=1)
        next_meeting = max(mt.id for mt in existing) + 1
        meetings: list[dict[str, Any]] = []
        for t_index, track in enumerate(tracks.values()):
            slot_start, slot_end = track.slot_start or time(9, 30), track.slot_end or time(13, 0)
            days = [date(2024, 9, 2) + timedelta(weeks=8 * k, days=t_index) for k in range(EXTRA_PAST)]
            days += [(now + timedelta(days=7 + 14 * k + t_index)).date() for k in range(EXTRA_FUTURE)]
            for k, day in enumerate(days):
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                starts = datetime.combine(day, slot_start, tzinfo=_rome()).astimezone(UTC)
                ends = datetime.combine(day, slot_end, tzinfo=_rome()).astimezone(UTC)
                past = ends < now
                meetings.append(dict(
                    id=next_meeting, track_id=track.id, key=f"bench-{k + 1}", title=None, number=None, starts_at=starts,
                    ends_at=ends, venue_id=rng.choice(venues)["id"], status=m.MeetingStatus.SCHEDULED,
                    uid=f"bench-{next_meeting}@tavoli", sequence=0, capacity=None, notes="",
                    register_closed_at=ends + timedelta(hours=1) if past else None, register_closed_by_id=None,
                    register_notes="", created_at=now - timedelta(days=400), updated_at=now - timedelta(days=30),
                ))
                next_meeting += 1
        track_a = tracks[areas["A"]].id
        future_a = [mt for mt in meetings if mt["track_id"] == track_a and mt["starts_at"] > now]
        venue_change, contention = future_a[0], future_a[1]
        venue_change["venue_id"] = None
        contention["capacity"] = CONTENTION_CAPACITY
        # "Incontro 3": each meeting's place in its track by start, the call file's meetings included
        timeline = sorted([(mt.track_id, mt.starts_at, mt.id, mt) for mt in existing]
                          + [(mt["track_id"], mt["starts_at"], mt["id"], mt) for mt in meetings],
                          key=lambda item: item[:3])
        position: dict[int, int] = {}
        for track_id, _, _, meeting in timeline:
            position[track_id] = position.get(track_id, 0) + 1
            if isinstance(meeting, dict):
                meeting["number"] = position[track_id]
            else:
                meeting.number = position[track_id]
        self._insert(db, m.Meeting.__table__, meetings)
        db.session.flush()
        all_meetings = [dict(id=mt.id, track_id=mt.track_id, starts_at=mt.starts_at, ends_at=mt.ends_at,
                             sequence=mt.sequence) for mt in existing] + meetings

        # answers: 300 confirmed on the venue-change meeting, none on the contention one, the rest spread
        rsvps: list[dict[str, Any]] = []
        answered: dict[int, list[dict[str, Any]]] = {}
        short_codes: dict[int, set[str]] = {}

        def short_code(meeting_id: int) -> str:
            """As the app gives a confirmed seat: unique in the meeting (drawn with `secrets`, like the check-in
            code, so `rng` and with it the rest of the dataset are as they were before these codes)."""
            taken = short_codes.setdefault(meeting_id, set())
            code = None
            while code is None or code in taken:
                code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
            taken.add(code)
            return code

        def answer(meeting: dict[str, Any], org: int, status: m.RsvpStatus) -> None:
            people = [{"name": self.person(), "role": "Referente"} for _ in range(rng.randint(1, 2))]
            confirmed = status is m.RsvpStatus.YES
            row = dict(id=last_rsvp + len(rsvps) + 1, meeting_id=meeting["id"], organization_id=org, status=status,
                       people=people if status is not m.RsvpStatus.NO else [],
                       seats=len(people) if status is not m.RsvpStatus.NO else 0,
                       answered_at=meeting["ends_at"] - timedelta(days=rng.randint(3, 20)),
                       answered_by_id=user_of[org],
                       checkin_code=secrets.token_urlsafe(18) if confirmed else None,
                       short_code=short_code(meeting["id"]) if confirmed else None, reminded_at=None,
                       updated_at=now - timedelta(days=rng.randint(1, 30)))
            rsvps.append(row)
            answered.setdefault(meeting["id"], []).append(row)

        a_pool = eligible[areas["A"]]
        for org in a_pool[:VENUE_CHANGE_RSVPS]:
            answer(venue_change, org, m.RsvpStatus.YES)
        spread = [mt for mt in all_meetings if mt["id"] not in (venue_change["id"], contention["id"])]
        remaining = max(self.target_rsvps - len(rsvps), 0)
        for index, meeting in enumerate(spread):
            share = remaining // len(spread) + (1 if index < remaining % len(spread) else 0)
            pool = eligible[area_of_track[meeting["track_id"]]]
            for org in rng.sample(pool, min(share, len(pool))):
                answer(meeting, org, m.RsvpStatus.NO if rng.random() < 0.12 else m.RsvpStatus.YES)
        self._insert(db, m.Rsvp.__table__, rsvps)

        # the calendar copies the invitations of those answers made: the address of the user who answered (lower
        # case), at the meeting's SEQUENCE, as migration 0006 records them for existing answers
        sequence_of = {mt["id"]: mt["sequence"] for mt in all_meetings}
        account = {u["id"]: u for u in entity_users}
        org_name = {o["id"]: o["name"] for o in organizations}
        copies = []
        for row in rsvps:
            if row["status"] not in (m.RsvpStatus.YES, m.RsvpStatus.WAITLIST):
                continue
            user, org = account[row["answered_by_id"]], row["organization_id"]
            copies.append(dict(id=last_copy + len(copies) + 1, meeting_id=row["meeting_id"], organization_id=org,
                               email=user["email"].strip().lower(), name=user["full_name"] or org_name[org],
                               sequence=sequence_of[row["meeting_id"]], held=True, created_at=row["updated_at"],
                               updated_at=row["updated_at"]))
        self._insert(db, m.CalendarCopy.__table__, copies)

        # attendance of the past meetings: the people of confirmed answers, then walk-ins and guests
        past = [mt for mt in all_meetings if mt["ends_at"] < now]
        attendances: list[dict[str, Any]] = []
        for index, meeting in enumerate(past):
            share = self.target_attendances // len(past) + (
                1 if index < self.target_attendances % len(past) else 0)
            rows: list[dict[str, Any]] = []
            for rsvp in answered.get(meeting["id"], []):
                if rsvp["status"] is not m.RsvpStatus.YES or rng.random() < 0.1:
                    continue
                for person in rsvp["people"]:
                    if len(rows) < share:
                        rows.append(dict(organization_id=rsvp["organization_id"], rsvp_id=rsvp["id"],
                                         person_name=person["name"], person_role=person["role"],
                                         method=rng.choice([m.AttendanceMethod.QR, m.AttendanceMethod.HAND])))
            pool = eligible[area_of_track[meeting["track_id"]]]
            while len(rows) < share:
                if rng.random() < 0.7 and pool:
                    rows.append(dict(organization_id=rng.choice(pool), rsvp_id=None, person_name=self.person(),
                                     person_role="Volontario", method=m.AttendanceMethod.WALK_IN))
                else:
                    rows.append(dict(organization_id=None, rsvp_id=None, person_name=self.person(),
                                     person_role="Cittadino", guest_organization="Comitato di quartiere",
                                     method=m.AttendanceMethod.WALK_IN))
            for row in rows:
                row.update(id=last_attendance + len(attendances) + 1, meeting_id=meeting["id"],
                           recorded_by_id=staff_id + 1, needs_follow_up=False,
                           checked_in_at=meeting["ends_at"] - timedelta(hours=3))
                row.setdefault("guest_organization", None)
                attendances.append(row)
        self._insert(db, m.Attendance.__table__, attendances)

        # the mail already sent: a receipt and an admission notice per entity
        outbox = []
        for i in numbers if self.mail else ():
            for topic in ("receipt", "review"):
                message = last_mail + len(outbox) + 1
                outbox.append(dict(
                    id=message, message_id=f"<bench-{message}@tavoli.localhost>",
                    to_address=f"ente{i}@bench.example.org", to_name="", subject=f"Candidatura MI-2024-{i:05d}",
                    body_text="Gentile ente,\nla candidatura è stata ricevuta.\n", body_html=None, ics=None,
                    ics_method=None, attachments=[], headers={}, category=m.MailCategory.SERVICE, topic=topic,
                    status=m.OutboxStatus.SENT, attempts=1, next_attempt_at=now - timedelta(days=300),
                    created_at=now - timedelta(days=300), sent_at=now - timedelta(days=300),
                ))
        self._insert(db, m.OutboxMessage.__table__, outbox)
        db.session.commit()
        self._move_sequences(db)

        confirmed: dict[int, int] = {}
        for row in rsvps:
            if row["status"] is m.RsvpStatus.YES:
                confirmed[row["organization_id"]] = confirmed.get(row["organization_id"], 0) + 1
        busiest = max(confirmed, key=lambda org: confirmed[org])
        yes_on = {mt["id"]: sum(1 for r in answered.get(mt["id"], []) if r["status"] is m.RsvpStatus.YES)
                  for mt in future_a if mt["id"] not in (venue_change["id"], contention["id"])}
        spare = sorted(yes_on, key=lambda meeting_id: (yes_on[meeting_id], meeting_id))
        free = [user_of[org] for org in a_pool if org not in {r["organization_id"] for r in answered.get(
            contention["id"], [])}]
        return Manifest(
            database_url=url, entities=self.n, meetings=len(all_meetings), rsvps=len(rsvps), copies=len(copies),
            attendances=len(attendances), outbox=len(outbox), staff_email=self.staff_email,
            staff_password=STAFF_PASSWORD, venue_change_meeting=venue_change["id"],
            venue_change_rsvps=len(answered.get(venue_change["id"], [])), venue_change_venue=venues[0]["id"],
            spare_meetings=spare, spare_meeting_rsvps=[yes_on[meeting_id] for meeting_id in spare],
            contention_meeting=contention["id"], contention_users=free[:200],
            feed_token=next(o["feed_token"] for o in organizations if o["id"] == busiest),
            feed_meetings=confirmed[busiest], seconds=0.0,
        )

    def _move_sequences(self, db: Any) -> None:
        """Explicit ids leave the serial sequences behind; move each past the largest id."""
        from scheduler.extensions import db as database

        for table in database.metadata.sorted_tables:
            if "id" not in table.c or not isinstance(table.c.id.type, sa.Integer):
                continue
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608  (table names from models)
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            ))
        db.session.commit()


def _rome():
    from scheduler.timeutil import ROME

    return ROME


def seed(name: str, entities: int, rsvps: int | None = None, attendances: int | None = None,
         seed_value: int = 8, mail: bool = True) -> Manifest:
    """Recreate database `name` and fill it; RSVPs and attendance scale with the entities unless given."""
    url = database_url(name)
    recreate_database(name)
    flask(url, "db", "upgrade")
    flask(url, "calls", "load", str(CALL_FILE))
    rsvps = rsvps if rsvps is not None else entities * 5
    attendances = attendances if attendances is not None else round(entities * 50 / 3)
    manifest = Seeder(entities, rsvps, attendances, random.Random(seed_value),  # noqa: S311  (reproducible data)
                      mail=mail).run(url)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / f"{name}.json").write_text(json.dumps(asdict(manifest), indent=2))
    return manifest


def national_host(number: int) -> str:
    return f"a{number}.tavoli.example"


def seed_national(name: str = NATIONAL_DATABASE, ambiti: int = NATIONAL_AMBITI, entities: int = NATIONAL_ENTITIES,
                  rsvps: int = NATIONAL_RSVPS, measured: int = NATIONAL_MEASURED, seed_value: int = 8,
                  progress: Any = None) -> Manifest:
    """Recreate database `name` with `ambiti` Ambiti, each with its host name and its own copy of the Crema call
    (loaded in-process by the loader `flask calls load` uses, under a slug of its own), then the rows of
    `Seeder` for each call: `entities` entities with their applications, 60 meetings, `rsvps` answers with their
    calendar copies; no attendance rows and no sent mail. Ambito 1 is the default one. The manifest describes
    Ambito `measured` (its host name, staff account, meetings, private feed) and carries the database's totals."""
    from dataclasses import replace

    from scheduler import create_app
    from scheduler import models as m
    from scheduler.calls.ambiti import create_ambito
    from scheduler.calls.loader import load_call, parse_call_file
    from scheduler.calls.models import Ambito
    from scheduler.extensions import db

    started = timer.perf_counter()
    url = database_url(name)
    recreate_database(name)
    flask(url, "db", "upgrade")
    spec = parse_call_file(CALL_FILE)
    app = create_app({"CONFIG_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
    chosen = None
    with app.app_context():
        for number in range(1, ambiti + 1):
            ambito = create_ambito(
                f"a{number}", host=national_host(number), name=f"Ambito territoriale {number}",
                lead_municipality=f"Comune capofila {number}", office_name=f"Ufficio di Piano dell'Ambito {number}",
                office_email=f"ufficio{number}@bench.example.org")
            call, _ = load_call(replace(spec, slug=f"{spec.slug}-a{number}"), ambito)
            db.session.commit()
            seeder = Seeder(entities, rsvps, 0, random.Random(seed_value * 1000 + number),  # noqa: S311
                            mail=False, staff_email=f"staff{number}@bench.example.org")
            manifest = seeder.seed_call(db, url, call.id)
            if number == measured:
                chosen = manifest
            if progress is not None and number % 50 == 0:
                progress(f"{number} Ambiti seeded")
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        totals = {table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) for table in (
            Ambito.__table__, m.Call.__table__, m.Organization.__table__, m.Application.__table__,
            m.Meeting.__table__, m.Rsvp.__table__, m.CalendarCopy.__table__, m.User.__table__)}
        db.engine.dispose()
    assert chosen is not None
    chosen.host, chosen.ambiti, chosen.totals = national_host(measured), ambiti, totals
    chosen.seconds = round(timer.perf_counter() - started, 1)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / f"{name}.json").write_text(json.dumps(asdict(chosen), indent=2))
    return chosen


def load_manifest(name: str) -> Manifest:
    return Manifest(**json.loads((OUT_DIR / f"{name}.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=600)
    parser.add_argument("--name", help="database name (default tavoli_bench_<entities>)")
    parser.add_argument("--rsvps", type=int, help="default: 5 per entity (3,000 at 600)")
    parser.add_argument("--attendances", type=int, help="default: 50 per 3 entities (10,000 at 600)")
    parser.add_argument("--national", action="store_true",
                        help=f"the national dataset ({NATIONAL_AMBITI} Ambiti) in {NATIONAL_DATABASE}")
    parser.add_argument("--ambiti", type=int, default=NATIONAL_AMBITI, help="with --national")
    args = parser.parse_args()
    if args.national:
        manifest = seed_national(args.name or NATIONAL_DATABASE, args.ambiti,
                                 measured=min(NATIONAL_MEASURED, args.ambiti), progress=print)
        print(f"{manifest.database_url}: {manifest.totals} in {manifest.seconds} s")
        return
    manifest = seed(args.name or f"tavoli_bench_{args.entities}", args.entities, args.rsvps, args.attendances)
    print(f"{manifest.database_url}: {manifest.entities} entities, {manifest.meetings} meetings, "
          f"{manifest.rsvps} RSVPs, {manifest.attendances} attendance rows, {manifest.outbox} sent messages "
          f"in {manifest.seconds} s")


if __name__ == "__main__":
    main()
