"""Feeds under load: `/calendario/A.ics` and `/feed/<token>.ics`, full (200) and conditional (304).

Each is compared with `/_bench/fixed` (a bare 2 KB Flask answer) served by the same gunicorn in the same run:
the ratio of throughputs is what the goals are about (200 within 3x, 304 within 1.5x), since calendar apps
poll feeds hourly and most of those polls should cost no more than a trivial request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.common import Client, Server, WrkResult, wrk
from bench.seed import Manifest

GOAL_FULL = 3.0
GOAL_CONDITIONAL = 1.5


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
        FeedCase("private feed /feed/<token>.ics, 304", f"/feed/{manifest.feed_token}.ics", True, GOAL_CONDITIONAL),
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
            "connections": connections, "workers": workers, "feed_meetings": manifest.feed_meetings}


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
