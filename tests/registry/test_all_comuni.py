"""The "all comuni" box of the application form: one tick for an entity working in the whole Ambito, read by the
server (no JavaScript), shown again ticked with every comune when the form comes back for another error, and
summarised as such on the entity's and the staff's pages."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calls.models import Call, Comune, organization_comuni
from scheduler.extensions import db
from scheduler.registry.models import Application, Organization
from tests.factories import csrf_from, sign_in_with_link
from tests.registry.test_application_form import form_data

STAFF = "ufficio@comune.crema.example.org"
ALL = "Tutti i 48 comuni dell'Ambito"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def apply(client, app, **overrides):
    data = form_data(app, **overrides)
    data["csrf_token"] = csrf_from(client, "/candidatura")
    return client.post("/candidatura", data=data)


def stored_comuni(app) -> tuple[int, int, int]:
    """(rows of organization_comuni, distinct comuni among them, comuni of the call)."""
    with app.app_context():
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(organization_comuni))
        distinct = db.session.scalar(sa.select(sa.func.count(sa.distinct(organization_comuni.c.comune_id))))
        call_id = db.session.scalar(sa.select(Call.id))
        of_call = db.session.scalar(sa.select(sa.func.count()).select_from(Comune).where(Comune.call_id == call_id))
        return rows, distinct, of_call


def ticked_comuni(page: str) -> int:
    return len(re.findall(r'<input class="form-check-input" type="checkbox" name="comuni"[^>]* checked>', page))


@pytest.fixture
def staff_client(app, crema, make_user):
    make_user(STAFF, role=Role.STAFF)
    client = app.test_client()
    client.post("/accedi", data={"email": STAFF, "password": "password-di-prova-1",
                                 "csrf_token": csrf_from(client, "/accedi")})
    return client


def test_the_form_offers_every_comune_in_one_box(client, crema):
    page = text(client.get("/candidatura"))
    assert re.search(r'<input [^>]*id="all_comuni"[^>]*name="all_comuni"|<input [^>]*name="all_comuni"', page)
    assert f'<label class="form-check-label" for="all_comuni">{ALL}</label>' in page
    assert "Almeno uno dei 48 comuni dell'Ambito." in page
    assert ticked_comuni(page) == 0


def test_only_the_all_box_ticked_stores_every_comune_and_the_pages_say_so(client, app, crema, staff_client):
    response = apply(client, app, comuni=None, all_comuni="y")
    assert response.status_code == 302, text(response)
    assert stored_comuni(app) == (48, 48, 48)
    with app.app_context():
        org = db.session.scalar(sa.select(Organization))
        assert len(org.comuni) == 48
        application_id = db.session.scalar(sa.select(Application.id))
        contact_id = db.session.scalar(sa.select(User.id).where(User.email == "paolo.neri@girasole.example.org"))

    # the entity's own summary
    entity = app.test_client()
    sign_in_with_link(entity, app, contact_id)
    area = text(entity.get("/area-riservata"))
    assert ALL in area and "Agnadello, Bagnolo Cremasco" not in area

    # the staff's list and the application's page
    listing = text(staff_client.get("/gestione/candidature?stato=unconfirmed"))
    assert ALL in listing.split("<table")[1] and "Agnadello, Bagnolo Cremasco, Camisano, …" not in listing
    detail = text(staff_client.get(f"/gestione/candidature/{application_id}"))
    assert ALL in detail


def test_the_all_box_wins_over_single_boxes(client, app, crema):
    with app.app_context():
        crema_id = db.session.scalar(sa.select(Comune.id).where(Comune.name == "Crema"))
    response = apply(client, app, comuni=[crema_id], all_comuni="y")
    assert response.status_code == 302
    assert stored_comuni(app) == (48, 48, 48)


def test_an_error_elsewhere_shows_the_form_again_with_every_comune_ticked(client, app, crema):
    response = apply(client, app, comuni=None, all_comuni="y", name="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Campo obbligatorio." in page
    assert ticked_comuni(page) == 48
    assert re.search(r'<input [^>]*checked[^>]*id="all_comuni"|<input [^>]*id="all_comuni"[^>]*checked', page)
    assert "Scegli almeno uno dei comuni" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_without_the_all_box_some_comuni_stay_some(client, app, crema):
    assert apply(client, app, comuni=None).status_code == 400  # none chosen: still an error
    assert apply(client, app).status_code == 302  # Crema and Offanengo
    assert stored_comuni(app)[:2] == (2, 2)


def test_a_paper_application_takes_every_comune_too(app, crema, staff_client):
    path = "/gestione/candidature/nuova"
    page = text(staff_client.get(path))
    assert f'for="all_comuni">{ALL}</label>' in page
    data = form_data(app, name="Associazione Carta", comuni=None, all_comuni="y", privacy=None, truthful=None,
                     received_on="2024-04-30")
    data["csrf_token"] = csrf_from(staff_client, path)
    response = staff_client.post(path, data=data)
    assert response.status_code == 303, text(response)
    assert stored_comuni(app) == (48, 48, 48)
    assert ALL in text(staff_client.get(response.headers["Location"]))
