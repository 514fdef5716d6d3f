"""Forms of the staff calendar: a meeting, a venue, a track's facilitators, a new facilitator.

Times are typed as people think of them, a local day with a start and an end in Europe/Rome; the form turns them
into UTC instants with `local_instant`, so the rest of the code never sees a wall clock.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from scheduler.calendar.models import Meeting, MeetingMode, Venue
from scheduler.calendar.planning import MeetingPlan, VenueData
from scheduler.calendar.services import ONLINE_URL
from scheduler.calls.models import Call, Comune, Track
from scheduler.forms import REQUIRED, MultiCheckboxField, email, plausible_year, strip_lines, strip_text, text
from scheduler.timeutil import ROME, end_of_day, local_instant

#: More seats than any room has: a bigger number is a typing mistake (and must fit the database integer).
MAX_CAPACITY = 100_000
MAP_URL = re.compile(r"^https?://[^\s/$.?#][^\s<>\"']*$", re.IGNORECASE)
#: The validator's name before it moved to `scheduler.forms`, which `announcements.forms` still imports.
_plausible_year = plausible_year


class LocalTimeField(TimeField):
    """A wall-clock time as browsers send it ("09:30"), or as typed without a time picker ("9.30")."""

    def __init__(self, label: Any, **kwargs: Any) -> None:
        super().__init__(label, format=["%H:%M", "%H.%M", "%H:%M:%S"], **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Indica l'ora come 9:30.")) from error


class LocalDateField(DateField):
    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Indica una data valida.")) from error


class SeatsField(IntegerField):
    """A number of seats: optional, a whole number from 1 up."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Indica un numero intero di posti.")) from error


def _seats_in_range(_form: FlaskForm, field: SeatsField) -> None:
    if field.data is not None and not 1 <= field.data <= MAX_CAPACITY:
        raise ValidationError(_l("Indica un numero di posti tra 1 e %(max)d.", max=MAX_CAPACITY))


def capacity_field(label: Any) -> SeatsField:
    return SeatsField(label, validators=[Optional(), _seats_in_range])


def _local(value: datetime) -> datetime:
    return value.astimezone(ROME)


MODE_CHOICES = [(MeetingMode.IN_PERSON.value, _l("In presenza")), (MeetingMode.ONLINE.value, _l("Online")),
                (MeetingMode.HYBRID.value, _l("In presenza e online"))]


def _online_url(_form: FlaskForm, field: StringField) -> None:
    if field.data and not ONLINE_URL.match(field.data):
        raise ValidationError(_l("Indica un indirizzo web che inizi con https:// (il link della videochiamata)."))


class MeetingForm(FlaskForm):
    """A meeting of a track: day and times (local), venue, seats, deadline for answers, title, notes."""

    day = LocalDateField(_l("Data"), validators=[InputRequired(message=REQUIRED), plausible_year])
    start = LocalTimeField(_l("Inizio"), validators=[InputRequired(message=REQUIRED)])
    end = LocalTimeField(_l("Fine"), validators=[InputRequired(message=REQUIRED)])
    title = text(_l("Titolo (facoltativo)"), 300, required=False)
    venue = SelectField(_l("Sede"), default="")
    capacity = capacity_field(_l("Posti disponibili (facoltativo)"))
    seats_per_entity = SeatsField(_l("Persone per ente, al massimo (facoltativo)"),
                                  validators=[Optional(), _seats_in_range])
    deadline_day = LocalDateField(_l("Termine per le adesioni: giorno"), validators=[Optional(), plausible_year])
    deadline_time = LocalTimeField(_l("Termine per le adesioni: ora"), validators=[Optional()])
    notes = TextAreaField(_l("Note per lo staff"), validators=[Optional(), Length(max=5000)], filters=[strip_lines])
    agenda = TextAreaField(_l("Ordine del giorno"), validators=[Optional(), Length(max=10000)], filters=[strip_lines])
    mode = SelectField(_l("Modalità di partecipazione"), choices=MODE_CHOICES, default=MeetingMode.IN_PERSON.value)
    online_url = StringField(_l("Collegamento per partecipare online"),
                             validators=[Optional(), Length(max=500), _online_url], filters=[strip_text])

    def __init__(self, venues: list[Venue], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.venues = {str(v.id): v for v in venues}
        self.venue.choices = [("", _l("Sede da definire"))] + [
            (key, venue.location) for key, venue in self.venues.items()
        ]

    @classmethod
    def for_track(cls, venues: list[Venue], track: Track, **kwargs: Any) -> MeetingForm:
        """An empty form with the track's usual slot and venue, so staff only pick the day."""
        form = cls(venues, **kwargs)
        if not form.is_submitted():
            form.start.data = track.slot_start
            form.end.data = track.slot_end
            form.venue.data = str(track.venue_id) if track.venue_id else ""
        return form

    @classmethod
    def for_meeting(cls, venues: list[Venue], meeting: Meeting, **kwargs: Any) -> MeetingForm:
        """The form filled with the meeting as it is now, in local time."""
        starts, ends = _local(meeting.starts_at), _local(meeting.ends_at)
        deadline = _local(meeting.rsvp_deadline) if meeting.rsvp_deadline else None
        return cls(
            venues, day=starts.date(), start=starts.time(), end=ends.time(), title=meeting.title,
            venue=str(meeting.venue_id) if meeting.venue_id else "", capacity=meeting.capacity,
            seats_per_entity=meeting.seats_per_entity,
            deadline_day=deadline.date() if deadline else None, deadline_time=deadline.time() if deadline else None,
            notes=meeting.notes, agenda=meeting.agenda, mode=meeting.mode.value, online_url=meeting.online_url,
            **kwargs,
        )

    def validate_deadline_time(self, field: TimeField) -> None:
        if field.data and not self.deadline_day.data and not self.deadline_day.errors:
            raise ValidationError(_l("Indica anche il giorno del termine."))

    def starts_at(self) -> datetime:
        return local_instant(self.day.data, self.start.data)

    def ends_at(self) -> datetime:
        """The end on the same day: a meeting never runs past midnight."""
        return local_instant(self.day.data, self.end.data)

    def rsvp_deadline(self) -> datetime | None:
        """The deadline typed; a day without a time means the whole of that day ("entro il 10 maggio")."""
        day: date | None = self.deadline_day.data
        if day is None:
            return None
        at: time | None = self.deadline_time.data
        return local_instant(day, at) if at else end_of_day(day)

    def plan(self) -> MeetingPlan:
        return MeetingPlan(
            starts_at=self.starts_at(), ends_at=self.ends_at(), venue=self.venues.get(self.venue.data or ""),
            title=self.title.data or None, capacity=self.capacity.data, rsvp_deadline=self.rsvp_deadline(),
            notes=self.notes.data or "", agenda=self.agenda.data or "", mode=MeetingMode(self.mode.data),
            online_url=self.online_url.data or None, seats_per_entity=self.seats_per_entity.data,
        )

    def field_for(self, name: str | None) -> Any:
        """The field where a service's error belongs (`CalendarError.field`), or None for the whole form."""
        return {
            "starts_at": self.day, "ends_at": self.end, "rsvp_deadline": self.deadline_day,
            "capacity": self.capacity, "venue": self.venue, "title": self.title, "online_url": self.online_url,
            "seats_per_entity": self.seats_per_entity,
        }.get(name or "")


def _map_url(_form: FlaskForm, field: StringField) -> None:
    if field.data and not MAP_URL.match(field.data):
        raise ValidationError(_l("Indica un indirizzo web che inizi con https:// (ad esempio il link della mappa)."))


class VenueForm(FlaskForm):
    """A place where meetings are held; everything typed is kept as plain text."""

    name = text(_l("Nome della sede"), 200)
    address = text(_l("Indirizzo"), 300)
    comune = SelectField(_l("Comune"), default="")
    room = text(_l("Sala"), 120, required=False)
    accessibility_notes = TextAreaField(
        _l("Accessibilità"), validators=[Optional(), Length(max=2000)], filters=[strip_lines],
        description=_l("Ad esempio: ingresso senza gradini, ascensore, servizi igienici accessibili."),
    )
    map_url = StringField(_l("Link alla mappa"), validators=[Optional(), Length(max=500), _map_url],
                          filters=[strip_text])
    capacity = capacity_field(_l("Posti nella sala (facoltativo)"))

    def __init__(self, call: Call, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comuni: dict[str, Comune] = {str(c.id): c for c in call.comuni}
        self.comune.choices = [("", _l("Non indicato"))] + [(key, c.name) for key, c in self.comuni.items()]

    @classmethod
    def for_venue(cls, call: Call, venue: Venue, **kwargs: Any) -> VenueForm:
        return cls(
            call, name=venue.name, address=venue.address, comune=str(venue.comune_id) if venue.comune_id else "",
            room=venue.room, accessibility_notes=venue.accessibility_notes, map_url=venue.map_url,
            capacity=venue.capacity, **kwargs,
        )

    def data_for_service(self) -> VenueData:
        return VenueData(
            name=self.name.data, address=self.address.data, comune=self.comuni.get(self.comune.data or ""),
            room=self.room.data or None, accessibility_notes=self.accessibility_notes.data or "",
            map_url=self.map_url.data or None, capacity=self.capacity.data,
        )


class FacilitatorsForm(FlaskForm):
    """Which facilitator accounts take attendance for the track."""

    facilitators = MultiCheckboxField(_l("Facilitatori del percorso"), coerce=int)

    def __init__(self, choices: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.facilitators.choices = choices


class NewFacilitatorForm(FlaskForm):
    """A facilitator account: the password is generated and shown once to staff."""

    email = email(_l("E-mail del facilitatore"))
    full_name = StringField(
        _l("Nome e cognome"),
        validators=[DataRequired(message=REQUIRED), Length(max=200, message=_l("Al massimo 200 caratteri."))],
        filters=[strip_text],
    )
