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


def run(manifest: Manifest, seconds: int = 10, connections: int = 8, workers: int = 4) -> dict[str, Any]:
    """wrk on the fixed endpoint, then on each feed; ratios are fixed rps / feed rps (1.0 = as cheap)."""
    cases = [
        FeedCase("area feed /calendario/A.ics, 200", "/calendario/A.ics", False, GOAL_FULL),
        FeedCase("area feed /calendario/A.ics, 304", "/calendario/A.ics", True, GOAL_CONDITIONAL),
        FeedCase("private feed /feed/<token>.ics, 200", f"/feed/{manifest.feed_token}.ics", False, GOAL_FULL),
        FeedCase("private feed /feed/<token>.ics, 304", f"/feed/{manifest.feed_token}.ics", True, GOAL_CONDITIONAL),
    ]
    rows = []
    with Server(manifest.database_url, workers=workers) as server:
        baseline = wrk(server.base + "/_bench/fixed", seconds=seconds, connections=connections)
        for case in cases:
            status, headers, body = Client(server.base).get(case.path)
            if status != 200:
                raise RuntimeError(f"{case.path} answered {status}")
            extra = {}
            if case.conditional:
                extra["If-None-Match"] = headers["ETag"]
                check, _, _ = Client(server.base).get(case.path, extra)
                if check != 304:
                    raise RuntimeError(f"{case.path} with If-None-Match answered {check}, not 304")
            result = wrk(server.base + case.path, seconds=seconds, connections=connections, headers=extra)
            rows.append((case, result, len(body)))
        # the fixed endpoint again at the end: the ratios use the mean of both runs, so a machine that got
        # busier or quieter meanwhile (other processes share these cores) weighs on both sides
        after = wrk(server.base + "/_bench/fixed", seconds=seconds, connections=connections)
    reference = WrkResult(url=baseline.url, requests=baseline.requests + after.requests,
                          seconds=baseline.seconds + after.seconds, rps=round((baseline.rps + after.rps) / 2, 1),
                          p50_ms=round((baseline.p50_ms + after.p50_ms) / 2, 2),
                          p99_ms=round((baseline.p99_ms + after.p99_ms) / 2, 2),
                          errors=baseline.errors + after.errors, bad_status=baseline.bad_status + after.bad_status)
    cases_out = [_row(case, result, reference, size) for case, result, size in rows]
    return {"baseline": reference.as_dict(), "baseline_runs": [baseline.as_dict(), after.as_dict()],
            "cases": cases_out, "seconds": seconds, "connections": connections,
            "workers": workers, "feed_meetings": manifest.feed_meetings}


def _row(case: FeedCase, result: WrkResult, baseline: WrkResult, size: int) -> dict[str, Any]:
    ratio = baseline.rps / result.rps if result.rps else float("inf")
    return {"name": case.name, "goal": case.goal, "ratio": round(ratio, 2), "met": ratio <= case.goal
            and result.errors == 0 and result.bad_status == 0, "body_bytes": 0 if case.conditional else size,
            "p50_ratio": round(result.p50_ms / baseline.p50_ms, 2) if baseline.p50_ms else None,
            **result.as_dict()}
