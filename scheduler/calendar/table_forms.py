"""Forms of the tables staff manage: a table, a series of meetings, a cancellation's reason, a restoration."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from scheduler.calendar.manage_forms import LocalDateField, LocalTimeField, capacity_field
from scheduler.calendar.models import DocumentVisibility, Meeting, Venue
from scheduler.calendar.tables import Frequency, SeriesPlan, TableData, week_of_month
from scheduler.calls.models import Area, Call, Phase, Track
from scheduler.formatting import format_day
from scheduler.forms import REQUIRED, MultiCheckboxField, plausible_year, strip_lines, text
from scheduler.timeutil import ROME, local_instant

PHASE_CHOICES = [(Phase.DRAFTING.value, _l("Fase di stesura del Piano")),
                 (Phase.IMPLEMENTATION.value, _l("Fase di attuazione (tavoli tematici del triennio)"))]
FREQUENCY_CHOICES = [(Frequency.WEEKLY.value, _l("Ogni settimana")),
                     (Frequency.FORTNIGHTLY.value, _l("Ogni due settimane")),
                     (Frequency.MONTHLY.value, _l("Una volta al mese, nella stessa settimana del mese"))]


class TableForm(FlaskForm):
    """A table of the call: name, its area or areas, phase, description, usual slot and venue, facilitators."""

    name = text(_l("Nome del tavolo"), 300)
    areas = MultiCheckboxField(_l("Aree tematiche"), validate_choice=False)
    phase = RadioField(_l("Fase"), choices=PHASE_CHOICES, default=Phase.IMPLEMENTATION.value,
                       validators=[InputRequired(message=REQUIRED)])
    description = TextAreaField(_l("Descrizione (facoltativa)"), validators=[Optional(), Length(max=5000)],
                                filters=[strip_lines])
    slot_start = LocalTimeField(_l("Orario abituale: inizio"), validators=[Optional()])
    slot_end = LocalTimeField(_l("Orario abituale: fine"), validators=[Optional()])
    venue = SelectField(_l("Sede abituale"), default="", validate_choice=False)
    facilitators = MultiCheckboxField(_l("Facilitatori"), coerce=int)

    def __init__(self, call: Call, venues: list[Venue], people: list[tuple[int, str]], *args: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call_areas: dict[str, Area] = {str(a.id): a for a in call.areas}
        self.areas.choices = [(key, a.label) for key, a in self.call_areas.items()]
        self.venues = {str(v.id): v for v in venues}
        self.venue.choices = [("", _l("Da definire"))] + [(key, v.location) for key, v in self.venues.items()]
        self.facilitators.choices = people

    @classmethod
    def for_track(cls, call: Call, venues: list[Venue], people: list[tuple[int, str]], track: Track,
                  **kwargs: Any) -> TableForm:
        return cls(call, venues, people, name=track.name, areas=[str(i) for i in sorted(track.area_ids)],
                   phase=track.phase.value,
                   description=track.description, slot_start=track.slot_start, slot_end=track.slot_end,
                   venue=str(track.venue_id) if track.venue_id else "",
                   facilitators=[u.id for u in track.facilitators], **kwargs)

    def validate_areas(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_("Scegli almeno un'area: gli enti ammessi per quell'area partecipano al tavolo."))
        if any(key not in self.call_areas for key in field.data):
            raise ValidationError(_("Scegli le aree dall'elenco."))

    def validate_venue(self, field: SelectField) -> None:
        if field.data and field.data not in self.venues:
            raise ValidationError(_("Scegli la sede dall'elenco."))

    def table_data(self) -> TableData:
        return TableData(
            name=self.name.data, areas=[self.call_areas[key] for key in self.areas.data],
            phase=Phase(self.phase.data),
            description=self.description.data or "", slot_start=self.slot_start.data, slot_end=self.slot_end.data,
            venue=self.venues.get(self.venue.data or ""), facilitator_ids=set(self.facilitators.data or []),
        )

    def field_for(self, name: str | None) -> Any:
        return {"name": self.name, "areas": self.areas, "venue": self.venue, "slot_end": self.slot_end,
                "slot_start": self.slot_start, "facilitators": self.facilitators}.get(name or "")


class SeriesForm(FlaskForm):
    """A series of meetings: from a first day to a last, how often, at which time; the venue for all of them."""

    first_day = LocalDateField(_l("Primo incontro"), validators=[InputRequired(message=REQUIRED), plausible_year])
    last_day = LocalDateField(_l("Fino al giorno"), validators=[InputRequired(message=REQUIRED), plausible_year])
    frequency = RadioField(_l("Ogni quanto"), choices=FREQUENCY_CHOICES, default=Frequency.WEEKLY.value,
                           validators=[InputRequired(message=REQUIRED)])
    start = LocalTimeField(_l("Inizio"), validators=[InputRequired(message=REQUIRED)])
    end = LocalTimeField(_l("Fine"), validators=[InputRequired(message=REQUIRED)])
    venue = SelectField(_l("Sede"), default="", validate_choice=False)
    capacity = capacity_field(_l("Posti disponibili (facoltativo)"))

    def __init__(self, venues: list[Venue], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.venues = {str(v.id): v for v in venues}
        self.venue.choices = [("", _l("Sede da definire"))] + [(key, v.location) for key, v in self.venues.items()]

    @classmethod
    def for_track(cls, venues: list[Venue], track: Track, **kwargs: Any) -> SeriesForm:
        """Empty, with the table's usual slot and venue."""
        form = cls(venues, **kwargs)
        if not form.is_submitted():
            form.start.data = track.slot_start
            form.end.data = track.slot_end
            form.venue.data = str(track.venue_id) if track.venue_id else ""
        return form

    def validate_venue(self, field: SelectField) -> None:
        if field.data and field.data not in self.venues:
            raise ValidationError(_("Scegli la sede dall'elenco."))

    def plan(self) -> SeriesPlan:
        return SeriesPlan(first_day=self.first_day.data, last_day=self.last_day.data,
                          frequency=Frequency(self.frequency.data), start=self.start.data, end=self.end.data,
                          venue=self.venues.get(self.venue.data or ""), capacity=self.capacity.data)

    def field_for(self, name: str | None) -> Any:
        return {"first_day": self.first_day, "last_day": self.last_day, "end": self.end, "start": self.start,
                "capacity": self.capacity}.get(name or "")


#: "il secondo martedì", "l'ultima domenica": the ordinal agrees with the weekday (domenica is feminine).
_MONTHLY_RULES = {
    (1, False): _l("il primo %(weekday)s del mese"), (1, True): _l("la prima %(weekday)s del mese"),
    (2, False): _l("il secondo %(weekday)s del mese"), (2, True): _l("la seconda %(weekday)s del mese"),
    (3, False): _l("il terzo %(weekday)s del mese"), (3, True): _l("la terza %(weekday)s del mese"),
    (4, False): _l("il quarto %(weekday)s del mese"), (4, True): _l("la quarta %(weekday)s del mese"),
    (-1, False): _l("l'ultimo %(weekday)s del mese"), (-1, True): _l("l'ultima %(weekday)s del mese"),
}


def describe_rule(plan: SeriesPlan) -> str:
    """The series' rule in words for the preview ("ogni secondo martedì del mese")."""
    weekday = format_day(local_instant(plan.first_day, plan.start, ROME), str(get_locale() or "it")).split(" ")[0]
    if plan.frequency is Frequency.WEEKLY:
        return _("ogni %(weekday)s", weekday=weekday)
    if plan.frequency is Frequency.FORTNIGHTLY:
        return _("ogni due settimane, di %(weekday)s", weekday=weekday)
    sunday = plan.first_day.weekday() == 6
    return str(_MONTHLY_RULES[week_of_month(plan.first_day), sunday]) % {"weekday": weekday}


class CancelForm(FlaskForm):
    """Why the meeting is cancelled: the entities read it in the cancellation and on the meeting's page."""

    reason = TextAreaField(_l("Motivo dell'annullamento"),
                           validators=[DataRequired(message=_l("Indica il motivo: gli enti lo leggeranno "
                                                               "nell'annullamento.")),
                                       Length(max=1000, message=_l("Al massimo %(max)d caratteri.", max=1000))],
                           filters=[strip_lines])


class RestoreForm(FlaskForm):
    """A cancelled meeting back in the calendar, on its day or on a new one."""

    # ids of their own: the form shares its page with the meeting's, which has a start and an end too
    day = LocalDateField(_l("Data"), validators=[InputRequired(message=REQUIRED), plausible_year], id="restore-day")
    start = LocalTimeField(_l("Inizio"), validators=[InputRequired(message=REQUIRED)], id="restore-start")
    end = LocalTimeField(_l("Fine"), validators=[InputRequired(message=REQUIRED)], id="restore-end")

    @classmethod
    def for_meeting(cls, meeting: Meeting, **kwargs: Any) -> RestoreForm:
        starts, ends = meeting.starts_at.astimezone(ROME), meeting.ends_at.astimezone(ROME)
        return cls(day=starts.date(), start=starts.time(), end=ends.time(), **kwargs)

    def times(self) -> tuple[datetime, datetime]:
        day: date = self.day.data
        start: time = self.start.data
        end: time = self.end.data
        return local_instant(day, start), local_instant(day, end)

    def field_for(self, name: str | None) -> Any:
        return {"starts_at": self.day, "ends_at": self.end, "rsvp_deadline": self.day}.get(name or "")


class DocumentForm(FlaskForm):
    """A document of a meeting: its title, the file, who reads it."""

    title = text(_l("Titolo del documento"), 200, id="document-title")  # the meeting's form has a title too
    document = FileField(_l("File (PDF, PNG o JPEG)"))
    visibility = RadioField(_l("Chi lo vede"), default=DocumentVisibility.PUBLIC.value, id="document-visibility",
                            choices=[
        (DocumentVisibility.PUBLIC.value, _l("Tutti: è pubblicato sulla pagina dell'incontro")),
        (DocumentVisibility.ADMITTED.value, _l("Solo gli enti ammessi all'avviso (e l'Ufficio di Piano)")),
    ], validators=[InputRequired(message=REQUIRED)])

    def field_for(self, name: str | None) -> Any:
        return {"title": self.title, "document": self.document}.get(name or "", self.document)
