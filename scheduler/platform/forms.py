"""The form of a new Ambito and of its first office account."""

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


class AmbitoForm(FlaskForm):
    """What an Ambito needs to open: who it is, its office, where its pages answer, who runs it."""

    slug = StringField(_l("Sigla"), filters=[_strip], validators=[DataRequired(_l("Scrivi la sigla.")), _limit("slug")])
    name = StringField(_l("Nome dell'Ambito"), filters=[_strip],
                       validators=[DataRequired(_l("Scrivi il nome dell'Ambito.")), _limit("name")])
    lead_municipality = StringField(_l("Ente capofila"), filters=[_strip], validators=[
        DataRequired(_l("Scrivi l'ente capofila.")), _limit("lead_municipality")])
    ipa_code = StringField(_l("Codice IPA dell'ente capofila"), filters=[_strip],
                           validators=[Optional(), _limit("ipa_code")])
    office_name = StringField(_l("Nome dell'ufficio"), filters=[_strip],
                              validators=[DataRequired(_l("Scrivi il nome dell'ufficio.")), _limit("office_name")])
    office_email = EmailField(_l("E-mail dell'ufficio"), filters=[_strip], validators=[
        DataRequired(_l("Scrivi l'indirizzo e-mail dell'ufficio.")),
        Email(_l("Indirizzo e-mail non valido."), check_deliverability=False), _limit("office_email")])
    host = StringField(_l("Nome host delle sue pagine"), filters=[_strip], validators=[Optional(), _limit("host")])
    staff_name = StringField(_l("Nome e cognome del primo referente dell'ufficio"), filters=[_strip],
                             validators=[Optional(), Length(max=200, message=_l("Il testo è troppo lungo."))])
    staff_email = EmailField(_l("E-mail del primo referente dell'ufficio"), filters=[_strip], validators=[
        DataRequired(_l("Scrivi l'indirizzo e-mail del referente.")),
        Email(_l("Indirizzo e-mail non valido."), check_deliverability=False),
        Length(max=254, message=_l("L'indirizzo e-mail è troppo lungo."))])
