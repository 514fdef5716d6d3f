"""Sign-in pages: thin over scheduler.auth.services."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from scheduler.auth import bp
from scheduler.auth import services as auth
from scheduler.auth.forms import (
    EntityChoiceForm,
    LinkRequestForm,
    NewPasswordForm,
    PasswordLoginForm,
    PasswordResetRequestForm,
)
from scheduler.auth.landing import after_sign_in, landing_path
from scheduler.auth.models import Role, User
from scheduler.extensions import db, limiter
from scheduler.web import put_error, request_ambito


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _fresh_session() -> None:
    """A new session at every sign-in and sign-out (no fixation), keeping only the language chosen."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _sign_in(user: User, organization_id: int | None = None) -> None:
    _fresh_session()
    login_user(user)
    if organization_id is not None:
        session[auth.ACTING_FOR_KEY] = organization_id


def _login_page(
    password_form: PasswordLoginForm | None = None,
    link_form: LinkRequestForm | None = None,
    *,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The page with both ways in; the form not being sent is built empty (not from this request)."""
    next_path = auth.safe_next_path(request.values.get("next")) or ""
    password_form = password_form or PasswordLoginForm(formdata=None)
    link_form = link_form or LinkRequestForm(formdata=None)
    password_form.next.data = next_path
    link_form.next.data = next_path
    g.private_page = True
    html = render_template("auth/login.html", password_form=password_form, link_form=link_form, error=error)
    return html, status


@bp.route("/accedi", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _login_page()
    form = PasswordLoginForm()
    if not form.validate():
        return _login_page(form, status=400)
    try:
        user = auth.authenticate(form.email.data, form.password.data, request_ambito())
    except auth.AccountInactive:
        message = _("Il tuo account è disattivato. Contatta l'Ufficio di Piano.")
        return _login_page(form, error=message, status=403)
    except auth.InvalidCredentials:
        return _login_page(form, error=_("E-mail o password non corretti."), status=401)
    db.session.commit()
    _sign_in(user)
    flash(_("Accesso effettuato."), "success")
    return redirect(after_sign_in(user, form.next.data))


@bp.post("/accedi/link")
@limiter.limit(_login_rate_limit, methods=["POST"])
def request_link() -> tuple[str, int]:
    form = LinkRequestForm()
    if not form.validate():
        return _login_page(link_form=form, status=400)
    auth.request_login_link(form.email.data, auth.safe_next_path(form.next.data), request_ambito())
    db.session.commit()
    g.private_page = True
    minutes = int(current_app.config["LOGIN_TOKEN_TTL"].total_seconds() // 60)
    return render_template("auth/link_sent.html", minutes=minutes), 200


def _link_error(error: auth.LinkInvalid) -> tuple[str, int]:
    if isinstance(error, auth.LinkUsed):
        message = _("Questo collegamento è già stato usato. Chiedine uno nuovo.")
    elif isinstance(error, auth.LinkExpired):
        message = _("Il collegamento è scaduto. Chiedine uno nuovo.")
    else:
        message = _(
            "Il collegamento non è valido. Controlla di averlo copiato per intero, oppure chiedine uno nuovo."
        )
    g.private_page = True
    return render_template("auth/link_error.html", message=message), 400


@bp.get("/accedi/link/<token>")
def link(token: str) -> tuple[str, int]:
    """Only a button: mail scanners that open links must not use up the token."""
    try:
        auth.peek_login_link(token)
    except auth.LinkInvalid as error:
        return _link_error(error)
    g.private_page = True
    return render_template("auth/link_confirm.html", token=token), 200


@bp.post("/accedi/link/<token>")
def use_link(token: str) -> Response | tuple[str, int]:
    try:
        signed = auth.consume_login_link(token)
    except auth.LinkInvalid as error:
        db.session.rollback()
        return _link_error(error)
    db.session.commit()
    _sign_in(signed.user, signed.organization_id)
    flash(_("Accesso effettuato."), "success")
    return redirect(after_sign_in(signed.user, signed.next_path))


def _reset_minutes() -> int:
    return int(current_app.config["PASSWORD_RESET_TTL"].total_seconds() // 60)


@bp.route("/accedi/password-dimenticata", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def forgot_password() -> tuple[str, int]:
    """Ask for a link to choose a new password: the same answer whether or not the address has an account."""
    g.private_page = True
    form = PasswordResetRequestForm()
    if request.method == "GET":
        return render_template("auth/forgot_password.html", form=form), 200
    if not form.validate():
        return render_template("auth/forgot_password.html", form=form), 400
    auth.request_password_reset(form.email.data)
    db.session.commit()
    return render_template("auth/password_reset_sent.html", minutes=_reset_minutes()), 200


def _reset_link_error(error: auth.LinkInvalid) -> tuple[str, int]:
    if isinstance(error, auth.LinkUsed):
        message = _("Questo collegamento non vale più: è già stato usato, oppure il tuo account è cambiato dopo "
                    "che l'hai chiesto. Chiedine uno nuovo.")
    elif isinstance(error, auth.LinkExpired):
        message = _("Il collegamento è scaduto: vale %(minutes)d minuti. Chiedine uno nuovo.",
                    minutes=_reset_minutes())
    else:
        message = _(
            "Il collegamento non è valido. Controlla di averlo copiato per intero, oppure chiedine uno nuovo."
        )
    g.private_page = True
    return render_template("auth/password_reset_error.html", message=message), 400


def _new_password_page(form: NewPasswordForm, user: User, token: str, status: int) -> tuple[str, int]:
    g.private_page = True
    return render_template("auth/reset_password.html", form=form, user=user, token=token), status


@bp.route("/accedi/password/<token>", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def reset_password(token: str) -> Response | tuple[str, int]:
    """The form for the new password. GET changes nothing (mail scanners open links); a POST sets it, which
    voids the link, and signs the user in."""
    try:
        user = auth.peek_password_reset(token)
    except auth.LinkInvalid as error:
        return _reset_link_error(error)
    form = NewPasswordForm()
    if request.method == "GET":
        return _new_password_page(form, user, token, 200)
    if not form.validate():
        return _new_password_page(form, user, token, 400)
    try:
        user = auth.reset_password(token, form.password.data, form.confirmation.data)
    except auth.LinkInvalid as error:
        db.session.rollback()
        return _reset_link_error(error)
    except auth.AuthError as error:
        db.session.rollback()
        put_error(form, error)
        return _new_password_page(form, user, token, error.status)
    db.session.commit()
    _sign_in(user)
    flash(_("Password cambiata."), "success")
    return redirect(after_sign_in(user, None))


@bp.route("/accedi/ente", methods=["GET", "POST"])
@login_required
def choose_entity() -> Response | tuple[str, int]:
    """The account's entities, to choose which one this session acts for (the header's "Cambia ente")."""
    g.private_page = True
    if current_user.role is not Role.ENTITY:
        abort(403)
    form = EntityChoiceForm()
    next_path = auth.safe_next_path(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/choose_entity.html", form=form, next_path=next_path or ""), 200
    if not form.validate():
        return render_template("auth/choose_entity.html", form=form, next_path=next_path or "",
                               error=_("Scegli uno degli enti elencati.")), 400
    try:
        chosen = auth.choose_entity(current_user, form.organization.data)
    except auth.NotYourEntity as error:
        return render_template("auth/choose_entity.html", form=form, next_path=next_path or "",
                               error=_("Questo ente non è tra quelli per cui puoi operare.")), error.status
    session[auth.ACTING_FOR_KEY] = chosen
    # a page still open for the other entity must not post for this one: its forms' token stops working
    session.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    flash(_("Ora operi per %(name)s.", name=current_user.acting_for.name), "success")
    return redirect(next_path or landing_path(current_user))


@bp.post("/esci")
def logout() -> Response:
    if current_user.is_authenticated:
        # Sessions live in the signed cookie: raising the account's session version is what makes a copied
        # cookie useless after sign-out (it also signs out the account's other devices).
        auth.logout_everywhere(current_user)
        db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("Sei uscito."), "success")
    return redirect(url_for("site.index"))
