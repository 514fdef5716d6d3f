"""Sign-in rules: passwords for staff and facilitators, one-time links by e-mail for entities.

No request or session globals here: the views and the CLI call these functions, turn the domain errors into
messages, and commit. Functions that write leave the commit to the caller, so a sign-in link and the e-mail
that carries it land in the same transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from babel.dates import format_time
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.auth.models import LoginToken, Role, User
from scheduler.calls.services import current_call
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_day
from scheduler.links import public_url
from scheduler.mailing.models import OutboxMessage
from scheduler.mailing.services import enqueue, render_mail
from scheduler.timeutil import ROME, utcnow

log = logging.getLogger(__name__)

#: Roles that sign in with a password; entities never have one.
PASSWORD_ROLES = frozenset({Role.STAFF, Role.FACILITATOR})
MIN_PASSWORD_LENGTH = 12
#: Longer passwords are refused: hashing megabytes would be a cheap way to load the server.
MAX_PASSWORD_LENGTH = 200
#: Links asked for one address in an hour beyond which further requests are silently dropped (mail bombing).
MAX_LINK_REQUESTS_PER_HOUR = 5
#: Raw tokens are 43 characters (32 bytes, base64url); anything much longer is not ours.
MAX_TOKEN_LENGTH = 100
LOGIN_LINK_PATH = "/accedi/link/"
LOGIN_LINK_TOPIC = "login-link"


class AuthError(DomainError):
    """A sign-in or account rule was broken; the text is Italian and safe to show (each kind has its own)."""

    message = "Operazione non riuscita."

    def __init__(self, message: str | None = None, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message or type(self).message, field, code)


class InvalidCredentials(AuthError):
    message = "E-mail o password non corretti."


class AccountInactive(InvalidCredentials):
    """Right password, but the account was switched off: only someone who knows the password learns it."""

    message = "Il tuo account è disattivato. Contatta l'Ufficio di Piano."


class LinkInvalid(AuthError):
    message = "Il collegamento per accedere non è valido."


class LinkExpired(LinkInvalid):
    message = "Il collegamento è scaduto."


class LinkUsed(LinkInvalid):
    message = "Questo collegamento è già stato usato."


class InvalidEmail(AuthError):
    message = "L'indirizzo e-mail non è valido."


class UserExists(AuthError):
    message = "Esiste già un utente con questo indirizzo e-mail."
    default_code = "conflict"


class PasswordTooShort(AuthError):
    message = f"La password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri."


class PasswordTooLong(AuthError):
    message = f"La password può avere al massimo {MAX_PASSWORD_LENGTH} caratteri."


class InvalidRole(AuthError):
    message = "Il ruolo deve essere personale (staff) o facilitatore (facilitator)."


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, so old sessions stop working."""
    try:
        raw_id, version = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or str(user.session_version) != version or not user.active:
        return None
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


# --- passwords -------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check against when nobody has the address, so that case costs the same time."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User:
    """The staff member or facilitator with this e-mail and password; records the sign-in time.

    Raises InvalidCredentials with one message whatever was wrong, so the answer does not tell which
    addresses exist; AccountInactive only after a right password.
    """
    user = find_user(email) if len(email) <= 254 else None
    if user is None or user.role not in PASSWORD_ROLES or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        raise InvalidCredentials()
    if not check_password_hash(user.password_hash, password):
        raise InvalidCredentials()
    if not user.active:
        raise AccountInactive()
    user.last_login_at = utcnow()
    return user


def normalize_email(email: str) -> str:
    """The address as stored (lower case), or InvalidEmail; deliverability is not checked (no DNS)."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail() from exc
    return result.normalized.lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort()
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordTooLong()


def generate_password() -> str:
    """24 random URL-safe characters (144 bits): strong, and easy to copy from a terminal."""
    return secrets.token_urlsafe(18)


def create_staff(
    email: str, role: Role = Role.STAFF, password: str | None = None, full_name: str = ""
) -> tuple[User, str | None]:
    """A new staff member or facilitator; returns the user and the generated password, if one was made.

    The caller commits.
    """
    if role not in PASSWORD_ROLES:
        raise InvalidRole()
    address = normalize_email(email)
    if find_user(address) is not None:
        raise UserExists()
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password_rules(password)
    user = User(
        email=address,
        role=role,
        full_name=full_name.strip()[:200],
        password_hash=generate_password_hash(password),
    )
    db.session.add(user)
    db.session.flush()
    log.info("created user id=%s role=%s", user.id, role.value)
    return user, generated


def set_password(user: User, password: str | None = None) -> str | None:
    """Change a password (generated when None, and returned); signs the user out everywhere else."""
    if user.role not in PASSWORD_ROLES:
        raise InvalidRole()
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    logout_everywhere(user)
    log.info("password changed for user id=%s", user.id)
    return generated


def logout_everywhere(user: User) -> None:
    """Invalidate every session of the user (the session id carries the version, see load_user) and every
    sign-in link not yet used: signing out also closes the doors left in the mailbox."""
    user.session_version = (user.session_version or 1) + 1
    void_login_links(user)


def void_login_links(user: User, now: datetime | None = None) -> None:
    """Every unused sign-in link of the user stops working (one was used, the user signed out, or the address
    is no longer the entity's)."""
    if user.id is None:
        return
    db.session.execute(
        sa.update(LoginToken).where(LoginToken.user_id == user.id, LoginToken.used_at.is_(None))
        .values(used_at=now or utcnow()).execution_options(synchronize_session=False)
    )


def retire_entity_account(user: User) -> None:
    """An address no longer the entity's (the contact was replaced): its account stops working at once, its
    sessions and links with it. Kept, not deleted: the entity's history names who answered."""
    if user.role is not Role.ENTITY:
        return
    user.active = False
    logout_everywhere(user)
    log.info("entity account id=%s retired: its address is no longer the entity's", user.id)


# --- one-time links --------------------------------------------------------------------------------------


def hash_token(raw_token: str) -> str:
    """Only this is stored: a database leak gives no usable links."""
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


def safe_next_path(target: str | None) -> str | None:
    """A local path to go to after signing in, or None: never another site (open redirect)."""
    if not target or len(target) > 300 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    return target


def login_link_url(raw_token: str) -> str:
    """The absolute link for e-mails: BASE_URL, so it works from the worker and the CLI too."""
    return public_url(LOGIN_LINK_PATH + raw_token)


def issue_login_token(user: User, next_path: str | None = None, ttl: timedelta | None = None) -> str:
    """A new one-time sign-in token for the user (raw, to put in a link); the caller commits.

    Only entity accounts sign in by link: staff and facilitators always need their password, so a link that
    reaches their address (named as a delegate, forwarded) opens nothing. `ttl` defaults to LOGIN_TOKEN_TTL.
    """
    if user.role is not Role.ENTITY:
        raise LinkInvalid()
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        LoginToken(
            user_id=user.id,
            token_hash=hash_token(raw),
            next_path=safe_next_path(next_path),
            created_at=now,
            expires_at=now + (ttl or current_app.config["LOGIN_TOKEN_TTL"]),
        )
    )
    return raw


def _italian_expiry(moment: datetime) -> str:
    """'10:45 di mercoledì 15 maggio 2024', in the call's zone."""
    return f"{format_time(moment, 'H:mm', tzinfo=ROME, locale='it')} di {format_day(moment, 'it')}"


def request_login_link(email: str, next_path: str | None = None) -> None:
    """E-mail a sign-in link if an active entity user has this address; otherwise do nothing.

    The caller answers the same either way and commits. Beyond MAX_LINK_REQUESTS_PER_HOUR sign-in e-mails to
    one address in an hour, requests are dropped, so nobody can flood an inbox from many machines (links
    that other features put in their own e-mails do not count).
    """
    user = find_user(email) if len(email) <= 254 else None
    if user is None or user.role is not Role.ENTITY or not user.active:
        return
    now = utcnow()
    recent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.to_address == user.email,
            OutboxMessage.topic == LOGIN_LINK_TOPIC,
            OutboxMessage.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= MAX_LINK_REQUESTS_PER_HOUR:
        log.warning("sign-in link requests over the hourly limit for user id=%s", user.id)
        return
    ttl: timedelta = current_app.config["LOGIN_TOKEN_TTL"]
    raw = issue_login_token(user, next_path, ttl)
    context = {
        "call": current_call(),
        "user": user,
        "link": login_link_url(raw),
        "minutes": int(ttl.total_seconds() // 60),
        "expires": _italian_expiry(now + ttl),
    }
    text, html = render_mail("login_link", **context)
    enqueue(
        to=user.email,
        to_name=user.full_name,
        subject=gettext("Il tuo collegamento per accedere"),
        text=text,
        html=html,
        topic=LOGIN_LINK_TOPIC,
    )


def _find_token(raw_token: str) -> LoginToken:
    if not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
        raise LinkInvalid()
    token = db.session.scalar(sa.select(LoginToken).where(LoginToken.token_hash == hash_token(raw_token)))
    if token is None:
        raise LinkInvalid()
    return token


def _check_token(token: LoginToken, now: datetime) -> None:
    if token.used_at is not None:
        raise LinkUsed()
    if token.expires_at <= now:
        raise LinkExpired()
    if not token.user.active or token.user.role is not Role.ENTITY:
        raise LinkInvalid()


def peek_login_link(raw_token: str) -> LoginToken:
    """Check a link without using it (the page a mail scanner may prefetch); raises like consume."""
    token = _find_token(raw_token)
    _check_token(token, utcnow())
    return token


def consume_login_link(raw_token: str) -> tuple[User, str | None]:
    """Use a link once: the user to sign in and where to go next. The caller commits.

    The token is marked used by a conditional UPDATE, so of two simultaneous clicks only one signs in
    (on PostgreSQL the second waits for the first's row lock, then finds used_at set).
    """
    token = _find_token(raw_token)
    now = utcnow()
    _check_token(token, now)
    result = db.session.execute(
        sa.update(LoginToken)
        .where(LoginToken.id == token.id, LoginToken.used_at.is_(None), LoginToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LinkUsed()
    db.session.refresh(token)
    user = token.user
    user.last_login_at = now
    void_login_links(user, now)  # the user's other links, older or newer, are void once one is used
    return user, token.next_path
