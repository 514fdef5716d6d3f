"""The public application form cannot be used against a real entity: an application nobody confirmed does not
keep the entity's codice fiscale or e-mail address from the entity itself."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

import scheduler.timeutil as timeutil
from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationStatus, Organization
from tests.factories import csrf_from
from tests.security.conftest import CONTACT_EMAIL, application_form


def _apply(client, app, **changes):
    data = {**application_form(app), **changes, "csrf_token": csrf_from(client, "/candidatura")}
    return client.post("/candidatura", data=data)


def test_an_application_nobody_confirmed_does_not_block_the_real_entity(app, crema, monkeypatch):
    real_now = timeutil.utcnow()
    monkeypatch.setattr(timeutil, "clock", lambda: real_now - timedelta(days=2))
    squatter = _apply(app.test_client(), app, contact_email="chiunque@altrove.example", legal_email=CONTACT_EMAIL,
                      name="Nome Inventato")
    assert squatter.status_code == 302
    monkeypatch.setattr(timeutil, "clock", lambda: real_now)

    response = _apply(app.test_client(), app)

    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        real = db.session.scalar(sa.select(Application).join(Application.organization)
                                 .where(Organization.email == CONTACT_EMAIL))
        assert real.organization.name == "Associazione Il Girasole"
        assert real.status is ApplicationStatus.UNCONFIRMED


def test_a_confirmed_entitys_codice_fiscale_cannot_be_applied_for_again(app, crema):
    """The control: once an entity has confirmed, its codice fiscale is its own."""
    client = app.test_client()
    assert _apply(client, app).status_code == 302
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        application.status = ApplicationStatus.SUBMITTED
        db.session.commit()
    response = _apply(app.test_client(), app, contact_email="chiunque@altrove.example",
                      legal_email="altro@altrove.example")
    assert response.status_code == 400
    assert "Questo codice fiscale è già registrato" in response.get_data(as_text=True)


def test_a_script_cannot_submit_applications_without_limit(app, crema):
    from scheduler.mailing.models import OutboxMessage
    from tests.factories import codice_fiscale

    client = app.test_client()
    statuses = [
        _apply(client, app, codice_fiscale=codice_fiscale(900000 + n), name=f"Ente {n}",
               contact_email=f"vittima{n}@altrove.example", legal_email=f"legale{n}@altrove.example").status_code
        for n in range(30)
    ]
    assert statuses[0] == 302
    assert statuses[-1] == 429
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) < 30


def test_a_fresh_unconfirmed_application_still_holds_its_codice_fiscale(app, crema):
    """Within the first hour the first applicant keeps it (two colleagues sending the same form twice)."""
    assert _apply(app.test_client(), app).status_code == 302
    again = _apply(app.test_client(), app, contact_email="collega@altrove.example", legal_email="l@altrove.example")
    assert again.status_code == 400
    assert "attende la conferma" in again.get_data(as_text=True)


def test_forms_sent_back_with_errors_do_not_use_up_the_limit(app, crema):
    client = app.test_client()
    for _ in range(15):
        assert _apply(client, app, codice_fiscale="12345678901").status_code == 400  # a wrong check digit
    assert _apply(client, app).status_code == 302
