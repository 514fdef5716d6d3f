"""The report's filters (GET, bookmarkable) and the note to the entities absent without notice."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from scheduler.calls.models import Call
from scheduler.forms import plausible_year, strip_lines, strip_text
from scheduler.reports.services import this_year, year_bounds


class ReportFilterForm(FlaskForm):
    """Period, area and comune from the query string (`?dal=2025-01-01&al=2025-12-31&area=B&comune=3`).

    No dates means the current calendar year; `periodo=tutto` means no bounds. A value that cannot be read is
    ignored (with a note on the page), never an error; a date that can be read but is outside the years the
    app deals with is refused next to its field (`has_errors`): a report of the year 9999 is a typing mistake.
    """

    class Meta:
        csrf = False

    dal = DateField(_l("Dal"), validators=[Optional(), plausible_year])
    al = DateField(_l("Al"), validators=[Optional(), plausible_year])
    area = SelectField(_l("Area tematica"), default="")
    comune = SelectField(_l("Comune degli enti"), default="")
    periodo = StringField()

    def __init__(self, call: Call, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area.choices = [("", _l("Tutte"))] + [(a.code, a.label) for a in call.areas]
        self.comune.choices = [("", _l("Tutti"))] + [(str(c.id), c.name) for c in call.comuni]
        self.validate()
        self.ignored: list[str] = []
        for name in ("dal", "al", "area", "comune"):
            out_of_range = name in ("dal", "al") and self[name].data is not None  # read, then refused
            if self[name].errors and not out_of_range:
                self.ignored.append(str(self[name].label.text))
                self[name].data = None if name in ("dal", "al") else ""
                self[name].errors = []
        self.everything = self.periodo.data == "tutto" and not (self.dal.data or self.al.data)
        if self.has_errors:
            return
        if not self.everything and not self.dal.data and not self.al.data:
            self.dal.data, self.al.data = year_bounds(this_year())
        if self.dal.data and self.al.data and self.dal.data > self.al.data:
            self.dal.data, self.al.data = self.al.data, self.dal.data

    @property
    def has_errors(self) -> bool:
        """A date out of range: the page shows the error next to it (status 400) instead of a report."""
        return bool(self.dal.errors or self.al.errors)

    def shown(self, name: str) -> str:
        """What the date box `name` shows: what was typed when it is refused, else the date the report uses."""
        field = self[name]
        if field.errors:
            return " ".join(field.raw_data or ())
        return field.data.isoformat() if field.data else ""

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of `services.participation`."""
        return {
            "date_from": self.dal.data,
            "date_to": self.al.data,
            "area_code": self.area.data or None,
            "comune_id": int(self.comune.data) if self.comune.data else None,
        }

    def args(self, **changes: Any) -> dict[str, Any]:
        """This filter's query string with some values changed, for links and exports."""
        values: dict[str, Any] = {
            "dal": self.dal.data.isoformat() if self.dal.data else None,
            "al": self.al.data.isoformat() if self.al.data else None,
            "periodo": "tutto" if self.everything else None,
            "area": self.area.data, "comune": self.comune.data,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}

    def period_args(self, date_from: date | None, date_to: date | None) -> dict[str, Any]:
        if date_from is None and date_to is None:
            return self.args(dal=None, al=None, periodo="tutto")
        return self.args(dal=date_from.isoformat() if date_from else None,
                         al=date_to.isoformat() if date_to else None, periodo=None)


class AbsentNoticeForm(FlaskForm):
    subject = StringField(
        _l("Oggetto"),
        validators=[DataRequired(message=_l("Scrivi l'oggetto del messaggio.")),
                    Length(max=200, message=_l("Al massimo %(max)d caratteri.", max=200))],
        filters=[strip_text],
    )
    text = TextAreaField(
        _l("Testo"),
        validators=[DataRequired(message=_l("Scrivi il testo del messaggio.")),
                    Length(max=5000, message=_l("Al massimo %(max)d caratteri.", max=5000))],
        filters=[strip_lines],
    )
