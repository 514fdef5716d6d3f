"""Forms of the entity's contacts and mail preferences pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from scheduler.calls.models import Area
from scheduler.forms import email, phone, text
from scheduler.registry.contacts import NewContact


class ContactForm(FlaskForm):
    full_name = text(_l("Nome e cognome"), 200)
    role = text(_l("Ruolo nell'ente (facoltativo)"), 120, required=False)
    email = email(_l("E-mail"))
    phone = phone(_l("Telefono (facoltativo)"))
    area = SelectField(_l("Per quale area"), default="")

    def __init__(self, areas: list[Area], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area.choices = [("", _l("Tutte le aree dell'ente"))] + [
            (str(a.id), f"{a.code} – {a.name}") for a in areas
        ]

    def data_(self) -> NewContact:
        return NewContact(full_name=self.full_name.data, email=self.email.data, role=self.role.data or "",
                          phone=self.phone.data or None, area_id=int(self.area.data) if self.area.data else None)
