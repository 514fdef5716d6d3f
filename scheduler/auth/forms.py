"""Sign-in forms. Every field has a maximum length, so oversized input is a form error, not a crash."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, PasswordField
from wtforms.validators import DataRequired, Email, Length, StopValidation

from scheduler.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

EMAIL_MAX = 254


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class MaxLength(Length):
    """Length that stops the chain: later validators (and the password hash) never see a huge value."""

    def __init__(self, max: int, message: str | None = None) -> None:
        super().__init__(max=max, message=message)

    def __call__(self, form, field) -> None:
        if field.data and len(field.data) > self.max:
            raise StopValidation(self.message or f"Al massimo {self.max} caratteri.")


def _own_address(*checks) -> EmailField:
    """The address a member of staff or a facilitator signs in with, with any `checks` after the length."""
    return EmailField(
        _l("Indirizzo e-mail"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Scrivi il tuo indirizzo e-mail.")),
            MaxLength(EMAIL_MAX, _l("L'indirizzo e-mail è troppo lungo.")),
            *checks,
        ],
    )


class PasswordLoginForm(FlaskForm):
    """Staff and facilitators. The address is not checked for format: a wrong one just fails to sign in."""

    email = _own_address()
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Scrivi la password.")),
            MaxLength(MAX_PASSWORD_LENGTH, _l("La password è troppo lunga.")),
        ],
    )
    #: Where to go after signing in; checked by safe_next_path, never trusted.
    next = HiddenField()


class LinkRequestForm(FlaskForm):
    """Entities: only the address; the link arrives by e-mail. Ids differ from the password form's."""

    email = EmailField(
        _l("Indirizzo e-mail dell'ente o del referente"),
        id="link-email",
        filters=[_strip],
        validators=[
            DataRequired(_l("Scrivi l'indirizzo e-mail con cui l'ente è registrato.")),
            MaxLength(EMAIL_MAX, _l("L'indirizzo e-mail è troppo lungo.")),
            Email(_l("Scrivi un indirizzo e-mail valido, per esempio nome@dominio.it.")),
        ],
    )
    next = HiddenField(id="link-next")


class EntityChoiceForm(FlaskForm):
    """Which of the account's entities this session acts for: the chooser's buttons carry the entity's id."""

    organization = IntegerField(validators=[DataRequired()])
    next = HiddenField()


class PasswordResetRequestForm(FlaskForm):
    """Staff and facilitators who forgot the password: only the address; the link arrives by e-mail."""

    email = _own_address(Email(_l("Scrivi un indirizzo e-mail valido, per esempio nome@dominio.it.")))


class NewPasswordForm(FlaskForm):
    """The new password, twice; its rules (length) and the match are the service's (auth.reset_password)."""

    password = PasswordField(
        _l("Nuova password"),
        id="new-password",
        description=_l("Almeno %(n)d caratteri.", n=MIN_PASSWORD_LENGTH),
        validators=[
            DataRequired(_l("Scrivi la nuova password.")),
            MaxLength(MAX_PASSWORD_LENGTH, _l("La password è troppo lunga.")),
        ],
    )
    confirmation = PasswordField(
        _l("Ripeti la nuova password"),
        id="new-password-confirmation",
        validators=[
            DataRequired(_l("Scrivi di nuovo la nuova password.")),
            MaxLength(MAX_PASSWORD_LENGTH, _l("La password è troppo lunga.")),
        ],
    )
