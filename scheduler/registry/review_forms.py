"""Forms of the staff review: the list's filters (GET) and the decisions that need a text."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from scheduler.calls.models import Call
from scheduler.forms import strip_lines, strip_text
from scheduler.registry import review
from scheduler.registry.labels import LEGAL_FORMS, STATUS_LABELS
from scheduler.registry.models import ApplicationStatus, LegalForm

#: The names of the status tabs of the list (`review.STATUS_TABS`).
TAB_LABELS: dict[str, Any] = {
    "": _l("Da esaminare"),
    ApplicationStatus.NEEDS_INFO.value: _l("In attesa di integrazioni"),
    ApplicationStatus.ADMITTED.value: STATUS_LABELS[ApplicationStatus.ADMITTED],
    ApplicationStatus.REJECTED.value: STATUS_LABELS[ApplicationStatus.REJECTED],
    ApplicationStatus.WITHDRAWN.value: STATUS_LABELS[ApplicationStatus.WITHDRAWN],
    review.ALL_TAB: _l("Tutte"),
    ApplicationStatus.UNCONFIRMED.value: STATUS_LABELS[ApplicationStatus.UNCONFIRMED],
}

#: The tabs as the list shows them: (value in the URL, label, statuses shown).
STATUS_TABS: list[tuple[str, Any, frozenset[ApplicationStatus]]] = [
    (value, TAB_LABELS[value], statuses) for value, statuses in review.STATUS_TABS
]

MAX_TEXT = 5000


class ReviewFilterForm(FlaskForm):
    """The list's filters, read from the query string.

    Field names are the URL's parameters (Italian, like `?stato=` on the other staff lists), so a filtered list
    can be bookmarked or sent to a colleague. A value that is not a choice is ignored, never an error.
    """

    class Meta:
        csrf = False

    stato = SelectField(_l("Stato"), choices=[(value, label) for value, label, _ in STATUS_TABS], default="")
    area = SelectField(_l("Area tematica"), default="")
    comune = SelectField(_l("Comune"), default="")
    tardiva = SelectField(
        _l("Presentata dopo la scadenza"),
        choices=[("", _l("Indifferente")), ("si", _l("Sì, tardiva")), ("no", _l("No, nei termini"))],
        default="",
    )
    forma = SelectField(
        _l("Forma giuridica"),
        choices=[("", _l("Tutte"))] + [(form.value, label) for form, label in LEGAL_FORMS.items()],
        default="",
    )
    q = StringField(_l("Cerca"), filters=[strip_text])
    cancellazione = BooleanField(_l("Solo con cancellazione dei dati richiesta"))

    def __init__(self, call: Call, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area.choices = [("", _l("Tutte"))] + [(a.code, a.label) for a in call.areas]
        self.comune.choices = [("", _l("Tutti"))] + [(str(c.id), c.name) for c in call.comuni]
        self.validate()
        for name in ("stato", "area", "comune", "tardiva", "forma"):
            if self[name].errors:  # a stale bookmark or a hand-typed URL: fall back to no filter
                self[name].data = ""
                self[name].errors = []
        if self.q.data and len(self.q.data) > 200:
            self.q.data = self.q.data[:200]

    @property
    def statuses(self) -> frozenset[ApplicationStatus]:
        return next(statuses for value, _, statuses in STATUS_TABS if value == (self.stato.data or ""))

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of `review.review_queue`."""
        return {
            "statuses": self.statuses,
            "area_code": self.area.data or None,
            "comune_id": int(self.comune.data) if self.comune.data else None,
            "late": {"si": True, "no": False}.get(self.tardiva.data or ""),
            "legal_form": LegalForm(self.forma.data) if self.forma.data else None,
            "q": self.q.data or None,
            "erasure_requested": bool(self.cancellazione.data),
        }

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string of this filter with some values changed, for tabs and pagination links."""
        values: dict[str, Any] = {
            "stato": self.stato.data, "area": self.area.data, "comune": self.comune.data,
            "tardiva": self.tardiva.data, "forma": self.forma.data, "q": self.q.data,
            "cancellazione": "1" if self.cancellazione.data else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}

    @property
    def is_filtered(self) -> bool:
        """Anything besides the status chosen (the "Azzera i filtri" link shows then)."""
        return bool(self.args(stato=None))


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo della non ammissione"),
        validators=[
            DataRequired(message=_l("Indica il motivo: sarà comunicato all'ente.")),
            Length(max=MAX_TEXT, message=_l("Al massimo %(max)d caratteri.", max=MAX_TEXT)),
        ],
        filters=[strip_lines],
    )


class InformationRequestForm(FlaskForm):
    message = TextAreaField(
        _l("Informazioni da chiedere all'ente"),
        validators=[
            DataRequired(message=_l("Scrivi quali informazioni servono: il messaggio sarà inviato all'ente.")),
            Length(max=MAX_TEXT, message=_l("Al massimo %(max)d caratteri.", max=MAX_TEXT)),
        ],
        filters=[strip_lines],
    )
