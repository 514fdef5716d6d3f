"""One Ambito of the national dataset against the same pages of a single-Ambito database of the same shape.

`tavoli_bench_national` holds 600 Ambiti, each with its host name and its own copy of the Crema call (500
entities with their applications, 60 meetings, 2,500 answers): 300,000 entities, 36,000 meetings, 1.5 million
answers. `tavoli_bench_500` is one such Ambito alone (`bench.seed.seed` with the same sizes, no attendance rows
and no sent mail). Every request is made twice, once to each database, the national one with the Host header of
Ambito `NATIONAL_MEASURED` (not the default one), in-process through the Flask test client, alternating the two
databases request after request so a burst of other work on the machine falls on both sides.

For each page and feed: the statements sent to PostgreSQL by one request after warm-up requests (goal: the same
count on both databases), the median time of a request (goal: national within 1.5x the single-Ambito one), and,
for the feeds' 304, the plan of its one statement on the national database (EXPLAIN ANALYZE: index scans, no
sequential scan on a big table). FEED_STAMP_TTL is 0 here, so every feed request reads its stamps and the 304
shows the query a poll costs once the kept stamps expire.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask

from bench.common import SECRET
from bench.pages import STAFF, dispose, page_csrf
from bench.seed import (
    NATIONAL_BASELINE,
    NATIONAL_DATABASE,
    NATIONAL_ENTITIES,
    NATIONAL_RSVPS,
    Manifest,
    flask,
    seed,
    seed_national,
)

GOAL_RATIO = 1.5
#: Timed requests of each page and feed on each database (alternating), after WARM_UP untimed ones.
PAGE_REQUESTS, FEED_REQUESTS, WARM_UP = 40, 200, 3
#: A sequential scan in a feed's plan is a problem on a table with more rows than this.
BIG_TABLE = 1000


@dataclass
class Case:
    name: str
    path: str
    staff: bool = False
    #: A feed asked with the ETag of its last answer: 304 expected.
    conditional: bool = False
    feed: bool = False
    #: Served with FEED_STAMP_TTL at its default (the production setting): a feed's call stamps are kept that
    #: many seconds, so a poll within them reads none (public feed) or only the entity's own (private feed).
    kept: bool = False


def cases() -> list[Case]:
    """The pages and feeds measured; {meeting} and {token} stand for each database's own."""
    return [
        Case("home", "/"),
        Case("public list", "/elenco"),
        Case("public calendar", "/calendario"),
        Case("meeting page", "/incontri/{meeting}"),
        *(Case(path.removeprefix("/gestione/"), path, staff=True) for path in STAFF),
        Case("area feed, 200", "/calendario/A.ics", feed=True),
        Case("area feed, 304", "/calendario/A.ics", conditional=True, feed=True),
        Case("private feed, 200", "/feed/{token}.ics", feed=True),
        Case("private feed, 304", "/feed/{token}.ics", conditional=True, feed=True),
        Case("area feed, 304, stamps kept", "/calendario/A.ics", conditional=True, feed=True, kept=True),
        Case("private feed, 304, stamps kept", "/feed/{token}.ics", conditional=True, feed=True, kept=True),
    ]


class Side:
    """One database: the app in-process with the production settings, an anonymous client and a staff one,
    both speaking to the Ambito's host name."""

    def __init__(self, manifest: Manifest, kept: bool = False) -> None:
        from scheduler import create_app

        self.manifest = manifest
        self.host = manifest.host or "localhost"
        self.app: Flask = create_app({
            "CONFIG_NAME": "production", "SECRET_KEY": SECRET, "SESSION_COOKIE_SECURE": False,
            "PREFERRED_URL_SCHEME": "http", "SQLALCHEMY_DATABASE_URI": manifest.database_url,
            "RATELIMIT_ENABLED": False, **({} if kept else {"FEED_STAMP_TTL": 0.0}),
        })
        self.base = f"http://{self.host}"
        self.public = self.app.test_client()
        self.staff = self.app.test_client()
        page = self.staff.get("/accedi", base_url=self.base).get_data(as_text=True)
        answer = self.staff.post("/accedi", base_url=self.base, data={
            "csrf_token": page_csrf(page), "email": manifest.staff_email, "password": manifest.staff_password,
            "next": ""})
        if answer.status_code != 302:
            raise RuntimeError(f"staff sign-in on {self.host} answered {answer.status_code}")
        self.etags: dict[str, str] = {}

    def path(self, case: Case) -> str:
        return case.path.replace("{token}", self.manifest.feed_token).replace(
            "{meeting}", str(self.manifest.spare_meetings[0]))

    def get(self, case: Case) -> Any:
        client = self.staff if case.staff else self.public
        headers = {"If-None-Match": self.etags[case.path]} if case.conditional else {}
        response = client.get(self.path(case), headers=headers, base_url=self.base)
        expected = 304 if case.conditional else 200
        if response.status_code != expected:
            raise RuntimeError(f"{self.path(case)} on {self.host} answered {response.status_code}, not {expected}")
        if case.feed and not case.conditional:
            self.etags[case.path] = response.headers["ETag"]
        return response


def explain(manifest: Manifest, statement: str, parameters: Any) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement the app sent, with its parameters, on the bench database; the
    sequential scans it contains, with the rows of their tables."""
    url = manifest.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        plan = [row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)]
        scanned = sorted(set(re.findall(r"Seq Scan on (\w+)", "\n".join(plan))))
        rows = {name: conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                                   (name,)).fetchone()[0] for name in scanned}
    big = [name for name, count in rows.items() if count > BIG_TABLE]
    return {"plan": plan, "seq_scans": rows, "big_seq_scans": big}


def measure(single: Manifest, national: Manifest) -> dict[str, Any]:
    both = {kept: {"single": Side(single, kept), "national": Side(national, kept)} for kept in (False, True)}
    rows = []
    try:
        for case in cases():
            sides = both[case.kept]
            row: dict[str, Any] = {"name": case.name, "path": case.path, "staff": case.staff,
                                   "conditional": case.conditional, "feed": case.feed}
            for key, side in sides.items():
                if case.conditional:
                    side.get(Case(case.name, case.path, feed=True))
                for _ in range(WARM_UP):
                    side.get(case)
                captured: list[tuple[str, Any]] = []

                def listener(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
                    captured.append((statement, parameters))  # noqa: B023  (removed before the next case)

                with side.app.app_context():
                    from scheduler.extensions import db

                    engine = db.engine
                sa.event.listen(engine, "before_cursor_execute", listener)
                try:
                    body = side.get(case).get_data()
                finally:
                    sa.event.remove(engine, "before_cursor_execute", listener)
                row[f"{key}_statements"] = len(captured)
                row[f"{key}_bytes"] = len(body)
                if case.conditional and key == "national" and len(captured) == 1:
                    row["explain"] = explain(side.manifest, *captured[0])
                elif case.conditional and key == "national" and captured:
                    row["explain"] = {"statements": [s for s, _ in captured]}
            timings: dict[str, list[float]] = {key: [] for key in sides}
            for _ in range(FEED_REQUESTS if case.feed else PAGE_REQUESTS):
                for key, side in sides.items():
                    started = time.perf_counter()
                    side.get(case)
                    timings[key].append(time.perf_counter() - started)
            for key in sides:
                row[f"{key}_ms"] = round(statistics.median(timings[key]) * 1000, 2)
            row["ratio"] = round(row["national_ms"] / row["single_ms"], 2)
            row["time_met"] = row["ratio"] <= GOAL_RATIO
            row["statements_met"] = row["single_statements"] == row["national_statements"]
            if case.conditional:
                explained = row.get("explain", {})
                # a public feed's 304 with its stamps kept sends nothing at all, better than the goal
                row["one_indexed_query"] = (row["national_statements"] == 0 and case.kept) or (
                    row["national_statements"] == 1 and "plan" in explained and not explained["big_seq_scans"])
            rows.append(row)
    finally:
        for sides in both.values():
            for side in sides.values():
                dispose(side.app)
    return {"cases": rows, "requests": {"page": PAGE_REQUESTS, "feed": FEED_REQUESTS}, "goal": GOAL_RATIO}


def run(step: Any = print, reuse: bool = False) -> dict[str, Any]:
    """Seed both databases (unless `reuse` and their manifests are there), then measure."""
    from bench.seed import load_manifest

    if reuse:
        try:
            single, national = load_manifest(NATIONAL_BASELINE), load_manifest(NATIONAL_DATABASE)
        except FileNotFoundError:
            reuse = False
    if not reuse:
        step(f"seeding {NATIONAL_BASELINE} (one Ambito, {NATIONAL_ENTITIES} entities)")
        single = seed(NATIONAL_BASELINE, NATIONAL_ENTITIES, NATIONAL_RSVPS, 0, mail=False)
        step(f"seeding {NATIONAL_DATABASE} (600 Ambiti)")
        national = seed_national(progress=step)
    for manifest in (single, national):
        # databases kept from an earlier run get the migrations added since (quick: no big table is rewritten)
        flask(manifest.database_url, "db", "upgrade")
    step(f"national dataset: Ambito {national.host} against {NATIONAL_BASELINE}")
    started = time.perf_counter()
    result = measure(single, national)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["datasets"] = {"single": single.__dict__, "national": national.__dict__}
    return result


HEADING = "## National dataset"


def _plan_indexes(plan: list[str]) -> list[str]:
    return sorted(set(re.findall(r"(?:Index|Index Only) Scan(?: Backward)? using (\w+) on", "\n".join(plan))))


def render(r: dict[str, Any]) -> list[str]:
    """The section of RESULTS.md."""
    single, national = r["datasets"]["single"], r["datasets"]["national"]
    totals = national.get("totals") or {}
    verdict = {True: "**met**", False: "**not met**"}
    out = [
        HEADING,
        "",
        f"Measured on {r.get('date', '?')} with `python -m bench.run --national` (`make bench-national`; "
        "`bench/national.py`), load average at the start and end "
        f"{r.get('load', '?')} / {r.get('load_end', '?')}.",
        "",
        f"`{NATIONAL_DATABASE}`: {totals.get('ambiti', 0):,} Ambiti, each with its host name (a<N>.tavoli.example) "
        "and its own copy of the Crema call (48 comuni, areas A-D, 4 tracks, the call's 12 meetings; loaded "
        "in-process by the loader of `flask calls load`, under a slug of its own), then for each call the rows of "
        "`bench/seed.py`'s `Seeder`, as for the single-Ambito databases (bulk executemany of plain rows after "
        f"`flask db upgrade`): {totals.get('organizations', 0):,} entities with {totals.get('applications', 0):,} "
        f"applications, {totals.get('meetings', 0):,} meetings, {totals.get('rsvps', 0):,} answers, "
        f"{totals.get('calendar_copies', 0):,} calendar copies, {totals.get('users', 0):,} users; no attendance "
        f"rows and no sent mail. Seeded in {national['seconds']} s ({national['seconds'] / 60:.1f} min). "
        f"`{single['database_url'].rsplit('/', 1)[1]}` is one Ambito of the same shape alone ({single['entities']} "
        f"entities, {single['meetings']} meetings, {single['rsvps']:,} answers; seeded in {single['seconds']} s).",
        "",
        f"Each request in-process (Flask test client, production settings but FEED_STAMP_TTL=0, so every feed "
        "request reads its stamps; the lines \"stamps kept\" with FEED_STAMP_TTL at its default of 10 s), "
        f"to `{single['database_url'].rsplit('/', 1)[1]}` and to Ambito `{national['host']}` "
        "of the national database (its Host header; not the default Ambito) in turn, request after request; the "
        f"median of {r['requests']['page']} requests of each page and {r['requests']['feed']} of each feed, after "
        "warm-up requests; statements counted for one request after the warm-up. Goals: time national / single "
        f"within {r['goal']}x; the same number of statements; a feed's 304 one statement, its plan on the national "
        f"database without a sequential scan on a table of more than {BIG_TABLE:,} rows.",
        "",
        "| request | statements single / national | ms single / national | ratio | time | statements |",
        "|---|---|---|---:|---|---|",
    ]
    for c in r["cases"]:
        who = " (staff)" if c["staff"] else ""
        out.append(f"| {c['name']}{who} `{c['path']}` | {c['single_statements']} / {c['national_statements']} | "
                   f"{c['single_ms']} / {c['national_ms']} | {c['ratio']}x | {verdict[c['time_met']]} | "
                   f"{verdict[c['statements_met']]} |")
    out.append("")
    for c in r["cases"]:
        if not c["conditional"]:
            continue
        e = c.get("explain", {})
        plan = e.get("plan")
        if plan is None:
            if c["national_statements"] == 0:
                out += [f"**{c['name']}:** no statement at all (the call's stamps kept by the process): "
                        f"{verdict[True]}.", ""]
            else:
                out += [f"**{c['name']}:** {c['national_statements']} statements, not one: {verdict[False]}.", ""]
            continue
        scans = ", ".join(f"`{name}` ({rows:,} rows)" for name, rows in e["seq_scans"].items()) or "none"
        out += [
            f"**{c['name']}, one indexed query:** {verdict[c['one_indexed_query']]}. "
            f"{c['national_statements']} statement; indexes used: "
            f"{', '.join(f'`{name}`' for name in _plan_indexes(plan)) or 'none'}; sequential scans: {scans}. "
            "Its plan on the national database (EXPLAIN ANALYZE, BUFFERS):",
            "",
            "```",
            *plan,
            "```",
            "",
        ]
    out += _notes(r)
    met = sum(1 for c in r["cases"] for key in ("time_met", "statements_met", "one_indexed_query") if c.get(key))
    goals = sum(1 for c in r["cases"] for key in ("time_met", "statements_met", "one_indexed_query") if key in c)
    out += [f"{met} of {goals} goals of the national dataset met in this run (measuring took {r['seconds']} s).",
            ""]
    return out


def update(text: str, r: dict[str, Any]) -> str:
    """RESULTS.md with its national section replaced (or added before the summary), the rest as it was."""
    section = "\n".join(render(r)) + "\n"
    if HEADING in text:
        start = text.index(HEADING)
        following = [i for i in (text.find("\n## ", start + 1),) if i != -1]
        end = following[0] + 1 if following else len(text)
        return text[:start] + section + text[end:]
    at = text.find("## Summary")
    return text + "\n" + section if at == -1 else text[:at] + section + text[at:]


#: The change the private feed's stamps need (see `_notes`).
PRIVATE_FIX = (
    "The private stamps should be those of the calls of the Ambito answering the host (`ambito_id_of_host()`, as "
    "the other stamp queries do), e.g. `Call.ambito_id == ambito_id_of_host()` for the latest load, "
    "`Meeting.track_id IN (SELECT tracks.id FROM tracks JOIN calls ON calls.id = tracks.call_id WHERE "
    "calls.ambito_id = <the Ambito>)` for the meetings, `call_id IN (SELECT id FROM calls WHERE ambito_id = "
    "<the Ambito>)` for venues, tracks and areas; `private_stamp` then takes the host and keeps the stamps under "
    "`(EVERY_CALL, host)`. Written by hand and explained on the national database, that statement uses only "
    "`uq_ambiti_host`, `uq_ambiti_default`, `ix_calls_ambito_id`, `ix_tracks_call_id`, `ix_meetings_track_id`, "
    "`ix_venues_call_id`, `ix_areas_call_id`, `uq_organizations_feed_token` and"
)


def _notes(r: dict[str, Any]) -> list[str]:
    """How the figures come about: the indexes behind the goals met, and the change a goal not met needs."""
    by_name = {c["name"]: c for c in r["cases"]}
    out = [
        "**Indexes that make it so.** A request finds its Ambito by `uq_ambiti_host` (unique `ambiti.host`) or "
        "`uq_ambiti_default` (partial unique index on `is_default` where true), and the Ambito's calls by "
        "`ix_calls_ambito_id` (its current call also through `uq_calls_current` on `(ambito_id, is_current)` where "
        "`is_current`). Everything below a call is reached through per-call keys, each indexed: `ix_tracks_call_id`, "
        "`ix_meetings_track_id`, `ix_venues_call_id`, `ix_areas_call_id` and `uq_areas_call_id_code`, "
        "`ix_applications_call_id` and `uq_applications_call_id_organization_id`, the answers by "
        "`ix_rsvps_meeting_id` and `ix_rsvps_organization_id`, a private feed's entity by "
        "`uq_organizations_feed_token`. So a page of one Ambito sends the same statements whatever the number of "
        "Ambiti, and reads about the same rows: its time stays with the single Ambito's. A feed finds its Ambito "
        "within its one statement (`scheduler.calls.ambiti.ambito_id_of_host`: "
        "`COALESCE((SELECT id FROM ambiti WHERE host = :host), (SELECT id FROM ambiti WHERE is_default))`, the "
        "host by `uq_ambiti_host`); for the default one the planner prefers reading the 600 rows of `ambiti` "
        "(a few pages) to its partial index `uq_ambiti_default`, which it takes once the table is larger.",
        "",
    ]
    private = by_name.get("private feed, 304")
    if private and not (private["time_met"] and private.get("one_indexed_query")):
        kept = by_name.get("private feed, 304, stamps kept")
        kept_text = (f" With the stamps kept (FEED_STAMP_TTL at its default) a poll sends only the entity's own "
                     f"part ({kept['national_ms']} ms against {kept['single_ms']} ms, "
                     f"{kept['national_statements']} indexed statement), but every process pays the whole query "
                     "again each time the kept stamps expire." if kept else "")
        out += [
            "**Not met: the private feed when it reads its stamps** "
            f"({private['national_ms']} ms against {private['single_ms']} ms, {private['ratio']}x; the 200 "
            "likewise). Its one statement takes the stamps of every call of the installation "
            "(`_every_call_stamps` in `scheduler/calendar/feeds.py`: latest change and count of all meetings, "
            "venues, tracks and areas), so on the national database it reads all 36,000 meetings and every venue, "
            "track and area of the 600 Ambiti by sequential scans, while `private_feed` shows only the meetings "
            "of the Ambito answering the host; it also gives every private feed of every Ambito a new ETag "
            f"whenever any of the 36,000 meetings changes, so a calendar polling it gets fewer 304s.{kept_text} "
            "No index is missing: the fix is the query. "
            + PRIVATE_FIX + " `ix_rsvps_organization_id`, no sequential scan, and ran in 1.3 ms where the "
            f"present statement's plan above took {_execution_ms(private)}.",
            "",
        ]
    return out


def _execution_ms(case: dict[str, Any]) -> str:
    found = re.search(r"Execution Time: ([\d.]+) ms", "\n".join(case.get("explain", {}).get("plan", [])))
    return f"{found.group(1)} ms" if found else "longer"
