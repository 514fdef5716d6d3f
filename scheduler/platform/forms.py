"""The forms of an Ambito: a new one with its first office account (the platform's), and its settings (its
office's)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from scheduler.calls.models import Ambito


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _limit(column: str) -> Length:
    return Length(max=Ambito.__table__.c[column].type.length, message=_l("Il testo è troppo lungo."))


def _email(label: str, *, required: str | None = None, column: str) -> EmailField:
    first = DataRequired(required) if required else Optional()
    return EmailField(label, filters=[_strip], validators=[
        first, Email(_l("Indirizzo e-mail non valido."), check_deliverability=False), _limit(column)])


def _text(label: str, column: str, required: str | None = None) -> StringField:
    return StringField(label, filters=[_strip],
                       validators=[DataRequired(required) if required else Optional(), _limit(column)])


class AmbitoSettingsForm(FlaskForm):
    """Who the Ambito is and what its pages and mail say of it: what its own office keeps up to date."""

    name = _text(_l("Nome dell'Ambito"), "name", _l("Scrivi il nome dell'Ambito."))
    lead_municipality = _text(_l("Ente capofila"), "lead_municipality", _l("Scrivi l'ente capofila."))
    ipa_code = _text(_l("Codice IPA dell'ente capofila"), "ipa_code")
    office_name = _text(_l("Nome dell'ufficio"), "office_name", _l("Scrivi il nome dell'ufficio."))
    office_email = _email(_l("E-mail dell'ufficio"), required=_l("Scrivi l'indirizzo e-mail dell'ufficio."),
                          column="office_email")


class AmbitoOfficeForm(AmbitoSettingsForm):
    """All the settings, as the office edits them (the host name and the short name are the platform's)."""

    mail_sender = _email(_l("Mittente delle e-mail"), column="mail_sender")
    privacy_controller = _text(_l("Titolare del trattamento dei dati"), "privacy_controller")
    privacy_dpo_name = _text(_l("Responsabile della protezione dei dati (DPO)"), "privacy_dpo_name")
    privacy_dpo_email = _email(_l("E-mail del DPO"), column="privacy_dpo_email")
    responsible = _text(_l("Responsabile del procedimento"), "responsible")
    heading = _text(_l("Intestazione delle pagine"), "heading")


class AmbitoForm(AmbitoSettingsForm):
    """What an Ambito needs to open: who it is, its office, where its pages answer, who runs it."""

    slug = StringField(_l("Sigla"), filters=[_strip], validators=[DataRequired(_l("Scrivi la sigla.")), _limit("slug")])
    host = StringField(_l("Nome host delle sue pagine"), filters=[_strip], validators=[Optional(), _limit("host")])
    staff_name = StringField(_l("Nome e cognome del primo referente dell'ufficio"), filters=[_strip],
                             validators=[Optional(), Length(max=200, message=_l("Il testo è troppo lungo."))])
    staff_email = EmailField(_l("E-mail del primo referente dell'ufficio"), filters=[_strip], validators=[
        DataRequired(_l("Scrivi l'indirizzo e-mail del referente.")),
        Email(_l("Indirizzo e-mail non valido."), check_deliverability=False),
        Length(max=254, message=_l("L'indirizzo e-mail è troppo lungo."))])
