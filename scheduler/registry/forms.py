"""The application form (public, and the same form staff use for paper applications)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import TextInput

from scheduler.calls.models import Call
from scheduler.forms import REQUIRED, MultiCheckboxField, email, phone, text
from scheduler.registry.labels import LEGAL_FORMS, REGISTERS
from scheduler.registry.models import LegalForm
from scheduler.registry.services import ApplicationData, ContactData, suggest_email
from scheduler.registry.validation import InvalidValue, check_codice_fiscale, check_partita_iva, normalise_website
from scheduler.textutil import clean_multiline
from scheduler.timeutil import ROME, utcnow

#: The address fields of the application form that get a "did you mean...?" hint (`suggest_email`).
EMAIL_FIELDS = ("contact_email", "legal_email")
#: The button of a hint that takes its suggestion and sends the form (its value names the field).
EMAIL_FIX = "email_fix"


class EmailHintInput(TextInput):
    """The address box followed, right under it, by the hint "did you mean...?" with its two answers: take the
    suggestion and send, or keep the address as typed (`templates/registry/apply_email_hint.html`)."""

    def __init__(self, suggestion: str) -> None:
        super().__init__()
        self.suggestion = suggestion

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        hint_id = f"{field.id}-hint"
        described = kwargs.get("aria_describedby")
        kwargs["aria_describedby"] = f"{described} {hint_id}" if described else hint_id
        hint = render_template("registry/apply_email_hint.html", field=field, hint_id=hint_id,
                               suggestion=self.suggestion, fix_name=EMAIL_FIX)
        return super().__call__(field, **kwargs) + Markup(hint)  # noqa: S704 (an autoescaped template)


class AddressCorrectionForm(FlaskForm):
    """The corrected address of an application nobody confirmed yet (the applicant's, or the office's)."""

    email = email(_l("Indirizzo e-mail corretto"))


class ApplicationForm(FlaskForm):
    """Fields common to every call; areas, comuni and phases are filled in from the call."""

    name = text(_l("Denominazione dell'ente"), 300)
    legal_form = SelectField(
        _l("Forma giuridica"),
        choices=[("", _l("Scegli…"))] + [(form.value, label) for form, label in LEGAL_FORMS.items()],
        validators=[InputRequired(message=REQUIRED)],
    )
    codice_fiscale = text(_l("Codice fiscale dell'ente"), 20)
    partita_iva = text(_l("Partita IVA (se diversa dal codice fiscale)"), 20, required=False)
    register = SelectField(
        _l("Registro di iscrizione"),
        choices=[("", _l("Scegli…")), *REGISTERS.items()],
        validators=[InputRequired(message=REQUIRED)],
    )
    register_number = text(_l("Numero di iscrizione (o repertorio)"), 60)
    registered_office = text(_l("Sede legale (indirizzo e comune)"), 300)
    website = text(_l("Sito web"), 300, required=False)
    comuni = MultiCheckboxField(_l("Comuni dell'Ambito in cui l'ente opera"), coerce=int, validate_choice=False)
    #: One box for an entity that works in the whole Ambito: ticked, it stands for every comune of the call,
    #: whatever the boxes of the single comuni say (so it works without JavaScript).
    all_comuni = BooleanField(_l("Tutti i comuni dell'Ambito"))

    legal_name = text(_l("Nome e cognome del legale rappresentante"), 200)
    legal_role = text(_l("Carica"), 120, required=False)
    legal_email = email(_l("E-mail del legale rappresentante"))
    legal_phone = phone(_l("Telefono del legale rappresentante"))

    contact_name = text(_l("Nome e cognome della persona di riferimento"), 200)
    contact_role = text(_l("Ruolo nell'ente"), 120, required=False)
    contact_email = email(_l("E-mail della persona di riferimento"))
    contact_phone = phone(_l("Telefono della persona di riferimento"), required=True)

    areas = MultiCheckboxField(_l("Aree tematiche di interesse"), validate_choice=False)
    phase_drafting = BooleanField(_l("Fase di stesura partecipata del Piano di Zona 2025-2027"))
    phase_implementation = BooleanField(
        _l("Fase di attuazione, monitoraggio e valutazione (tavoli tematici dal gennaio 2025)")
    )
    privacy = BooleanField(
        _l("Ho letto l'informativa sul trattamento dei dati personali (art. 13 GDPR)"),
        validators=[DataRequired(message=_l("Per inviare la candidatura conferma di aver letto l'informativa."))],
    )
    truthful = BooleanField(
        _l("Dichiaro che le informazioni fornite sono veritiere (artt. 46 e 47 del D.P.R. 445/2000) e che "
           "l'ente è un ente del Terzo Settore ai sensi dell'art. 4 c.1 del D.Lgs. 117/2017"),
        validators=[DataRequired(message=_l("Per inviare la candidatura serve questa dichiarazione."))],
    )

    received_on = DateField(_l("Data di ricevimento del modulo cartaceo"), validators=[Optional()])

    def __init__(self, call: Call, late: bool, *args, paper: bool = False, editing: bool = False,
                 competences: dict[str, str] | None = None, **kwargs) -> None:
        self._formdata = None
        super().__init__(*args, **kwargs)
        self.call = call
        self.late = late
        self.comuni.choices = [(c.id, c.name) for c in call.comuni]
        self.all_comuni.label.text = _l("Tutti i %(num)d comuni dell'Ambito", num=len(self.comuni.choices))
        if self.all_comuni.data:
            # every comune, also when the page is shown again for an error elsewhere: all boxes ticked
            self.comuni.data = [value for value, _label in self.comuni.choices]
        self.areas.choices = [(a.code, a.label) for a in call.areas]
        self.area_objects = list(call.areas)
        self.competence_values = {a.code: (competences or {}).get(a.code, "") for a in call.areas}
        self.competence_errors: dict[str, str] = {}
        #: Field name -> the address it probably meant, still waiting for the person (`check_email_hints`).
        self.email_hints: dict[str, str] = {}
        if self._formdata:
            for code in self.competence_values:
                self.competence_values[code] = clean_multiline(self._formdata.get(f"competence_{code}", ""))
        self.paper = paper
        if late:
            # after the deadline only the implementation phase is open: offered already ticked
            del self.phase_drafting
            if not self._formdata and not editing:
                self.phase_implementation.data = True
        if paper or editing:
            # paper: signed on the paper form; editing: given when the entity applied
            self.privacy.validators = [Optional()]
            self.truthful.validators = [Optional()]
        if paper:
            self.received_on.validators = [InputRequired(message=REQUIRED)]
        else:
            del self.received_on

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        self._formdata = formdata = self.meta.wrap_formdata(self, formdata)
        super().process(formdata, obj, data, extra_filters, **kwargs)

    def validate_codice_fiscale(self, field) -> None:
        try:
            field.data = check_codice_fiscale(field.data or "")
        except InvalidValue as exc:
            raise ValidationError(str(exc)) from None

    def validate_partita_iva(self, field) -> None:
        try:
            field.data = check_partita_iva(field.data or "")
        except InvalidValue as exc:
            raise ValidationError(str(exc)) from None

    def validate_website(self, field) -> None:
        try:
            field.data = normalise_website(field.data)
        except InvalidValue as exc:
            raise ValidationError(str(exc)) from None

    def validate_received_on(self, field) -> None:
        if field.data and field.data > utcnow().astimezone(ROME).date():
            raise ValidationError(_l("La data di ricevimento non può essere futura."))

    def validate_comuni(self, field) -> None:
        valid = {choice for choice, _ in field.choices}
        if not field.data:
            raise ValidationError(_l("Scegli almeno uno dei comuni dell'Ambito."))
        if any(value not in valid for value in field.data):
            raise ValidationError(_l("Scegli i comuni solo dall'elenco dei comuni dell'Ambito."))

    def validate_areas(self, field) -> None:
        valid = {choice for choice, _ in field.choices}
        if not field.data:
            raise ValidationError(_l("Scegli almeno un'area tematica."))
        if any(value not in valid for value in field.data):
            raise ValidationError(_l("Area tematica sconosciuta."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.competence_errors = {}
        for code in self.areas.data or []:
            text_value = self.competence_values.get(code, "")
            if not text_value:
                self.competence_errors[code] = str(_l("Descrivi in breve competenze ed esperienza in quest'area."))
            elif len(text_value) > 2000:
                self.competence_errors[code] = str(_l("Al massimo 2000 caratteri."))
        drafting = self.phase_drafting.data if "phase_drafting" in self else False
        if not drafting and not self.phase_implementation.data:
            self.phase_implementation.errors = [*self.phase_implementation.errors, _l("Scegli almeno una fase.")]
            ok = False
        return ok and not self.competence_errors

    def check_email_hints(self) -> bool:
        """After `validate`: whether an address looks mistyped (`gmial.com`) and the person has not answered yet,
        so the form is shown again with the hint next to the field instead of being sent. A warning, not an
        error: the hint's button takes the suggestion (the server works it out again from what was typed), its
        box "the address is right" keeps the address as typed."""
        formdata = self._formdata or {}
        fix = formdata.get(EMAIL_FIX)
        self.email_hints = {}
        for name in EMAIL_FIELDS:
            field = self[name]
            suggestion = suggest_email(field.data)
            if suggestion and fix == name:
                field.data, suggestion = suggestion, None
            if suggestion and formdata.get(f"{name}_ok") != field.data:
                self.email_hints[name] = suggestion
                field.widget = EmailHintInput(suggestion)
        return bool(self.email_hints)

    def to_data(self) -> ApplicationData:
        competences = self.competence_values
        return ApplicationData(
            name=self.name.data,
            legal_form=LegalForm(self.legal_form.data),
            codice_fiscale=self.codice_fiscale.data,
            partita_iva=self.partita_iva.data or None,
            register=self.register.data,
            register_number=self.register_number.data,
            registered_office=self.registered_office.data,
            website=self.website.data or None,
            comune_ids=list(self.comuni.data),
            legal_representative=ContactData(self.legal_name.data, self.legal_role.data or "",
                                             self.legal_email.data, self.legal_phone.data or None),
            contact=ContactData(self.contact_name.data, self.contact_role.data or "", self.contact_email.data,
                                self.contact_phone.data or None),
            areas={code: competences[code] for code in self.areas.data},
            wants_drafting=bool(self.phase_drafting.data) if "phase_drafting" in self else False,
            wants_implementation=bool(self.phase_implementation.data),
        )
