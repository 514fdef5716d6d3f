"""Forms of the Accordo: staff's (the Accordo, the annulment of an adhesion) and the entity's adhesion."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, DateField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from scheduler.agreements import services
from scheduler.agreements.models import Agreement
from scheduler.bounds import whole_number
from scheduler.forms import REQUIRED, MultiCheckboxField, plausible_year, strip_lines, text
from scheduler.registry.models import Organization
from scheduler.uploads import read_limited


class LocalDateField(DateField):
    """A calendar day as browsers send it, with an Italian message when it cannot be read."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Indica una data valida.")) from error


def sent_file(field: FileField, max_bytes: int) -> services.SentFile | None:
    """The file of an upload field as the services take it (at most one byte more than the limit), or None."""
    upload = field.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    return upload.filename, read_limited(upload.stream, max_bytes)


class AgreementForm(FlaskForm):
    """The Accordo: title, description, deadline, its PDF and (while a draft) the entities asked."""

    title = text(_l("Titolo"), services.TITLE_MAX)
    description = TextAreaField(_l("Descrizione (facoltativa)"), filters=[strip_lines], render_kw={"rows": 5},
                                validators=[Optional(), Length(max=services.DESCRIPTION_MAX)])
    closes_on = LocalDateField(_l("Termine per aderire (compreso)"),
                               validators=[InputRequired(message=REQUIRED), plausible_year])
    document = FileField(_l("Testo dell'Accordo (PDF)"))
    organizations = MultiCheckboxField(_l("Enti a cui chiedere l'adesione"), choices=[], validate_choice=False)

    def __init__(self, entities: list[Organization], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organizations.choices = [(str(o.id), o.name) for o in entities]

    @classmethod
    def for_agreement(cls, entities: list[Organization], agreement: Agreement, **kwargs: Any) -> AgreementForm:
        return cls(entities, title=agreement.title, description=agreement.description,
                   closes_on=agreement.closes_on,
                   organizations=[str(i.organization_id) for i in agreement.invitations], **kwargs)

    def data_for(self, *, with_organizations: bool) -> services.AgreementData:
        ids = [n for n in (whole_number(v) for v in self.organizations.data or []) if n is not None]
        return services.AgreementData(title=self.title.data or "", description=self.description.data or "",
                                      closes_on=self.closes_on.data,
                                      organization_ids=ids if with_organizations else None)


class AdhesionForm(FlaskForm):
    """The adhesion: the legal representative pre-filled and confirmed, the declaration, the signed PDF."""

    signatory_name = text(_l("Nome e cognome del legale rappresentante"), services.NAME_MAX,
                          render_kw={"autocomplete": "name"})
    signatory_role = text(_l("Ruolo"), services.ROLE_MAX, render_kw={"autocomplete": "organization-title"})
    signed_copy = FileField(_l("Adesione firmata (PDF, facoltativa)"))
    declaration = BooleanField(_l("Dichiaro di aderire all'Accordo di Programma"),
                               validators=[DataRequired(message=_l("Per aderire conferma la dichiarazione."))])

    def __init__(self, agreement: Agreement, organization: Organization, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.declaration.label.text = _(
            "Dichiaro di aderire all'Accordo di Programma «%(title)s» a nome di «%(entity)s», come legale "
            "rappresentante o con il suo consenso.", title=agreement.title, entity=organization.name)


class AnnulForm(FlaskForm):
    """Why staff annul an adhesion: the entity reads it."""

    reason = TextAreaField(_l("Motivo dell'annullamento"), filters=[strip_lines], render_kw={"rows": 4},
                           validators=[DataRequired(message=REQUIRED), Length(max=services.REASON_MAX)])
