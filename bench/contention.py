"""RSVP under contention: 50 entities answer "yes" at the same instant to a meeting with 20 seats; then, seats
being people, 50 entities naming 1 to 5 people each answer at once for a room of 40.

Each client signs in the way an entity does (a one-time link: the token is issued directly, then the link page
is opened and its button pressed), loads the answer form, and waits at a barrier; then all 50 POST together to
a gunicorn with enough threads to run them concurrently. The goals: exactly 20 confirmed and the other 30 on
the waiting list; in people, never more than 40 confirmed and the first entity waiting one that did not fit;
no answer with a 5xx status.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg

from bench.common import SECRET, Client, Server
from bench.seed import Manifest

CLIENTS = 50
#: 3 processes x 17 threads: every client has a thread to run on, and the database pools stay under 50.
WORKERS, THREADS = 3, 17


def _issue_tokens(manifest: Manifest, user_ids: list[int]) -> list[str]:
    from scheduler import create_app
    from scheduler.auth.models import User
    from scheduler.auth.services import issue_login_token
    from scheduler.extensions import db

    app = create_app({"CONFIG_NAME": "production", "SECRET_KEY": SECRET,
                      "SQLALCHEMY_DATABASE_URI": manifest.database_url})
    with app.app_context():
        tokens = [issue_login_token(db.session.get(User, user_id)) for user_id in user_ids]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return tokens


def _prepare(base: str, token: str, form_path: str) -> tuple[Client, str]:
    """Signed in, with the answer form's CSRF token: everything but the answer itself."""
    client = Client(base)
    csrf = client.csrf(f"/accedi/link/{token}")
    status, _, _ = client.post(f"/accedi/link/{token}", {"csrf_token": csrf})
    if status != 302:
        raise RuntimeError(f"sign-in link answered {status}")
    return client, client.csrf(form_path)


def _race(manifest: Manifest, sizes: list[int]) -> tuple[list[tuple[int, float]], float]:
    """Sign in len(sizes) entities, then post their answers at once (the i-th names sizes[i] people)."""
    meeting = manifest.contention_meeting
    form_path = f"/incontri/{meeting}/adesione"
    tokens = _issue_tokens(manifest, manifest.contention_users[:len(sizes)])
    barrier = threading.Barrier(len(sizes))
    outcomes: list[tuple[int, float]] = []
    lock = threading.Lock()

    def answer(index: int, client: Client, csrf: str) -> None:
        names = [f"Persona {index}.{n}" for n in range(sizes[index])]
        form = {"csrf_token": csrf, "attending": "yes", "person_name": names,
                "person_role": ["Referente"] * len(names)}
        barrier.wait()
        started = time.perf_counter()
        try:
            status, _, _ = client.post(form_path, form)
        except OSError:
            status = 0
        with lock:
            outcomes.append((status, time.perf_counter() - started))

    with Server(manifest.database_url, workers=WORKERS, threads=THREADS) as server, \
            ThreadPoolExecutor(len(sizes)) as pool:
        prepared = list(pool.map(lambda token: _prepare(server.base, token, form_path), tokens))
        started = time.perf_counter()
        list(pool.map(lambda item: answer(item[0], *item[1]), enumerate(prepared)))
        wall = time.perf_counter() - started
    return outcomes, wall


def _statuses(outcomes: list[tuple[int, float]]) -> tuple[dict[str, int], int, list[float]]:
    statuses: dict[str, int] = {}
    for status, _ in outcomes:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    server_errors = sum(n for status, n in statuses.items() if status.startswith("5") or status == "0")
    return statuses, server_errors, sorted(seconds for _, seconds in outcomes)


def _connect(manifest: Manifest) -> psycopg.Connection:
    return psycopg.connect(manifest.database_url.replace("postgresql+psycopg://", "postgresql://"))


def run(manifest: Manifest) -> dict[str, Any]:
    meeting = manifest.contention_meeting
    outcomes, wall = _race(manifest, [1] * CLIENTS)
    with _connect(manifest) as conn:
        counts = dict(conn.execute("SELECT status, count(*) FROM rsvps WHERE meeting_id = %s GROUP BY status",
                                   (meeting,)).fetchall())
        capacity = conn.execute("SELECT capacity FROM meetings WHERE id = %s", (meeting,)).fetchone()[0]
    statuses, server_errors, latencies = _statuses(outcomes)
    return {
        "clients": CLIENTS, "capacity": capacity, "confirmed": counts.get("yes", 0),
        "waitlist": counts.get("waitlist", 0), "statuses": statuses, "server_errors": server_errors,
        "wall_s": round(wall, 3), "median_s": round(statistics.median(latencies), 3),
        "max_s": round(latencies[-1], 3), "workers": WORKERS, "threads": THREADS,
        "met": counts.get("yes", 0) == capacity and counts.get("waitlist", 0) == CLIENTS - capacity
        and server_errors == 0,
    }


#: The room of the second round, in people.
PEOPLE_CAPACITY = 40


def run_people(manifest: Manifest) -> dict[str, Any]:
    """The same meeting, its answers cleared and its room set to 40 people; 50 entities of 1-5 people each."""
    meeting = manifest.contention_meeting
    with _connect(manifest) as conn:
        conn.execute("DELETE FROM calendar_copies WHERE meeting_id = %s", (meeting,))
        conn.execute("DELETE FROM rsvps WHERE meeting_id = %s", (meeting,))
        conn.execute("UPDATE meetings SET capacity = %s WHERE id = %s", (PEOPLE_CAPACITY, meeting))
    sizes = [random.Random(n).randint(1, 5) for n in range(CLIENTS)]  # noqa: S311 (sizes of a test, not secrets)
    outcomes, wall = _race(manifest, sizes)
    with _connect(manifest) as conn:
        rows = conn.execute("SELECT status, seats FROM rsvps WHERE meeting_id = %s ORDER BY answered_at, id",
                            (meeting,)).fetchall()
    statuses, server_errors, latencies = _statuses(outcomes)
    confirmed = sum(seats for status, seats in rows if status == "yes")
    waiting = [seats for status, seats in rows if status == "waitlist"]
    honest = not waiting or confirmed + waiting[0] > PEOPLE_CAPACITY
    return {
        "clients": CLIENTS, "capacity": PEOPLE_CAPACITY, "people": sum(sizes), "answers": len(rows),
        "confirmed_people": confirmed, "confirmed_entities": sum(1 for status, _ in rows if status == "yes"),
        "waiting_entities": len(waiting), "first_waiting": waiting[0] if waiting else None, "honest_line": honest,
        "statuses": statuses, "server_errors": server_errors, "wall_s": round(wall, 3),
        "median_s": round(statistics.median(latencies), 3), "max_s": round(latencies[-1], 3),
        "met": confirmed <= PEOPLE_CAPACITY and honest and len(rows) == CLIENTS and server_errors == 0,
    }
