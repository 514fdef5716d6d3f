"""RSVP under contention: 50 entities answer "yes" at the same instant to a meeting with 20 seats.

Each client signs in the way an entity does (a one-time link: the token is issued directly, then the link page
is opened and its button pressed), loads the answer form, and waits at a barrier; then all 50 POST together to
a gunicorn with enough threads to run them concurrently. The goal: exactly 20 confirmed, the other 30 on the
waiting list, and no answer with a 5xx status.
"""

from __future__ import annotations

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


def run(manifest: Manifest) -> dict[str, Any]:
    meeting = manifest.contention_meeting
    form_path = f"/incontri/{meeting}/adesione"
    tokens = _issue_tokens(manifest, manifest.contention_users[:CLIENTS])
    barrier = threading.Barrier(CLIENTS)
    outcomes: list[tuple[int, float]] = []
    lock = threading.Lock()

    def answer(index: int, client: Client, csrf: str) -> None:
        form = {"csrf_token": csrf, "attending": "yes", "person_name": [f"Persona {index}"],
                "person_role": ["Referente"]}
        barrier.wait()
        started = time.perf_counter()
        try:
            status, _, _ = client.post(form_path, form)
        except OSError:
            status = 0
        with lock:
            outcomes.append((status, time.perf_counter() - started))

    with Server(manifest.database_url, workers=WORKERS, threads=THREADS) as server, \
            ThreadPoolExecutor(CLIENTS) as pool:
        prepared = list(pool.map(lambda token: _prepare(server.base, token, form_path), tokens))
        started = time.perf_counter()
        list(pool.map(lambda item: answer(item[0], *item[1]), enumerate(prepared)))
        wall = time.perf_counter() - started

    with psycopg.connect(manifest.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        counts = dict(conn.execute("SELECT status, count(*) FROM rsvps WHERE meeting_id = %s GROUP BY status",
                                   (meeting,)).fetchall())
        capacity = conn.execute("SELECT capacity FROM meetings WHERE id = %s", (meeting,)).fetchone()[0]
    statuses: dict[str, int] = {}
    for status, _ in outcomes:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    server_errors = sum(n for status, n in statuses.items() if status.startswith("5") or status == "0")
    latencies = sorted(seconds for _, seconds in outcomes)
    return {
        "clients": CLIENTS, "capacity": capacity, "confirmed": counts.get("yes", 0),
        "waitlist": counts.get("waitlist", 0), "statuses": statuses, "server_errors": server_errors,
        "wall_s": round(wall, 3), "median_s": round(statistics.median(latencies), 3),
        "max_s": round(latencies[-1], 3), "workers": WORKERS, "threads": THREADS,
        "met": counts.get("yes", 0) == capacity and counts.get("waitlist", 0) == CLIENTS - capacity
        and server_errors == 0,
    }
