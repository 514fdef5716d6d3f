"""The entity's own area: its application, edits, withdrawal and its GDPR rights; never another's data."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from scheduler.calls.ambiti import default_ambito
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Application, ApplicationEvent, ApplicationStatus, Organization
from tests.factories import csrf_from, make_entity, sign_in_with_link
from tests.registry.test_application_form import form_data


def test_entity_sees_its_application(client, app, crema):
    ids = make_entity(app, "Cooperativa La Quercia", areas=("B", "C"))
    sign_in_with_link(client, app, ids["user"])
    page = client.get("/area-riservata").get_data(as_text=True)
    assert "Cooperativa La Quercia" in page
    assert "Ammessa" in page
    assert "B) Fragilità (Anziani e Persone con disabilità)" in page
    assert "Referente" in page


def test_anonymous_is_sent_to_sign_in(client, crema):
    response = client.get("/area-riservata")
    assert response.status_code == 302
    assert "/accedi" in response.headers["Location"]


def test_staff_is_not_an_entity(client, app, crema, make_user, auth):
    make_user("staff@example.org")
    auth.login("staff@example.org")
    assert client.get("/area-riservata").status_code == 403
    assert client.get("/area-riservata/dati.json").status_code == 403


def test_an_entity_cannot_reach_another_entitys_application(client, app, crema):
    mine = make_entity(app, "Ente Mio")
    other = make_entity(app, "Ente Altrui", status=ApplicationStatus.UNCONFIRMED)
    sign_in_with_link(client, app, mine["user"])
    # the confirmation URL of another entity's application
    assert client.get(f"/candidatura/{other['application']}/conferma").status_code == 404
    with app.app_context():
        assert db.session.get(Application, other["application"]).status is ApplicationStatus.UNCONFIRMED
    export = client.get("/area-riservata/dati.json").get_json()
    assert export["ente"]["denominazione"] == "Ente Mio"
    assert "Ente Altrui" not in json.dumps(export)


def test_adding_an_area_after_admission_waits_and_keeps_the_admission(client, app, crema):
    ids = make_entity(app, "Ente Modifica", areas=("A",))
    sign_in_with_link(client, app, ids["user"])
    page = client.get("/area-riservata/modifica").get_data(as_text=True)
    assert 'value="Ente Modifica"' in page
    data = form_data(app, name="Ente Modificato", areas=["A", "B"], competence_B="Centro diurno.",
                     codice_fiscale="ignored", contact_email=ids["email"], privacy=None, truthful=None)
    data["csrf_token"] = csrf_from(client, "/area-riservata/modifica")
    response = client.post("/area-riservata/modifica", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "intanto l&#39;ente resta ammesso" in page or "intanto l'ente resta ammesso" in page
    with app.app_context():
        application = db.session.get(Application, ids["application"])
        assert application.status is ApplicationStatus.ADMITTED
        assert sorted(a.area.code for a in application.areas) == ["A"]
        assert application.pending_scope["areas"] == {"B": "Centro diurno."}
        # the name the public list showed waits for staff; the form shows what the entity asked for
        assert application.organization.name == "Ente Modifica"
        assert application.organization.pending_public["name"] == "Ente Modificato"
        assert application.organization.codice_fiscale != "IGNORED"
        assert db.session.scalar(sa.select(ApplicationEvent.note).where(
            ApplicationEvent.action == "amendment_requested"))


def test_editing_contacts_only_keeps_the_admission(client, app, crema):
    ids = make_entity(app, "Ente Contatti", areas=("A",))
    sign_in_with_link(client, app, ids["user"])
    data = form_data(app, name="Ente Contatti", areas=["A"], competence_A="Altro testo", contact_email=ids["email"],
                     contact_phone="0373 999999", privacy=None, truthful=None, phase_implementation="y")
    data["csrf_token"] = csrf_from(client, "/area-riservata/modifica")
    response = client.post("/area-riservata/modifica", data=data)
    assert response.status_code == 302
    with app.app_context():
        application = db.session.get(Application, ids["application"])
        assert application.status is ApplicationStatus.ADMITTED
        assert any(c.phone == "0373 999999" for c in application.organization.contacts)


def test_bad_edit_keeps_what_was_typed(client, app, crema):
    ids = make_entity(app, "Ente Errori")
    sign_in_with_link(client, app, ids["user"])
    data = form_data(app, name="Nome nuovo", contact_email="non-valida", privacy=None, truthful=None)
    data["csrf_token"] = csrf_from(client, "/area-riservata/modifica")
    response = client.post("/area-riservata/modifica", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Indirizzo e-mail non valido" in page
    assert 'value="Nome nuovo"' in page
    with app.app_context():
        assert db.session.get(Organization, ids["organization"]).name == "Ente Errori"


def test_withdraw(client, app, crema):
    ids = make_entity(app, "Ente Ritiro")
    sign_in_with_link(client, app, ids["user"])
    response = client.post("/area-riservata/ritira", data={"csrf_token": csrf_from(client, "/area-riservata")},
                           follow_redirects=True)
    assert "Ritirata" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Application, ids["application"]).status is ApplicationStatus.WITHDRAWN
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.topic == "application-withdrawn")) >= 1
    # the public list no longer shows it
    if "registry.public_list" in app.view_functions:
        assert "Ente Ritiro" not in client.get("/elenco").get_data(as_text=True)


def test_export_holds_the_people_and_the_application(client, app, crema):
    ids = make_entity(app, "Ente Export", areas=("D",))
    sign_in_with_link(client, app, ids["user"])
    response = client.get("/area-riservata/dati.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_json()
    assert data["ente"]["denominazione"] == "Ente Export"
    assert {c["tipo"] for c in data["contatti"]} == {"legal_representative", "contact"}
    assert data["candidature"][0]["aree"][0]["codice"] == "D"
    assert data["account"][0]["email"] == ids["email"]


def test_erasure_request_is_recorded_for_staff(client, app, crema):
    ids = make_entity(app, "Ente Cancella")
    sign_in_with_link(client, app, ids["user"])
    response = client.post("/area-riservata/cancellazione",
                           data={"csrf_token": csrf_from(client, "/area-riservata")}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Richiesta di cancellazione inviata" in page
    assert "registri delle presenze" in page  # what is kept, and why
    with app.app_context():
        assert db.session.get(Organization, ids["organization"]).erasure_requested_at is not None
    again = client.post("/area-riservata/cancellazione", data={"csrf_token": csrf_from(client, "/area-riservata")},
                        follow_redirects=True)
    assert "già stata inviata" in again.get_data(as_text=True)


def test_confirmed_erasure_keeps_what_the_law_requires(app, crema):
    from scheduler.auth.models import Role, User
    from scheduler.registry.services import RegistryError, confirm_erasure, request_erasure

    ids = make_entity(app, "Ente Da Cancellare")
    with app.app_context():
        staff = User(email="staff@example.org", role=Role.STAFF, ambito=default_ambito())
        db.session.add(staff)
        org = db.session.get(Organization, ids["organization"])
        with pytest.raises(RegistryError, match="non ha chiesto"):
            confirm_erasure(org, staff)
        request_erasure(org, org.users[0])
        confirm_erasure(org, staff)
        db.session.commit()
        org = db.session.get(Organization, ids["organization"])
        assert org.contacts == [] and org.users == []
        assert org.name == "Ente Da Cancellare" and org.erased_at is not None
        application = db.session.get(Application, ids["application"])
        assert application.protocol is not None
        assert application.status is ApplicationStatus.WITHDRAWN
        assert "registri delle presenze" in application.events[-1].note
