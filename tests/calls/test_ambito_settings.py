"""The office keeps its Ambito's settings up to date at /gestione/ambito: what it writes shows in the header and
the footer of every page and in the From of its mail; bad input is refused next to the field, what was typed
kept."""

from __future__ import annotations

import re

import sqlalchemy as sa

from scheduler.audit.models import AuditEntry
from scheduler.calls.models import Ambito
from scheduler.extensions import db
from tests.factories import csrf_from, text_of

VALUES = {"name": "Ambito territoriale Cremasco", "lead_municipality": "Comune di Crema", "ipa_code": "c_d142",
          "office_name": "Ufficio di Piano dell'Ambito Cremasco", "office_email": "udp@comune.crema.cr.it",
          "mail_sender": "tavoli@comune.crema.cr.it", "privacy_controller": "Comune di Crema",
          "privacy_dpo_name": "Avv. Maria Bassi", "privacy_dpo_email": "dpo@comune.crema.cr.it",
          "responsible": "Dott.ssa Francesca Moruzzi", "heading": "Ufficio di Piano – Ambito Cremasco"}


def _post(client, **changes):
    token = csrf_from(client, "/gestione/ambito")
    return client.post("/gestione/ambito", data={**VALUES, **changes, "csrf_token": token})


def test_the_office_changes_its_ambito_and_every_page_says_so(app, client, staff):
    page = client.get("/gestione/ambito")
    assert page.status_code == 200
    assert 'value="Ambito territoriale di Crema"' in page.get_data(as_text=True)
    assert _post(client).status_code == 303
    home = text_of(client.get("/"))
    assert "Ufficio di Piano – Ambito Cremasco" in home  # the header line
    assert "Ambito territoriale Cremasco – ente capofila: Comune di Crema" in home  # the footer
    assert "Ufficio di Piano dell'Ambito Cremasco" in home
    with app.app_context():
        ambito = db.session.scalar(sa.select(Ambito))
        assert (ambito.mail_sender, ambito.ipa_code, ambito.privacy_dpo_name) == (
            "tavoli@comune.crema.cr.it", "c_d142", "Avv. Maria Bassi")
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "ambito.settings"))
        assert entry.details["changes"]["name"] == ["Ambito territoriale di Crema", "Ambito territoriale Cremasco"]
    again = _post(client)
    assert again.status_code == 303
    assert "Nessuna modifica." in text_of(client.get("/gestione/ambito"))


def test_a_bad_address_is_refused_next_to_its_field_and_what_was_typed_stays(app, client, staff):
    response = _post(client, mail_sender="non-un-indirizzo", office_name="Ufficio nuovo")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    error = re.search(r'id="mail_sender-error"[^>]*>([^<]*)<', page)
    assert error and "Indirizzo e-mail non valido." in error.group(1)
    assert 'value="Ufficio nuovo"' in page and 'value="non-un-indirizzo"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(Ambito.office_name)) != "Ufficio nuovo"
