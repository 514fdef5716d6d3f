"""Sign-in rules: passwords for staff and facilitators, one-time links by e-mail for entities.

No request or session globals here: the views and the CLI call these functions, turn the domain errors into
messages, and commit. Functions that write leave the commit to the caller, so a sign-in link and the e-mail
that carries it land in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa
from babel.dates import format_time
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.auth.models import LoginToken, Role, User, organization_members
from scheduler.calls.ambiti import default_ambito
from scheduler.calls.models import Ambito
from scheduler.calls.services import current_call
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.formatting import format_day
from scheduler.links import public_url
from scheduler.mailing.models import OutboxMessage
from scheduler.mailing.services import enqueue, render_mail
from scheduler.timeutil import ROME, utcnow

if TYPE_CHECKING:
    from scheduler.registry.models import Organization

log = logging.getLogger(__name__)

#: Roles that sign in with a password; entities never have one.
PASSWORD_ROLES = frozenset({Role.STAFF, Role.FACILITATOR, Role.PLATFORM})
MIN_PASSWORD_LENGTH = 12
#: Longer passwords are refused: hashing megabytes would be a cheap way to load the server.
MAX_PASSWORD_LENGTH = 200
#: Links asked for one address in an hour beyond which further requests are silently dropped (mail bombing).
MAX_LINK_REQUESTS_PER_HOUR = 5
#: Raw tokens are 43 characters (32 bytes, base64url); anything much longer is not ours.
MAX_TOKEN_LENGTH = 100
LOGIN_LINK_PATH = "/accedi/link/"
LOGIN_LINK_TOPIC = "login-link"
#: Links to choose a new password (staff and facilitators): signed, not stored (see issue_password_reset_token).
PASSWORD_RESET_PATH = "/accedi/password/"  # noqa: S105 (not a password)
PASSWORD_RESET_TOPIC = "password-reset"  # noqa: S105 (not a password)
PASSWORD_RESET_SALT = "password-reset"  # noqa: S105 (not a password)
#: A signed reset token is about 80 characters; anything much longer is not ours.
MAX_RESET_TOKEN_LENGTH = 200
#: Where a session keeps the entity it acts for (an id; checked against the account's entities at every load).
ACTING_FOR_KEY = "acting_for"


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


class PasswordMismatch(AuthError):
    message = "Le due password non coincidono."


class InvalidRole(AuthError):
    message = "Il ruolo deve essere personale (staff), facilitatore (facilitator) o piattaforma (platform)."


class NoAmbito(AuthError):
    message = "Non c'è ancora un Ambito: carica un avviso o crea un Ambito (flask ambiti create) prima del personale."


def load_user(user_id: str, acting_for: object = None) -> User | None:
    """Flask-Login's loader: the id carries the session version, so old sessions stop working.

    `acting_for` is the entity the session chose (`choose_entity`); it counts only while the account still speaks
    for it. An account of one entity acts for that one; one of several acts for none until it chooses."""
    try:
        raw_id, version = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or str(user.session_version) != version or not user.active:
        return None
    if user.role is Role.ENTITY:
        ids = [o.id for o in user.organizations]
        user.acting_for_id = acting_for if acting_for in ids else (ids[0] if len(ids) == 1 else None)
    return user


# --- the entities an account speaks for ------------------------------------------------------------------


class NotYourEntity(AuthError):
    message = "Questo ente non è tra quelli per cui puoi operare."

    def __init__(self) -> None:
        super().__init__(code="not_found")


def choose_entity(user: User, organization_id: int | None) -> int:
    """The entity `user` will act for: one of its own, or NotYourEntity (another's id is not a way in).
    The caller keeps the choice in the session."""
    if user.role is not Role.ENTITY or organization_id not in {o.id for o in user.organizations}:
        raise NotYourEntity()
    user.acting_for_id = organization_id
    return organization_id


def entity_account(organization_id: int, email: str) -> User | None:
    """The active account with this address that speaks for the entity, if any."""
    return db.session.scalar(
        sa.select(User).join(organization_members, organization_members.c.user_id == User.id).where(
            organization_members.c.organization_id == organization_id, User.email == email.strip().lower(),
            User.role == Role.ENTITY, User.active.is_(True)))


def join_entity(user: User, organization: Organization) -> None:
    """The account now speaks for `organization` too (its address was named as one of the entity's)."""
    if organization not in user.organizations:
        user.organizations.append(organization)
    if not user.active:  # retired when it stopped being another entity's: this entity names it again
        user.active = True
        log.info("entity account id=%s active again: named by another entity", user.id)


def leave_entity(user: User, organization: Organization, *, keep: bool) -> None:
    """The account no longer speaks for `organization`: its sessions acting for it lose it at their next page,
    its links sent for it stop working. Left with no entity, the account is retired (`keep`: the entity's history
    names who answered) or deleted; one that still speaks for others keeps working for them."""
    if organization in user.organizations:
        user.organizations.remove(organization)
    if user.id is not None:
        db.session.execute(
            sa.update(LoginToken).where(LoginToken.user_id == user.id, LoginToken.organization_id == organization.id,
                                        LoginToken.used_at.is_(None))
            .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if user.organizations:
        return
    if keep:
        retire_entity_account(user)
    else:
        void_login_links(user)
        db.session.delete(user)


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


# --- passwords -------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check against when nobody has the address, so that case costs the same time."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str, ambito: Ambito | None = None) -> User:
    """The staff member or facilitator of `ambito` (by default the default Ambito) with this e-mail and password,
    or an administrator of the installation (on any host); records the sign-in time.

    Raises InvalidCredentials with one message whatever was wrong (another Ambito's account included), so the
    answer does not tell which addresses exist; AccountInactive only after a right password.
    """
    user = find_user(email) if len(email) <= 254 else None
    if user is None or user.role not in PASSWORD_ROLES or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        raise InvalidCredentials()
    if not check_password_hash(user.password_hash, password):
        raise InvalidCredentials()
    ambito = ambito or default_ambito()
    if user.role is not Role.PLATFORM and (ambito is None or user.ambito_id != ambito.id):
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
    email: str, role: Role = Role.STAFF, password: str | None = None, full_name: str = "",
    ambito: Ambito | None = None,
) -> tuple[User, str | None]:
    """A new staff member or facilitator of `ambito` (by default the installation's default Ambito), or an
    administrator of the installation (of no Ambito); returns the user and the generated password, if one was
    made.

    The caller commits.
    """
    if role not in PASSWORD_ROLES:
        raise InvalidRole()
    if role is Role.PLATFORM:
        ambito = None  # the installation's, of no Ambito
    else:
        ambito = ambito or default_ambito()
        if ambito is None:
            raise NoAmbito()
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
        ambito=ambito,
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
    """An address no longer any entity's (the contact was replaced): its account stops working at once, its
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


def login_link_url(raw_token: str, ambito: Ambito | None = None) -> str:
    """The absolute link for e-mails: BASE_URL (or the host name of `ambito`), so it works from the worker and the
    CLI too."""
    return public_url(LOGIN_LINK_PATH + raw_token, ambito)


def issue_login_token(user: User, next_path: str | None = None, ttl: timedelta | None = None,
                      organization: Organization | None = None) -> str:
    """A new one-time sign-in token for the user (raw, to put in a link); the caller commits.

    Only entity accounts sign in by link: staff and facilitators always need their password, so a link that
    reaches their address (named as a delegate, forwarded) opens nothing. `ttl` defaults to LOGIN_TOKEN_TTL.
    `organization`: the entity the link is sent for, which the session then acts for.
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
            organization_id=organization.id if organization is not None else None,
            created_at=now,
            expires_at=now + (ttl or current_app.config["LOGIN_TOKEN_TTL"]),
        )
    )
    return raw


def _italian_expiry(moment: datetime) -> str:
    """'10:45 di mercoledì 15 maggio 2024', in the call's zone."""
    return f"{format_time(moment, 'H:mm', tzinfo=ROME, locale='it')} di {format_day(moment, 'it')}"


def _sent_last_hour(address: str, topic: str, now: datetime) -> int:
    """How many messages of this kind the outbox took for the address in the last hour (the per-address cap of
    the links people ask for, so nobody can flood an inbox from many machines)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.to_address == address, OutboxMessage.topic == topic,
            OutboxMessage.created_at > now - timedelta(hours=1)))


def request_login_link(email: str, next_path: str | None = None, ambito: Ambito | None = None) -> None:
    """E-mail a sign-in link if an active entity user has this address; otherwise do nothing.

    The caller answers the same either way and commits. Beyond MAX_LINK_REQUESTS_PER_HOUR sign-in e-mails to
    one address in an hour, requests are dropped, so nobody can flood an inbox from many machines (links
    that other features put in their own e-mails do not count). The link opens the pages of `ambito`, the one
    it was asked from.
    """
    user = find_user(email) if len(email) <= 254 else None
    if user is None or user.role is not Role.ENTITY or not user.active:
        return
    now = utcnow()
    recent = _sent_last_hour(user.email, LOGIN_LINK_TOPIC, now)
    if recent >= MAX_LINK_REQUESTS_PER_HOUR:
        log.warning("sign-in link requests over the hourly limit for user id=%s", user.id)
        return
    ttl: timedelta = current_app.config["LOGIN_TOKEN_TTL"]
    raw = issue_login_token(user, next_path, ttl)
    context = {
        "call": current_call(ambito=ambito),
        "user": user,
        "link": login_link_url(raw, ambito),
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
        ambito=ambito or default_ambito(),
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


class SignIn(NamedTuple):
    """What a used link gives: who signs in, where to go next, the entity to act for (None: to be chosen)."""

    user: User
    next_path: str | None
    organization_id: int | None


def consume_login_link(raw_token: str) -> SignIn:
    """Use a link once: the user to sign in, where to go next and for which entity. The caller commits.

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
    organization_id = token.organization_id if token.organization_id in {o.id for o in user.organizations} else None
    return SignIn(user, token.next_path, organization_id)


# --- choosing a new password by e-mail ---------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    """Signs reset links with the app's key; the salt keeps them apart from every other signed value."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PASSWORD_RESET_SALT)


def _account_fingerprint(user: User) -> str:
    """A digest of what changes when the password is set, the sessions are closed or the user signs in: a reset
    link carries it, so once any of these happens (the link was used, for one) the link no longer works."""
    last_login = user.last_login_at.astimezone(UTC).isoformat() if user.last_login_at else ""
    state = "\x1f".join((user.email, user.password_hash or "", str(user.session_version or 1), last_login))
    return hashlib.sha256(state.encode("utf-8")).hexdigest()[:32]


def issue_password_reset_token(user: User) -> str:
    """A signed token naming the user and the account's present state: nothing is stored (no table), the
    signature and PASSWORD_RESET_TTL make it expire, the fingerprint makes it work once."""
    return _reset_serializer().dumps([user.id, _account_fingerprint(user)])


def password_reset_url(raw_token: str, ambito: Ambito | None = None) -> str:
    """The absolute link for the e-mail (BASE_URL, or the host name of the account's Ambito: where it signs in),
    as for sign-in links."""
    return public_url(PASSWORD_RESET_PATH + raw_token, ambito)


def request_password_reset(email: str) -> None:
    """E-mail a link to choose a new password if an active staff member or facilitator has this address.

    The caller answers the same either way and commits. An unknown address, an entity's (entities sign in by
    link) or a retired account costs the same look-ups and rendering, and writes nothing. Beyond
    MAX_LINK_REQUESTS_PER_HOUR reset e-mails to one address in an hour, requests are dropped (mail bombing).
    """
    address = email.strip().lower() if len(email) <= 254 else ""
    user = find_user(address) if address else None
    if user is not None and (user.role not in PASSWORD_ROLES or not user.active):
        user = None
    now = utcnow()
    recent = _sent_last_hour(user.email if user is not None else address, PASSWORD_RESET_TOPIC, now)
    ttl: timedelta = current_app.config["PASSWORD_RESET_TTL"]
    raw = issue_password_reset_token(user) if user is not None else _reset_serializer().dumps([0, "0" * 32])
    ambito = user.ambito if user is not None else None
    context = {
        "call": current_call(ambito=ambito),
        "full_name": user.full_name if user is not None else "",
        "link": password_reset_url(raw, ambito),
        "minutes": int(ttl.total_seconds() // 60),
        "expires": _italian_expiry(now + ttl),
    }
    text, html = render_mail("password_reset", **context)
    if user is None:
        return
    if recent >= MAX_LINK_REQUESTS_PER_HOUR:
        log.warning("password reset requests over the hourly limit for user id=%s", user.id)
        return
    enqueue(
        to=user.email,
        to_name=user.full_name,
        subject=gettext("Scegli una nuova password"),
        text=text,
        html=html,
        topic=PASSWORD_RESET_TOPIC,
        ambito=ambito,
    )
    log.info("password reset link sent to user id=%s", user.id)


def invite_staff(user: User) -> None:
    """E-mail a new office account the link to choose its password: whoever opened the account never reads one.
    The link is the password-reset one, on the account's Ambito's host; once it expires, "Password dimenticata"
    sends another. The caller commits."""
    ttl: timedelta = current_app.config["PASSWORD_RESET_TTL"]
    ambito = user.ambito
    text, html = render_mail(
        "staff_welcome", full_name=user.full_name, ambito=ambito,
        link=password_reset_url(issue_password_reset_token(user), ambito),
        forgot_url=public_url("/accedi/password-dimenticata", ambito), minutes=int(ttl.total_seconds() // 60),
        expires=_italian_expiry(utcnow() + ttl))
    enqueue(to=user.email, to_name=user.full_name, subject=gettext("Il tuo accesso ai Tavoli del Piano di Zona"),
            text=text, html=html, topic=PASSWORD_RESET_TOPIC, ambito=ambito)
    log.info("welcome sent to user id=%s", user.id)


def _reset_account(raw_token: str, *, lock: bool = False) -> User:
    """The account a reset link is for, or LinkInvalid / LinkExpired / LinkUsed (the account changed since).

    `lock`: read the account FOR UPDATE, so that of two simultaneous uses the second waits for the first and
    then finds the password changed."""
    if not raw_token or len(raw_token) > MAX_RESET_TOKEN_LENGTH:
        raise LinkInvalid()
    ttl: timedelta = current_app.config["PASSWORD_RESET_TTL"]
    try:
        user_id, fingerprint = _reset_serializer().loads(raw_token, max_age=ttl.total_seconds())
    except SignatureExpired as error:  # raised only once the signature is known to be ours
        raise LinkExpired() from error
    except (BadData, ValueError, TypeError) as error:
        raise LinkInvalid() from error
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(fingerprint, str):
        raise LinkInvalid()
    if lock:
        user = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    else:
        user = db.session.get(User, user_id)
    if user is None or user.role not in PASSWORD_ROLES or not user.active:
        raise LinkInvalid()
    if not hmac.compare_digest(fingerprint, _account_fingerprint(user)):
        raise LinkUsed()
    return user


def peek_password_reset(raw_token: str) -> User:
    """Check a reset link without changing anything (mail scanners open links); raises like reset_password."""
    return _reset_account(raw_token)


def reset_password(raw_token: str, password: str, confirmation: str) -> User:
    """Set the password a reset link's owner chose; returns the user, to be signed in. The caller commits.

    The link is checked again (it may have been used since the form was shown); the rules are those of every
    password (PasswordTooShort, PasswordTooLong on `password`; PasswordMismatch on `confirmation`). Setting it
    signs every session out and voids the link."""
    user = _reset_account(raw_token, lock=True)
    try:
        check_password_rules(password)
    except AuthError as error:
        error.field = "password"
        raise
    if password != confirmation:
        raise PasswordMismatch(field="confirmation")
    set_password(user, password)
    user.last_login_at = utcnow()
    return user
