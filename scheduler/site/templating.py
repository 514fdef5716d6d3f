"""What every template can use: the current call, navigation, Italian date filters."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from scheduler import formatting
from scheduler.site.timeline import track_timelines
from scheduler.timeutil import utcnow
from scheduler.web import managing_other_call, page_call, request_ambito

#: Main navigation: (endpoint, label, who sees it). Entries whose endpoint is not registered are skipped.
NAV_ITEMS = [
    ("site.index", _l("Home"), "all"),
    ("calendar.public_calendar", _l("Calendario"), "all"),
    ("registry.public_list", _l("Elenco dei soggetti"), "all"),
    ("registry.apply", _l("Candidatura"), "anonymous"),
    ("registry.my_area", _l("Area riservata"), "entity"),
    ("attendance.my_registers", _l("Registri presenze"), "facilitator"),
    ("site.dashboard", _l("Cruscotto"), "staff"),
    ("site.manage_calls", _l("Avvisi"), "staff"),
    ("registry.review_list", _l("Candidature"), "staff"),
    ("calendar.manage", _l("Gestione calendario"), "staff"),
    ("announcements.index", _l("Comunicazioni"), "staff"),
    ("agreements.index", _l("Accordo"), "staff"),
    ("reports.index", _l("Partecipazione"), "staff"),
    ("mailing.outbox", _l("Posta in uscita"), "staff"),
    ("platform.index", _l("Ambiti"), "platform"),
]


def _locale() -> str:
    return str(get_locale() or "it")


def when(starts_at: datetime, ends_at: datetime) -> str:
    return formatting.format_when(starts_at, ends_at, _locale())


def day(dt: datetime) -> str:
    return formatting.format_day(dt, _locale())


def instant(dt: datetime | None) -> str:
    return formatting.format_instant(dt, _locale()) if dt else ""


def nav_items() -> list[dict]:
    role = current_user.role.value if current_user.is_authenticated else None
    items = []
    for endpoint, label, audience in NAV_ITEMS:
        if endpoint not in current_app.view_functions:
            continue
        if audience == "anonymous":
            if role is not None:
                continue
        elif audience != "all" and role != audience and not (role == "staff" and audience == "facilitator"):
            continue
        items.append(
            # within the call the page is about (/avvisi/<slug>/...), as the header that names it
            {"url": url_for(endpoint), "label": label, "active": request.endpoint == endpoint}
        )
    return items


def register(app: Flask) -> None:
    app.jinja_env.filters["when"] = lambda meeting: when(meeting.starts_at, meeting.ends_at)
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["hours"] = formatting.hours_text
    app.jinja_env.filters["clock"] = lambda dt: formatting.format_clock(dt, _locale())
    app.jinja_env.filters["instant"] = instant
    app.jinja_env.filters["long_date"] = lambda d: formatting.format_long_date(d, _locale())
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals() -> dict:
        return {
            "current_call": page_call(),
            "current_ambito": request_ambito(),
            "managing_other_call": managing_other_call,
            "nav_items": nav_items,
            "current_locale": _locale(),
            "now": formatting_now,
            "has_endpoint": lambda endpoint: endpoint in current_app.view_functions,
            "track_timelines": track_timelines,
        }


def formatting_now() -> datetime:
    return utcnow()
