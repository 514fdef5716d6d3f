"""The venue notice ("Comunica la sede"): how long staff wait when they tell every invited entity where a
meeting is held, how long the worker then takes to write its messages, and whether the statements of both stay
the same whatever the number of recipients.

The request is the real one. Staff open `/gestione/calendario/incontri/<id>/comunica-sede?sede=<venue>`, which
prefills the subject and body for that venue, and send the form as it is, to every invited entity but those
that declined (audience `meeting_invited`). That request sets the venue through the calendar's change path
(SEQUENCE raised once) and records the notice as "in invio"; the worker's next loop (`send_due`, run here
in-process right after the answer, as the worker would) writes one message per recipient to the outbox, the
updated invitation attached: to every holder of the event (the confirmed answers) and to every invited entity
that has not answered, whose calendar copy is recorded then. A later notice of the same meeting goes to the same
addresses, all of them holders by then.

It runs on the venue-change meeting (300 confirmed answers, and the admitted entities of area A that have not
answered), after the meeting-form benchmark (`mail.time_venue_changes`) and before the delivery:

* the meeting-form figures are measured on the meeting exactly as seeded, as before this benchmark existed (a
  notice first would make every invited entity a holder, and the meeting form would then notify them all); a
  second meeting with 300 answers would instead take them from the other meetings and change the data every
  other figure is measured on;
* the notice needs nothing the venue changes leave behind but a venue to change from: SEQUENCE and the copies'
  sequences only grow, and the same holders and invited entities remain;
* the worker then delivers the notices' messages as well, as on a real day; the delivery figure compares the
  worker with smtplib on the same messages, so it stays a like-for-like ratio.

First the statements are counted in-process (the Flask test client and the listener of `bench.pages`), one
notice after a warm-up notice of another meeting: the first notice of a meeting (holders plus entities sent the
event for the first time) and then a second one (all of them holders), at 60 entities on the meeting with the
fewest confirmed answers (a handful of holders) and at 600 on the venue-change meeting (300). The same requests
say where the worker's time goes (statements, and the app's main steps, timed around their functions). Then
gunicorn is timed: one untimed notice, NOTICES timed ones alternating two venues, and the first notice of another
meeting, each followed by the worker's step, timed on its own.
"""

from __future__ import annotations

import html
import importlib
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask

from bench.common import Client, Server
from bench.pages import bench_app, counting_statements, dispose, page_csrf, staff_test_client
from bench.seed import Manifest

GOAL_REQUEST_SECONDS = 0.5
#: Notices timed, alternating two venues (each one a real change), after one untimed notice.
NOTICES = 5
AUDIENCE = "meeting_invited"

SUBJECT = re.compile(r'<input[^>]*\bname="subject"[^>]*>')
VALUE = re.compile(r'\bvalue="([^"]*)"')
BODY = re.compile(r'<textarea[^>]*\bname="body"[^>]*>(.*?)</textarea>', re.S)
#: "Imposta la sede e invia a 442 destinatari": the recipients the page resolved.
SEND = re.compile(r'<button[^>]*value="send"[^>]*>[^<]*?(\d[\d.,]*)\s+destinatar')
ERRORS = re.compile(r'class="invalid-feedback[^"]*"[^>]*>([^<]+)<')

#: The app's main steps in a notice, timed around these functions when they exist (module, qualified name,
#: what they do). Each is reported without the statements it ran, which count under "statements".
STEPS = (
    ("scheduler.announcements.services", "recipients_of", "audience: entities, their addresses and answers"),
    ("scheduler.announcements.services", "Renderer.render",
     "text of each message: placeholders (with its sign-in link), Markdown, templates"),
    ("scheduler.ics", "Invitation.for_attendee", "calendar part of each message"),
    ("scheduler.calendar.notifications", "enqueue", "outbox row of each message"),
)


def notice_path(meeting_id: int) -> str:
    return f"/gestione/calendario/incontri/{meeting_id}/comunica-sede"


def notice_form(page: str, venue_id: int) -> tuple[dict[str, str], int]:
    """The form as a browser sends it from the prefilled page, and the number of recipients its button shows."""
    subject_input = SUBJECT.search(page)
    body = BODY.search(page)
    send = SEND.search(page)
    if subject_input is None or body is None or send is None:
        raise RuntimeError("the venue notice page has no prefilled subject, body or send button")
    subject = VALUE.search(subject_input.group(0))
    text = html.unescape(body.group(1))
    # the first line break after <textarea> is not part of the value; a browser sends line breaks as CRLF
    text = text.removeprefix("\r\n").removeprefix("\n").replace("\r\n", "\n").replace("\n", "\r\n")
    form = {"csrf_token": page_csrf(page), "venue_id": str(venue_id), "audience": AUDIENCE,
            "subject": html.unescape(subject.group(1)) if subject else "", "body": text, "action": "send"}
    return form, int(re.sub(r"\D", "", send.group(1)))


def _plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def audience_of(manifest: Manifest, meeting_id: int) -> dict[str, Any]:
    """Who a notice of the meeting is for, counted in the database: the copies of its event held, its confirmed
    answers, the admitted entities of its area without an answer, and those of them not holding the event."""
    with psycopg.connect(_plain_url(manifest.database_url)) as conn:
        venue, holders, yes, silent, new = conn.execute(
            """
            WITH silent AS (
                SELECT DISTINCT a.organization_id FROM applications a
                  JOIN application_areas aa ON aa.application_id = a.id
                  JOIN organizations o ON o.id = a.organization_id
                  JOIN meetings m ON m.id = %(meeting)s JOIN tracks t ON t.id = m.track_id
                 WHERE a.status = 'admitted' AND o.erased_at IS NULL AND aa.area_id = t.area_id
                   AND NOT EXISTS (SELECT 1 FROM rsvps r WHERE r.meeting_id = m.id
                                                          AND r.organization_id = a.organization_id))
            SELECT m.venue_id,
                   (SELECT count(*) FROM calendar_copies c WHERE c.meeting_id = m.id AND c.held),
                   (SELECT count(*) FROM rsvps r WHERE r.meeting_id = m.id AND r.status = 'yes'),
                   (SELECT count(*) FROM silent),
                   (SELECT count(*) FROM silent s WHERE NOT EXISTS (
                        SELECT 1 FROM calendar_copies c WHERE c.meeting_id = m.id AND c.held
                                                          AND c.organization_id = s.organization_id))
              FROM meetings m WHERE m.id = %(meeting)s
            """,
            {"meeting": meeting_id},
        ).fetchone()
    return {"venue": venue, "holders": holders, "yes": yes, "silent": silent, "not_holding": new}


def _pending(manifest: Manifest) -> int:
    with psycopg.connect(_plain_url(manifest.database_url)) as conn:
        return conn.execute("SELECT count(*) FROM outbox_messages WHERE status = 'pending'").fetchone()[0]


def _venues(manifest: Manifest, current: int | None) -> tuple[int, int]:
    """Two venues to alternate, the first not the meeting's current one, so every notice changes the venue."""
    first, second = manifest.venue_change_venue, manifest.venue_change_venue + 1
    return (second, first) if current == first else (first, second)


def _check(status: int, location: str, body: bytes | str) -> None:
    if status != 303 or "/gestione/comunicazioni/" not in location:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        errors = "; ".join(e.strip() for e in ERRORS.findall(text)) or text[:300]
        raise RuntimeError(f"the venue notice answered {status} ({errors})")


@contextmanager
def _timing_steps(app: Flask) -> Iterator[dict[str, float]]:
    """Seconds spent in statements (from execute to result) and in each of STEPS without its statements."""
    from scheduler.extensions import db

    with app.app_context():
        engine = db.engine
    spent: dict[str, float] = {"statements": 0.0}
    in_statements: dict[str, float] = {}
    active: list[str] = []
    restore: list[tuple[Any, str, Any]] = []
    for module_name, qualname, label in STEPS:
        owner_name, _, name = qualname.rpartition(".")
        owner: Any = importlib.import_module(module_name)
        owner = getattr(owner, owner_name, None) if owner_name else owner
        original = getattr(owner, name, None) if owner is not None else None
        if original is None:  # renamed since: the step is left out, and its time stays in "the rest"
            continue

        def timed(*args: Any, _original: Any = original, _label: str = label, **kwargs: Any) -> Any:
            started = time.perf_counter()
            active.append(_label)
            try:
                return _original(*args, **kwargs)
            finally:
                active.pop()
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - started

        restore.append((owner, name, original))
        setattr(owner, name, timed)

    def before(conn: Any, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, *args: Any) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started")
        spent["statements"] += elapsed
        for label in set(active):
            in_statements[label] = in_statements.get(label, 0.0) + elapsed

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield spent
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
        for owner, name, original in restore:
            setattr(owner, name, original)
        for label, seconds in in_statements.items():
            spent[label] -= seconds


def _in_process_notice(manifest: Manifest, app: Flask, client: Any, meeting_id: int, venue: int,
                       count: bool) -> dict[str, Any]:
    path = notice_path(meeting_id)
    page = client.get(f"{path}?sede={venue}")
    if page.status_code != 200:
        raise RuntimeError(f"the venue notice page answered {page.status_code}")
    form, recipients = notice_form(page.get_data(as_text=True), venue)
    audience = audience_of(manifest, meeting_id)
    before = _pending(manifest)
    with counting_statements(app) as statements:
        started = time.perf_counter()
        answer = client.post(path, data=form)
        elapsed = time.perf_counter() - started
    _check(answer.status_code, answer.headers.get("Location", ""), answer.get_data(as_text=True))
    with counting_statements(app) as worker_statements, _timing_steps(app) as spent:
        worker_seconds, _ = write_messages(app)
    if not count:
        return {}
    steps = {label: round(seconds, 3) for label, seconds in spent.items()}
    steps["the rest (ORM bookkeeping, commit)"] = round(worker_seconds - sum(spent.values()), 3)
    return {"entities": manifest.entities, "meeting": meeting_id, **audience, "recipients_shown": recipients,
            "written": _pending(manifest) - before, "statements": len(statements), "seconds": round(elapsed, 3),
            "worker_statements": len(worker_statements), "worker_seconds": round(worker_seconds, 3),
            "steps": steps, "statement_heads": [" ".join(s.split()[:4]) for s in statements]}


def write_messages(app: Flask) -> tuple[float, int]:
    """The worker's step that writes the notices staff sent (`announcements.send_due`), timed; and how many."""
    from scheduler.announcements.services import send_due

    with app.app_context():
        started = time.perf_counter()
        sent = send_due()
        return time.perf_counter() - started, sent


def count_notice_statements(manifest: Manifest, meeting_id: int, warm_up_meeting: int) -> list[dict[str, Any]]:
    """One notice of another meeting (the warm-up: templates, compiled queries), then the first and the second
    notice of `meeting_id`, each counted and timed in-process."""
    app, client = staff_test_client(manifest)
    rows = []
    try:
        warm_up = audience_of(manifest, warm_up_meeting)
        _in_process_notice(manifest, app, client, warm_up_meeting, _venues(manifest, warm_up["venue"])[0],
                           count=False)
        venues = _venues(manifest, audience_of(manifest, meeting_id)["venue"])
        for shape, venue in zip(("first", "again"), venues, strict=True):
            rows.append({"notice": shape, **_in_process_notice(manifest, app, client, meeting_id, venue, True)})
    finally:
        dispose(app)
    return rows


def statements(small: Manifest, main: Manifest) -> dict[str, Any]:
    """At 60 entities on the meeting with the fewest confirmed answers; at 600 on the venue-change meeting."""
    sizes = [count_notice_statements(small, small.spare_meetings[0], small.venue_change_meeting),
             count_notice_statements(main, main.venue_change_meeting, main.spare_meetings[0])]
    rows = [row for size in sizes for row in size]
    constant = all(len({row[key] for row in rows if row["notice"] == shape}) == 1
                   for shape in ("first", "again") for key in ("statements", "worker_statements"))
    return {"rows": rows, "constant": constant}


def _post_timed(client: Client, manifest: Manifest, meeting_id: int, venue: int, app: Flask) -> dict[str, Any]:
    path = notice_path(meeting_id)
    status, _, page = client.get(f"{path}?sede={venue}")
    if status != 200:
        raise RuntimeError(f"the venue notice page answered {status}")
    form, recipients = notice_form(page.decode("utf-8"), venue)
    audience = audience_of(manifest, meeting_id)
    before = _pending(manifest)
    started = time.perf_counter()
    status, headers, body = client.post(path, form)
    elapsed = time.perf_counter() - started
    _check(status, headers.get("Location", ""), body)
    worker_seconds, _ = write_messages(app)
    return {"seconds": round(elapsed, 3), "written": _pending(manifest) - before, "recipients_shown": recipients,
            "worker_seconds": round(worker_seconds, 3),
            "holders": audience["holders"], "not_holding": audience["not_holding"]}


def time_venue_notices(manifest: Manifest) -> dict[str, Any]:
    """Open the prefilled page and send it, NOTICES times alternating two venues, each POST timed on its own;
    then the first notice of another meeting. After each answer the worker's step writes its messages (timed
    apart: staff do not wait for it).

    One gunicorn worker, warmed by one untimed notice first, one request at a time: the goal is about how long
    staff wait after pressing the button, as for the meeting form's venue change.
    """
    meeting = manifest.venue_change_meeting
    audience = audience_of(manifest, meeting)
    venues = _venues(manifest, audience["venue"])
    other = manifest.spare_meetings[-1]
    app = bench_app(manifest)
    try:
        with Server(manifest.database_url, workers=1) as server:
            client = Client(server.base)
            client.login_staff(manifest.staff_email, manifest.staff_password)
            _post_timed(client, manifest, meeting, venues[0], app)
            timed = [_post_timed(client, manifest, meeting, venues[(notice + 1) % 2], app)
                     for notice in range(NOTICES)]
            other_venue = _venues(manifest, audience_of(manifest, other)["venue"])[0]
            first = {"meeting": other, "yes": audience_of(manifest, other)["yes"],
                     **_post_timed(client, manifest, other, other_venue, app)}
    finally:
        dispose(app)
    seconds = [t["seconds"] for t in timed]
    worker = [t["worker_seconds"] for t in timed]
    written = [t["written"] for t in timed]
    every = [*timed, first]
    return {"meeting": meeting, **audience, "audience": AUDIENCE, "notices": NOTICES, "written": written,
            "holders_before": [t["holders"] for t in timed], "recipients_shown": [t["recipients_shown"] for t in timed],
            "seconds": seconds, "median_s": round(statistics.median(seconds), 3), "max_s": max(seconds),
            "worker_seconds": worker, "worker_median_s": round(statistics.median(worker), 3),
            "worker_ms_per_message": round(statistics.median(worker) / max(max(written), 1) * 1000, 2),
            "first_notice": first, "goal_s": GOAL_REQUEST_SECONDS,
            "met": all(t["seconds"] < GOAL_REQUEST_SECONDS and t["written"] == t["recipients_shown"] for t in every)}
