"""Tavoli: co-programming of the Piano di Zona between an Ufficio di Piano and the Third Sector."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from scheduler.bounds import BoundedIntegerConverter
from scheduler.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from scheduler.logredact import install as redact_request_logs
from scheduler.web import content_security_policy, install_call_addresses

PROJECT_DIR = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; tests pass their own settings instead of editing globals."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TAVOLI_INSTANCE_PATH", str(PROJECT_DIR / "instance")),
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder="static",
    )
    configure(app, test_config)
    trust_proxies(app)
    bound_request_numbers(app)
    register_extensions(app)
    register_blueprints(app)
    install_call_addresses(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind a reverse proxy, take the client's address and scheme from its headers (and only then)."""
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def bound_request_numbers(app: Flask) -> None:
    """A number in a URL, its query string or a form that no database integer can hold is not found (404) or
    not a number, never a database error (see `scheduler.bounds`). Before the blueprints: their rules take the
    `int` converter there is when they are added."""
    app.url_map.converters["int"] = BoundedIntegerConverter


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    from config import CONFIGS, DEV_SECRET_KEY  # reads the environment: only when an app is configured

    name = os.environ.get("TAVOLI_CONFIG", "development")
    if test_config is not None:
        name = test_config.get("CONFIG_NAME", "test")
    if name not in CONFIGS:
        raise RuntimeError(f"TAVOLI_CONFIG must be one of {sorted(CONFIGS)}, not {name!r}")
    app.config.from_object(CONFIGS[name])
    app.config["CONFIG_NAME"] = name
    if test_config is not None:
        app.config.update(test_config)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_DIR / "translations"))
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if name == "production" and app.config["SECRET_KEY"] in (DEV_SECRET_KEY, "", None):
        raise RuntimeError("SECRET_KEY must be set in the environment in production")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # the dev server's request lines (`flask run`, werkzeug) and Flask's own error lines quote paths, which
    # may hold a sign-in or feed token; gunicorn's logs are redacted by deploy/gunicorn.conf.py
    redact_request_logs("werkzeug", app.logger.name)


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Foreign keys on and WAL journal: SQLite enforces neither unless asked, on every connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


class SessionInterface(SecureCookieSessionInterface):
    """Responses a view marked `Cache-Control: public` (feeds, open data) do not depend on the cookie.

    Flask-Login looks at the session after every request, which would add `Vary: Cookie` to them and make
    shared caches keep one copy per visitor.
    """

    def save_session(self, app, session, response) -> None:  # type: ignore[override]
        super().save_session(app, session, response)
        if response.cache_control.public and not session.modified:
            response.vary.discard("Cookie")


def register_extensions(app: Flask) -> None:
    import scheduler.models  # noqa: F401  (complete metadata before the migrate extension reads it)

    app.session_interface = SessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Rome")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Accedi per continuare."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from scheduler.auth.services import ACTING_FOR_KEY, load_user  # the features import this package

    login_manager.user_loader(lambda user_id: load_user(user_id, session.get(ACTING_FOR_KEY)))


def select_locale() -> str:
    """Italian unless the person chose English with the language switch."""
    if request and session.get("lang") in ("it", "en"):
        return session["lang"]
    return "it"


def register_blueprints(app: Flask) -> None:
    # imported here, not at the top: every feature imports this package, which must load first
    from scheduler.agreements import bp as agreements_bp
    from scheduler.announcements import bp as announcements_bp
    from scheduler.attendance import bp as attendance_bp
    from scheduler.auth import bp as auth_bp
    from scheduler.calendar import bp as calendar_bp
    from scheduler.mailing import bp as mailing_bp
    from scheduler.platform import bp as platform_bp
    from scheduler.registry import bp as registry_bp
    from scheduler.reports import bp as reports_bp
    from scheduler.site import bp as site_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(mailing_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(announcements_bp)
    app.register_blueprint(agreements_bp)
    app.register_blueprint(platform_bp)


def register_errorhandlers(app: Flask) -> None:
    from scheduler.site.errors import register  # a feature package: loaded with the app, not with this package

    register(app)


def register_template_helpers(app: Flask) -> None:
    from scheduler.site.templating import register  # a feature package: loaded with the app, not with this package

    register(app)


def register_security_headers(app: Flask) -> None:
    production = app.config["CONFIG_NAME"] == "production"

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        if production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if getattr(g, "private_page", False):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_commands(app: Flask) -> None:
    # imported here, not at the top: every feature imports this package, which must load first
    from scheduler.announcements.cli import announcements_cli
    from scheduler.announcements.services import send_due as send_due_announcements
    from scheduler.auth.cli import users_cli
    from scheduler.calendar.cli import reminders_command
    from scheduler.calendar.reminders import every, send_due
    from scheduler.calendar.replies import read_replies
    from scheduler.calendar.reply_cli import replies_cli
    from scheduler.calls.cli import ambiti_cli, calls_cli
    from scheduler.demo import demo_command
    from scheduler.mailing.cli import worker_command
    from scheduler.mailing.worker import register_periodic

    app.cli.add_command(calls_cli)
    app.cli.add_command(ambiti_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(reminders_command)
    app.cli.add_command(announcements_cli)
    app.cli.add_command(replies_cli)
    # the mail worker runs the reminders every ten minutes, writes the announcements due (venue notices just
    # sent, scheduled ones) on every loop, and reads the calendar replies mailbox every minute (nothing to do
    # without REPLY_IMAP_HOST)
    register_periodic(app, every(600, send_due))
    register_periodic(app, send_due_announcements)
    register_periodic(app, every(60, read_replies))
