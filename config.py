"""Configuration classes. Every secret and every URL comes from the environment.

`create_app()` picks a class from `TAVOLI_CONFIG` (development, test, production) unless a test passes its
own mapping. Production refuses to start with the development secret key.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("TAVOLI_INSTANCE_PATH", BASE_DIR / "instance"))

#: The key used when none is configured: fine on a laptop, refused in production.
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'tavoli.sqlite3'}"


class BaseConfig:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    #: Public base URL used in e-mails, invites and feeds (links must work outside a request).
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")

    # Mail: real SMTP when MAIL_SERVER is set, otherwise .eml files under MAIL_FILE_DIR.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Ufficio di Piano <noreply@tavoli.localhost>")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "20"))
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_DIR / "mail"))
    #: Seconds between delivery attempts: attempt n waits MAIL_RETRY_BASE * 2**(n-1), capped.
    MAIL_RETRY_BASE = int(os.environ.get("MAIL_RETRY_BASE", "60"))
    MAIL_RETRY_MAX_DELAY = int(os.environ.get("MAIL_RETRY_MAX_DELAY", "3600"))
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))

    # Calendar replies: the mailbox of the invitations' ORGANIZER, read by the worker (off without a host).
    REPLY_IMAP_HOST = os.environ.get("REPLY_IMAP_HOST") or None
    REPLY_IMAP_SSL = _bool("REPLY_IMAP_SSL", True)
    REPLY_IMAP_STARTTLS = _bool("REPLY_IMAP_STARTTLS", False)
    #: Unset: 993 with SSL, 143 otherwise (with or without STARTTLS).
    REPLY_IMAP_PORT = int(os.environ["REPLY_IMAP_PORT"]) if os.environ.get("REPLY_IMAP_PORT") else None
    REPLY_IMAP_USER = os.environ.get("REPLY_IMAP_USER") or None
    REPLY_IMAP_PASSWORD = os.environ.get("REPLY_IMAP_PASSWORD") or None
    REPLY_IMAP_FOLDER = os.environ.get("REPLY_IMAP_FOLDER") or "INBOX"
    #: Seconds the IMAP server is given to answer each command.
    REPLY_IMAP_TIMEOUT = float(os.environ.get("REPLY_IMAP_TIMEOUT", "30"))

    # Sign-in
    LOGIN_TOKEN_TTL = timedelta(minutes=30)
    PASSWORD_RESET_TTL = timedelta(minutes=30)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session: no expired forms after lunch

    # Rate limits (Flask-Limiter): memory by default, Redis when RATELIMIT_STORAGE_URI is set.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    #: Applications accepted from one client address (only accepted ones count; a form sent back with errors
    #: does not), so a script cannot make the office write confirmation e-mails to any number of addresses.
    APPLY_RATE_LIMIT = os.environ.get("APPLY_RATE_LIMIT", "10 per hour;30 per day")
    #: How many reverse proxies stand in front of the app: their X-Forwarded-For/-Proto/-Host are trusted,
    #: so rate limits count each visitor and not the proxy. 0 when the app is reached directly.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))

    # Babel
    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    LANGUAGES = ("it", "en")

    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(10 * 1024 * 1024)))
    #: Where the app serves Bootstrap Italia from (installed by npm, never a CDN).
    ASSETS_DIR = os.environ.get("ASSETS_DIR", str(BASE_DIR / "node_modules" / "bootstrap-italia" / "dist"))
    #: Seconds a web process reuses the validators of a public feed before asking the database again (its
    #: answers allow caches 300 seconds anyway); private feeds are checked on every request. 0: always ask.
    FEED_STAMP_TTL = float(os.environ.get("FEED_STAMP_TTL", "10"))

    TESTING = False
    DEBUG = False


class DevelopmentConfig(BaseConfig):
    DEBUG = _bool("FLASK_DEBUG", False)


class TestConfig(BaseConfig):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    MAIL_SERVER = None
    REPLY_IMAP_HOST = None
    RATELIMIT_STORAGE_URI = "memory://"
    BASE_URL = "http://tavoli.test"
    SERVER_NAME = None
    FEED_STAMP_TTL = 0.0


class ProductionConfig(BaseConfig):
    #: Values never appear in logged SQL errors (they may hold addresses or names).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "https")
    #: Production runs behind one TLS reverse proxy (see README); set 0 if clients reach gunicorn directly.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "1"))


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
