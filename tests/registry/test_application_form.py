"""The manifestazione di interesse: the form, its rules, the e-mail confirmation and the receipt."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calls.models import Comune
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Application, ApplicationStatus, Organization

VALID_CF = "97111330151"  # 11 digits with a correct check digit


def csrf(client, path="/candidatura") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def comune_ids(app, *names) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Comune.id).where(Comune.name.in_(names))))


def form_data(app, **overrides) -> dict:
    data = {
        "name": "Associazione Il Girasole",
        "legal_form": "aps",
        "codice_fiscale": VALID_CF,
        "partita_iva": "",
        "register": "runts-b",
        "register_number": "12345",
        "registered_office": "Via Mazzini 10, 26013 Crema (CR)",
        "website": "www.ilgirasole.example.org",
        "comuni": comune_ids(app, "Crema", "Offanengo"),
        "legal_name": "Anna Verdi",
        "legal_role": "Presidente",
        "legal_email": "presidente@girasole.example.org",
        "legal_phone": "0373 123456",
        "contact_name": "Paolo Neri",
        "contact_role": "Coordinatore",
        "contact_email": "Paolo.Neri@girasole.example.org",
        "contact_phone": "+39 333 1234567",
        "areas": ["A", "D"],
        "competence_A": "Doposcuola e sostegno alle famiglie dal 2010.",
        "competence_D": "Laboratori con i giovani.",
        "phase_implementation": "y",
        "privacy": "y",
        "truthful": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def at(monkeypatch):
    """Set the clock: at("2024-04-20T10:00:00+02:00")."""
    import scheduler.timeutil as timeutil

    def _set(iso: str) -> None:
        moment = datetime.fromisoformat(iso).astimezone(UTC)
        monkeypatch.setattr(timeutil, "clock", lambda: moment)

    return _set


def post(client, app, **overrides):
    data = form_data(app, **overrides)
    data["csrf_token"] = csrf(client)
    return client.post("/candidatura", data=data)


def test_form_is_in_italian_with_the_privacy_notice(client, crema):
    page = client.get("/candidatura").get_data(as_text=True)
    assert "Manifestazione di interesse" in page
    assert "Titolare del trattamento" in page and "Comune di Crema" in page
    assert "dpo@comune.crema.cr.it" in page
    assert "Rivolta d&#39;Adda" in page or "Rivolta d'Adda" in page
    assert "B) Fragilità (Anziani e Persone con disabilità)" in page


def test_application_waits_for_e_mail_confirmation_then_gets_a_protocol_and_receipt(client, app, crema, at):
    at("2024-04-20T10:00:00+02:00")
    response = post(client, app, phase_drafting="y")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/candidatura/inviata")
    page = client.get("/candidatura/inviata").get_data(as_text=True)
    assert "paolo.neri@girasole.example.org" in page
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        assert application.status is ApplicationStatus.UNCONFIRMED
        assert application.protocol is None
        assert application.late is False
        assert application.wants_drafting and application.wants_implementation
        org = application.organization
        assert org.codice_fiscale == VALID_CF
        assert org.website == "https://www.ilgirasole.example.org"
        assert sorted(c.name for c in org.comuni) == ["Crema", "Offanengo"]
        mails = db.session.scalars(sa.select(OutboxMessage)).all()
        assert [m.to_address for m in mails] == ["paolo.neri@girasole.example.org"]
        link = re.search(r"http://tavoli\.test(/accedi/link/\S+)", mails[0].body_text).group(1)
        users = {u.email for u in db.session.scalars(sa.select(User).where(User.role == Role.ENTITY))}
        assert users == {"paolo.neri@girasole.example.org", "presidente@girasole.example.org"}

    # the contact opens the link and confirms
    page = client.get(link).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(link, data={"csrf_token": token})
    assert response.status_code == 302
    response = client.get(response.headers["Location"], follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "MI-2024-0001" in page
    assert "In esame" in page
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        assert application.status is ApplicationStatus.SUBMITTED
        assert application.protocol == "MI-2024-0001"
        receipts = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.topic == "application-receipt")
        ).all()
        assert {m.to_address for m in receipts} == {"paolo.neri@girasole.example.org",
                                                    "presidente@girasole.example.org"}
        assert "MI-2024-0001" in receipts[0].subject
        assert "Associazione Il Girasole" in receipts[0].body_text
        assert "A) Minori e Famiglia" in receipts[0].body_text


def test_late_application_joins_only_implementation(client, app, crema, at):
    at("2024-05-03T00:00:01+02:00")
    page = client.get("/candidatura").get_data(as_text=True)
    assert "solo alla fase di attuazione" in page
    assert 'name="phase_drafting"' not in page
    # the only phase left is offered ticked
    tag = re.search(r'<input[^>]*name="phase_implementation"[^>]*>', page).group(0)
    assert "checked" in tag, tag
    response = post(client, app, phase_drafting="y")  # a forged field is ignored
    assert response.status_code == 302
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        assert application.late is True
        assert application.wants_drafting is False
        assert application.wants_implementation is True


def test_last_minute_of_the_deadline_day_is_on_time(client, app, crema, at):
    at("2024-05-02T23:59:00+02:00")
    page = client.get("/candidatura").get_data(as_text=True)
    assert 'name="phase_drafting"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("codice_fiscale", "97111330152", "carattere di controllo"),
        ("codice_fiscale", "9711133015", "11 cifre"),
        ("codice_fiscale", "9711133015A", "solo cifre"),
        ("codice_fiscale", "", "Campo obbligatorio"),
        ("legal_email", "non-una-email", "Indirizzo e-mail non valido"),
        ("contact_phone", "chiamami", "cifre"),
        ("website", "non è un sito", "indirizzo del sito"),
        ("partita_iva", "123", "11 cifre"),
        ("legal_form", "spa", "Non è una opzione valida"),
    ],
)
def test_bad_values_get_a_message_next_to_the_field(client, app, crema, field, value, message):
    response = post(client, app, **{field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Associazione Il Girasole"' in page, "what was typed is kept"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_no_area_no_comune_no_privacy(client, app, crema):
    response = post(client, app, areas=None, comuni=None, privacy=None)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Scegli almeno un&#39;area tematica" in page or "Scegli almeno un'area tematica" in page
    assert "Scegli almeno uno dei comuni" in page
    assert "conferma di aver letto l&#39;informativa" in page or "conferma di aver letto l'informativa" in page


def test_unknown_comune_is_refused(client, app, crema):
    response = post(client, app, comuni=[999999])
    assert response.status_code == 400
    assert "solo dall&#39;elenco" in response.get_data(as_text=True) or "solo dall'elenco" in response.get_data(
        as_text=True)


def test_area_without_competence_is_refused(client, app, crema):
    response = post(client, app, competence_D="")
    assert response.status_code == 400
    assert "Descrivi in breve competenze" in response.get_data(as_text=True)


def test_same_codice_fiscale_twice_points_to_sign_in(client, app, crema):
    assert post(client, app).status_code == 302
    response = post(client, app, name="Altro nome", contact_email="altro@example.org",
                    legal_email="altro2@example.org")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "attende la conferma" in page
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        application.status = ApplicationStatus.SUBMITTED
        db.session.commit()
    response = post(client, app, name="Altro nome", contact_email="altro@example.org",
                    legal_email="altro2@example.org")
    assert response.status_code == 400
    assert "accedi all&#39;area riservata" in response.get_data(as_text=True) or "accedi all'area riservata" in (
        response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 1


TEXT_FIELDS = ("name", "register_number", "registered_office", "legal_name", "legal_role", "contact_name",
               "contact_role", "competence_A", "competence_D")


def test_html_and_script_are_shown_escaped_in_every_text_field(client, app, crema):
    hostile = '<script>alert("x")</script><b>Ente</b>'
    response = post(client, app, codice_fiscale="bad", **dict.fromkeys(TEXT_FIELDS, hostile))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "<b>Ente" not in page
    assert page.count("&lt;script&gt;alert") >= len(TEXT_FIELDS)


def test_formula_and_markup_are_stored_as_text(client, app, crema):
    response = post(client, app, name='=cmd|" /C calc"!A0 <i>x</i>')
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Organization.name)) == '=cmd|" /C calc"!A0 <i>x</i>'


def test_a_huge_field_is_refused_without_a_server_error(client, app, crema):
    response = post(client, app, name="x" * (11 * 1024 * 1024))
    assert response.status_code == 413
    response = post(client, app, name="x" * 5000)
    assert response.status_code == 400
    assert "Al massimo 300 caratteri" in response.get_data(as_text=True)
