"""Public and staff list pages at several sizes: SQL queries per request and latency under gunicorn.

Queries are counted in-process (Flask test client, a SQLAlchemy `before_cursor_execute` listener) on the same
database, so the number is exact and not disturbed by timing; latency comes from wrk on gunicorn with a
staff session cookie. Goals: the number of queries does not grow with the entities, and latency grows less
than the number of entities does (at most like its square root, between the two largest datasets).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench.common import CSRF, SECRET, Client, Server, wrk
from bench.seed import Manifest
from scheduler.caching import app_cache

PUBLIC = ["/elenco", "/calendario"]
STAFF = ["/gestione/candidature", "/gestione/calendario", "/gestione/partecipazione", "/gestione/posta"]
PAGES = PUBLIC + STAFF
#: Latency counts as sub-linear when it grows at most like the square root of the entities between the two
#: largest datasets (log-log slope); a page doing work proportional to the entities approaches 1.
SUBLINEAR_EXPONENT = 0.5
#: A slow page is measured again for longer, so its percentiles rest on at least this many requests...
MIN_REQUESTS = 20
#: ...within this many seconds.
MAX_SECONDS = 40


def bench_app(manifest: Manifest) -> Flask:
    """The app in-process on the bench database with the production settings; plain http as the bench gunicorn
    (with https the test client's requests would need a Referer for CSRF)."""
    from scheduler import create_app

    return create_app({"CONFIG_NAME": "production", "SECRET_KEY": SECRET, "SESSION_COOKIE_SECURE": False,
                       "PREFERRED_URL_SCHEME": "http", "SQLALCHEMY_DATABASE_URI": manifest.database_url,
                       "RATELIMIT_ENABLED": False})


def staff_test_client(manifest: Manifest) -> tuple[Flask, FlaskClient]:
    """`bench_app` and a test client signed in as staff."""
    app = bench_app(manifest)
    client = app.test_client()
    answer = client.post("/accedi", data={"csrf_token": page_csrf(client.get("/accedi").get_data(as_text=True)),
                                          "email": manifest.staff_email, "password": manifest.staff_password,
                                          "next": ""})
    if answer.status_code != 302:
        raise RuntimeError(f"staff sign-in answered {answer.status_code}")
    return app, client


def page_csrf(page: str) -> str:
    match = CSRF.search(page)
    if match is None:
        raise RuntimeError("no csrf token on the page")
    return match.group(1)


@contextmanager
def counting_statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the app sends to PostgreSQL inside the block (a `before_cursor_execute` listener on its
    engine; one executemany is one statement)."""
    from scheduler.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def dispose(app: Flask) -> None:
    from scheduler.extensions import db

    with app.app_context():
        db.engine.dispose()


def count_queries(manifest: Manifest) -> dict[str, Any]:
    """Statements sent to PostgreSQL by one request of each page (after a warm-up request of the same page),
    and, under "rebuilt", how long /elenco takes in-process when the list has just changed (its kept copy
    dropped first), the median of five."""
    app, client = staff_test_client(manifest)
    counts: dict[str, int] = {}
    with counting_statements(app) as statements:
        for path in PAGES:
            client.get(path)
            statements.clear()
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            counts[path] = len(statements)
    timings = []
    for _ in range(5):
        app_cache(app, "public_list", 32).clear()
        started = time.perf_counter()
        client.get("/elenco")
        timings.append(time.perf_counter() - started)
    counts["rebuilt"] = round(statistics.median(timings) * 1000, 1)
    dispose(app)
    return counts


def measure_latency(manifest: Manifest, seconds: int = 6, connections: int = 2) -> dict[str, dict[str, Any]]:
    """wrk on each page; two connections on two cores measure the page, not the queue in front of it."""
    results: dict[str, dict[str, Any]] = {}
    with Server(manifest.database_url, workers=2) as server:
        client = Client(server.base)
        client.login_staff(manifest.staff_email, manifest.staff_password)
        cookie = client.cookie_header()
        for path in PAGES:
            status, _, body = client.get(path)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            headers = {"Cookie": cookie} if path in STAFF else {}
            result = wrk(server.base + path, seconds=seconds, connections=connections, threads=1, headers=headers)
            if result.requests < MIN_REQUESTS:
                longer = min(MAX_SECONDS, math.ceil(MIN_REQUESTS / max(result.rps, 0.1)) + 2)
                result = wrk(server.base + path, seconds=longer, connections=connections, threads=1,
                             headers=headers)
            results[path] = {**result.as_dict(), "body_bytes": len(body)}
    return results


def run(manifests: list[Manifest], seconds: int = 6) -> dict[str, Any]:
    """Every page at every size; the verdicts compare the smallest and the largest dataset."""
    sizes = []
    for manifest in manifests:
        queries = count_queries(manifest)
        rebuilt = queries.pop("rebuilt")
        sizes.append({"entities": manifest.entities, "queries": queries, "elenco_rebuilt_ms": rebuilt,
                      "latency": measure_latency(manifest, seconds=seconds)})
    small, middle, large = sizes[0], sizes[-2], sizes[-1]
    growth = large["entities"] / small["entities"]
    verdicts = {}
    for path in PAGES:
        latency_growth = large["latency"][path]["p50_ms"] / small["latency"][path]["p50_ms"]
        # the slope on a log-log scale between the two largest datasets: a fixed cost hides a linear one at
        # small sizes (any a + b*n grows less than n), so the largest step is where linear work shows
        exponent = math.log(large["latency"][path]["p50_ms"] / middle["latency"][path]["p50_ms"]) / math.log(
            large["entities"] / middle["entities"])
        verdicts[path] = {
            "queries_constant": len({size["queries"][path] for size in sizes}) == 1,
            "latency_growth": round(latency_growth, 2),
            "exponent": round(exponent, 2),
            "sublinear": exponent <= SUBLINEAR_EXPONENT,
        }
    return {"sizes": sizes, "entity_growth": growth, "verdicts": verdicts, "seconds": seconds}
