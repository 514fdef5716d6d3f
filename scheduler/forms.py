"""Fields and validators that every feature's forms share, so a text box means the same everywhere: trimmed,
without control characters, with an Italian message for a missing or too long value."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from scheduler.textutil import clean_line, clean_multiline

REQUIRED = _l("Campo obbligatorio.")
PHONE = Regexp(r"^\+?[0-9][0-9 ./-]{4,18}[0-9]$", message=_l("Scrivi il numero con le sole cifre, es. 0373 123456."))
#: Dates outside these years are typing mistakes (and years like 9999 or 1 cannot be converted to UTC, nor be a
#: day before or after them).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def strip_text(value: Any) -> Any:
    """Filter of a one-line field: what was typed as it will be stored (`clean_line`), so that the length
    checked is the length stored; other data passes unchanged. Text areas use `strip_lines`."""
    return clean_line(value) if isinstance(value, str) else value


def strip_lines(value: Any) -> Any:
    """Filter of a text area: what was typed as it will be stored, lines kept (`clean_multiline`)."""
    return clean_multiline(value) if isinstance(value, str) else value


def plausible_year(_form: Any, field: DateField) -> None:
    """Validator of a date field: a day of the years the app deals with (see FIRST_YEAR)."""
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Indica una data tra il %(first)d e il %(last)d.", first=FIRST_YEAR,
                                 last=LAST_YEAR))


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes, which people find easier than a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        """A value that is not among the boxes (a forged form): an Italian message, not WTForms' own English one,
        which its Italian catalogue lacks."""
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_l("Scegli tra le voci dell'elenco.")) from None


def text(label: Any, max_length: int, required: bool = True, **kwargs: Any) -> StringField:
    """A one-line text field that fits its column of `max_length` characters."""
    validators = [DataRequired(message=REQUIRED)] if required else [Optional()]
    validators.append(Length(max=max_length, message=_l("Al massimo %(max)d caratteri.", max=max_length)))
    return StringField(label, validators=validators, filters=[strip_text], **kwargs)


def email(label: Any) -> StringField:
    """A required e-mail address; deliverability is not checked (no DNS lookup while a form is posted)."""
    return StringField(label, validators=[
        DataRequired(message=REQUIRED),
        Length(max=254, message=_l("Indirizzo troppo lungo.")),
        Email(message=_l("Indirizzo e-mail non valido."), check_deliverability=False),
    ], filters=[strip_text])


def phone(label: Any, required: bool = False) -> StringField:
    """A telephone number in the forms Italians write it (spaces, dots, slashes, a leading +)."""
    validators = [DataRequired(message=REQUIRED)] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=40), PHONE], filters=[strip_text])
