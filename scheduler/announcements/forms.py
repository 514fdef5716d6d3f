"""Forms of the composer, of sending later and of the venue notice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from scheduler.announcements.attachments import SentFile
from scheduler.announcements.audience import AUDIENCE_KINDS, Audience
from scheduler.announcements.services import BODY_MAX, SUBJECT_MAX, Draft
from scheduler.bounds import valid_id, whole_number
from scheduler.calendar.manage_forms import LocalDateField, LocalTimeField, _plausible_year
from scheduler.calendar.models import Meeting, Venue
from scheduler.calls.models import Call, Track
from scheduler.formatting import format_when
from scheduler.forms import MultiCheckboxField
from scheduler.timeutil import local_instant
from scheduler.uploads import read_limited

REQUIRED = _l("Campo obbligatorio.")


def _int_or_none(value: Any) -> int | None:
    """An id from the form, or None when it is not one any row can have."""
    number = whole_number(value) if isinstance(value, str) else value if isinstance(value, int) else None
    return number if valid_id(number) else None


def meeting_label(meeting: Meeting) -> str:
    """The meeting as the composer's list shows it, dated in the language of the page."""
    when = format_when(meeting.starts_at, meeting.ends_at, str(get_locale() or "it"))
    label = f"{meeting.track.area.code} · {meeting.track.name} · {when}"
    return label + (f" ({_('annullato')})" if meeting.is_cancelled else "")


class AnnouncementForm(FlaskForm):
    """Subject, body and audience: enough to preview the message as each recipient will receive it."""

    audience = RadioField(_l("A chi scrivere"), choices=list(AUDIENCE_KINDS.items()), default="admitted",
                          validators=[InputRequired(message=_l("Scegli a chi scrivere."))])
    areas = MultiCheckboxField(_l("Aree"), choices=[])
    meeting_id = SelectField(_l("Incontro"), choices=[], default="", validate_choice=False)
    track_id = SelectField(_l("Percorso"), choices=[], default="", validate_choice=False)
    all_contacts = BooleanField(_l("Scrivi anche al legale rappresentante e all'indirizzo generale dell'ente"))
    attach_invite = BooleanField(_l("Allega l'invito all'incontro (.ics) per il calendario"))
    subject = StringField(_l("Oggetto"), validators=[DataRequired(message=REQUIRED), Length(max=SUBJECT_MAX)])
    body = TextAreaField(_l("Testo"), validators=[DataRequired(message=REQUIRED), Length(max=BODY_MAX)],
                         render_kw={"rows": 14})
    attachments = MultipleFileField(_l("Allega file"))

    def __init__(self, call: Call, meetings: list[Meeting], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas.choices = [(a.code, f"{a.code} – {a.name}") for a in call.areas]
        self.meeting_id.choices = [("", _l("— scegli l'incontro —"))] + [
            (str(m.id), meeting_label(m)) for m in meetings
        ]
        tracks: list[Track] = sorted(call.tracks, key=lambda t: (t.area.code, t.name))
        self.track_id.choices = [("", _l("— scegli il percorso —"))] + [(str(t.id), t.name) for t in tracks]

    @classmethod
    def from_draft(cls, call: Call, meetings: list[Meeting], draft: Draft, **kwargs: Any) -> AnnouncementForm:
        audience = draft.audience
        meeting_id = audience.meeting_id if audience.about_meeting else draft.meeting_id
        return cls(call, meetings, audience=audience.kind, areas=list(audience.areas),
                   meeting_id=str(meeting_id or ""), track_id=str(audience.track_id or ""),
                   all_contacts=audience.all_contacts, attach_invite=draft.attach_invite,
                   subject=draft.subject, body=draft.body, **kwargs)

    def draft(self) -> Draft:
        """What was typed; the meeting is kept whatever the audience, for its placeholders."""
        kind = self.audience.data or ""
        meeting_id = _int_or_none(self.meeting_id.data)
        audience = Audience(
            kind=kind,
            areas=tuple(self.areas.data or ()) if kind == "areas" else (),
            meeting_id=meeting_id if kind.startswith("meeting_") else None,
            track_id=_int_or_none(self.track_id.data) if kind == "facilitators" else None,
            all_contacts=bool(self.all_contacts.data),
        )
        return Draft(subject=self.subject.data or "", body=self.body.data or "", audience=audience,
                     attach_invite=bool(self.attach_invite.data), meeting_id=meeting_id)

    def sent_files(self, max_bytes: int) -> list[SentFile]:
        """The files chosen, each read up to one byte more than `max_bytes` (enough to know it is too large)."""
        return [(upload.filename, read_limited(upload.stream, max_bytes)) for upload in self.attachments.data or []
                if isinstance(upload, FileStorage) and upload.filename]


class ScheduleForm(FlaskForm):
    """When to send: a local day and time in Europe/Rome."""

    day = LocalDateField(_l("Giorno di invio"), validators=[InputRequired(message=REQUIRED), _plausible_year])
    time = LocalTimeField(_l("Ora di invio"), validators=[InputRequired(message=REQUIRED)])

    def when(self) -> datetime:
        return local_instant(self.day.data, self.time.data)


class VenueNoticeForm(FlaskForm):
    """The venue, who is told, and the prefilled message staff may edit before sending."""

    venue_id = SelectField(_l("Sede"), choices=[], validators=[DataRequired(message=_l("Scegli la sede."))])
    audience = RadioField(
        _l("A chi comunicarla"),
        choices=[("meeting_attending", _l("Agli enti che hanno aderito o sono in lista d'attesa")),
                 ("meeting_invited", _l("A tutti gli enti invitati, tranne chi ha declinato"))],
        default="meeting_invited",
        validators=[InputRequired(message=_l("Scegli a chi comunicare la sede."))],
    )
    subject = StringField(_l("Oggetto"), validators=[DataRequired(message=REQUIRED), Length(max=SUBJECT_MAX)])
    body = TextAreaField(_l("Testo"), validators=[DataRequired(message=REQUIRED), Length(max=BODY_MAX)],
                         render_kw={"rows": 14})

    def __init__(self, venues: list[Venue], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.venues = {str(v.id): v for v in venues}
        self.venue_id.choices = [("", _l("— scegli la sede —"))] + [
            (key, venue.location) for key, venue in self.venues.items()
        ]

    def venue(self) -> Venue | None:
        return self.venues.get(self.venue_id.data or "")

    def draft(self, meeting: Meeting) -> Draft:
        return Draft(subject=self.subject.data or "", body=self.body.data or "",
                     audience=Audience(kind=self.audience.data or "", meeting_id=meeting.id), attach_invite=True)
