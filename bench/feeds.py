"""Feeds under load: `/calendario/A.ics` and `/feed/<token>.ics`, full (200) and conditional (304).

Each is compared with `/_bench/fixed` (a bare 2 KB Flask answer) served by the same gunicorn in the same run:
the ratio of throughputs is what the goals are about (200 within 3x; a public feed's 304 within 1.5x, a private
feed's within 2x or the reason measured), since calendar apps poll feeds hourly and most of those polls should
cost no more than a trivial request.

The reason is measured in-process (`conditional_costs`): the bare endpoint, the area feed's 304 and the private
feed's 304 through the Flask test client, each request timed, with the statements it sends to PostgreSQL and the
pool's connection checks (pre-ping) counted and timed.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Response

from bench.common import FIXED_BODY, Client, Server, WrkResult, wrk
from bench.pages import bench_app, dispose
from bench.seed import Manifest

GOAL_FULL = 3.0
GOAL_CONDITIONAL = 1.5
#: A private feed's 304 reads the entity's own stamps on every request (by design), so its goal is looser.
GOAL_PRIVATE_CONDITIONAL = 2.0
#: Requests timed in-process for each case of `conditional_costs`, after WARM_UP untimed ones.
IN_PROCESS_REQUESTS, WARM_UP = 300, 20


@dataclass
class FeedCase:
    name: str
    path: str
    conditional: bool
    goal: float
    #: Measured with FEED_STAMP_TTL=0 as well as the default, for reference: every poll asks the database.
    reference: bool = False


def run(manifest: Manifest, seconds: int = 5, connections: int = 8, workers: int = 4, rounds: int = 3
        ) -> dict[str, Any]:
    """For each feed, `rounds` pairs of wrk runs (the fixed endpoint, then the feed); the median pair counts.

    Other processes share these cores and come in bursts: a pair measured back to back sees about the same
    machine on both sides, and the median of three pairs drops the one a burst fell on.
    """
    cases = [
        FeedCase("area feed /calendario/A.ics, 200", "/calendario/A.ics", False, GOAL_FULL),
        FeedCase("area feed /calendario/A.ics, 304", "/calendario/A.ics", True, GOAL_CONDITIONAL),
        FeedCase("private feed /feed/<token>.ics, 200", f"/feed/{manifest.feed_token}.ics", False, GOAL_FULL),
        FeedCase("private feed /feed/<token>.ics, 304", f"/feed/{manifest.feed_token}.ics", True,
                 GOAL_PRIVATE_CONDITIONAL),
    ]
    references = [
        FeedCase("area feed, 200, stamps read on every poll (FEED_STAMP_TTL=0)", "/calendario/A.ics", False,
                 GOAL_FULL, reference=True),
        FeedCase("area feed, 304, stamps read on every poll (FEED_STAMP_TTL=0)", "/calendario/A.ics", True,
                 GOAL_CONDITIONAL, reference=True),
    ]
    rows = []
    fixed: list[WrkResult] = []
    for group, env in ((cases, {}), (references, {"FEED_STAMP_TTL": "0"})):
        with Server(manifest.database_url, workers=workers, **env) as server:
            for case in group:
                rows.append(_measure(server, case, seconds, connections, rounds, fixed))
    return {"baseline": _mean(*fixed).as_dict(), "cases": rows, "seconds": seconds, "rounds": rounds,
            "connections": connections, "workers": workers, "feed_meetings": manifest.feed_meetings,
            "in_process": conditional_costs(manifest)}


def conditional_costs(manifest: Manifest) -> list[dict[str, Any]]:
    """Where a 304 spends its time, in-process: per request, the median time, the statements and the pool's
    connection checks (pre-ping: one `SELECT 1` round trip each time a pooled connection is taken) with their
    time, and the time from `engine.connect()` to the connection's return to the pool.

    The same app and configuration as the gunicorn workers (FEED_STAMP_TTL at its default), plus the bare
    endpoint; IN_PROCESS_REQUESTS requests of each, one at a time, after WARM_UP untimed ones.
    """
    from scheduler.extensions import db

    app = bench_app(manifest)
    app.add_url_rule("/_bench/fixed", "bench_fixed", lambda: Response(FIXED_BODY, mimetype="text/plain"))
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    spent = {"statements": 0, "statement_s": 0.0, "pings": 0, "ping_s": 0.0, "connection_s": 0.0}
    ping, connect = engine.dialect.do_ping, engine.connect
    taken: list[float] = []

    def timed_connect(*args: Any, **kwargs: Any) -> Any:
        taken.append(time.perf_counter())
        return connect(*args, **kwargs)

    def checkin(*args: Any) -> None:
        if taken:
            spent["connection_s"] += time.perf_counter() - taken.pop()

    def timed_ping(dbapi_connection: Any) -> bool:
        started = time.perf_counter()
        try:
            return ping(dbapi_connection)
        finally:
            spent["pings"] += 1
            spent["ping_s"] += time.perf_counter() - started

    def before(conn: Any, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, *args: Any) -> None:
        spent["statements"] += 1
        spent["statement_s"] += time.perf_counter() - conn.info.pop("bench_started")

    cases = [("bare endpoint /_bench/fixed, 200", "/_bench/fixed", False),
             ("area feed /calendario/A.ics, 304", "/calendario/A.ics", True),
             ("private feed /feed/<token>.ics, 304", f"/feed/{manifest.feed_token}.ics", True)]
    rows = []
    engine.dialect.do_ping = timed_ping  # type: ignore[method-assign]
    engine.connect = timed_connect  # type: ignore[method-assign]
    sa.event.listen(engine.pool, "checkin", checkin)
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        for name, path, conditional in cases:
            headers = {"If-None-Match": client.get(path).headers["ETag"]} if conditional else {}
            expected = 304 if conditional else 200
            for _ in range(WARM_UP):
                client.get(path, headers=headers)
            spent.update(statements=0, statement_s=0.0, pings=0, ping_s=0.0, connection_s=0.0)
            timings = []
            for _ in range(IN_PROCESS_REQUESTS):
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                timings.append(time.perf_counter() - started)
                if response.status_code != expected:
                    raise RuntimeError(f"{path} answered {response.status_code} in-process, not {expected}")
            n = IN_PROCESS_REQUESTS
            rows.append({"name": name, "requests": n, "median_ms": round(statistics.median(timings) * 1000, 3),
                         "statements": round(spent["statements"] / n, 2),
                         "statement_ms": round(spent["statement_s"] / n * 1000, 3),
                         "pings": round(spent["pings"] / n, 2), "ping_ms": round(spent["ping_s"] / n * 1000, 3),
                         "connection_ms": round(spent["connection_s"] / n * 1000, 3)})
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
        sa.event.remove(engine.pool, "checkin", checkin)
        del engine.dialect.do_ping
        del engine.connect
        dispose(app)
    return rows


def _measure(server: Server, case: FeedCase, seconds: int, connections: int, rounds: int,
             fixed: list[WrkResult]) -> dict[str, Any]:
    """`rounds` pairs of runs (the fixed endpoint, then the feed); the pair with the median ratio counts."""
    status, headers, body = Client(server.base).get(case.path)
    if status != 200:
        raise RuntimeError(f"{case.path} answered {status}")
    extra = {}
    if case.conditional:
        extra["If-None-Match"] = headers["ETag"]
        check, _, _ = Client(server.base).get(case.path, extra)
        if check != 304:
            raise RuntimeError(f"{case.path} with If-None-Match answered {check}, not 304")
    pairs = []
    for _ in range(rounds):
        reference = wrk(server.base + "/_bench/fixed", seconds=seconds, connections=connections)
        result = wrk(server.base + case.path, seconds=seconds, connections=connections, headers=extra)
        fixed.append(reference)
        pairs.append((reference.rps / result.rps if result.rps else float("inf"), reference, result))
    pairs.sort(key=lambda pair: pair[0])
    _, reference, result = pairs[len(pairs) // 2]
    return {**_row(case, result, reference, len(body)), "reference": case.reference,
            "round_ratios": [round(ratio, 2) for ratio, _, _ in pairs]}


def _mean(*runs: WrkResult) -> WrkResult:
    """Several runs of the fixed endpoint as one: mean throughput and percentiles, summed counts."""
    count = len(runs)
    return WrkResult(
        url=runs[0].url, requests=sum(r.requests for r in runs), seconds=round(sum(r.seconds for r in runs), 2),
        rps=round(sum(r.rps for r in runs) / count, 1), p50_ms=round(sum(r.p50_ms for r in runs) / count, 2),
        p99_ms=round(sum(r.p99_ms for r in runs) / count, 2), errors=sum(r.errors for r in runs),
        bad_status=sum(r.bad_status for r in runs),
    )


def _row(case: FeedCase, result: WrkResult, baseline: WrkResult, size: int) -> dict[str, Any]:
    ratio = baseline.rps / result.rps if result.rps else float("inf")
    return {"name": case.name, "goal": case.goal, "ratio": round(ratio, 2), "reference_rps": baseline.rps,
            "met": ratio <= case.goal
            and result.errors == 0 and result.bad_status == 0, "body_bytes": 0 if case.conditional else size,
            "p50_ratio": round(result.p50_ms / baseline.p50_ms, 2) if baseline.p50_ms else None,
            **result.as_dict()}
