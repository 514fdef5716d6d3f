"""The installation's administrators open an Ambito and its first office account from their page; the new office
gets the link to choose its password by e-mail (nobody else reads one), and signs in on its Ambito's host only."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calls.models import Ambito
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from tests.auth.auth_helpers import STAFF_PASSWORD, csrf_from

LODI = "http://tavoli.ambitolodi.example"
FORM = {"name": "Ambito territoriale di Lodi", "slug": "lodi", "lead_municipality": "Comune di Lodi",
        "ipa_code": "c_e648", "office_name": "Ufficio di Piano di Lodi", "office_email": "udp@comune.lodi.example",
        "host": "tavoli.ambitolodi.example", "staff_name": "Laura Conti",
        "staff_email": "laura.conti@comune.lodi.example"}


@pytest.fixture
def platform(client, crema, make_user):
    make_user("piattaforma@example.org", role=Role.PLATFORM)
    page = client.get("/accedi").get_data(as_text=True)
    response = client.post("/accedi", data={"email": "piattaforma@example.org", "password": STAFF_PASSWORD,
                                            "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/piattaforma"
    return client


def _post(client, **changes):
    token = csrf_from(client.get("/piattaforma/ambiti/nuovo").get_data(as_text=True))
    return client.post("/piattaforma/ambiti/nuovo", data={**FORM, **changes, "csrf_token": token})


def test_the_platform_lists_the_ambiti_and_opens_a_new_one_with_its_office(app, platform):
    listing = platform.get("/piattaforma").get_data(as_text=True)
    assert "Ambito territoriale di Crema" in listing and "predefinito" in listing
    response = _post(platform)
    assert response.status_code == 303
    after = platform.get("/piattaforma").get_data(as_text=True)
    assert "Ambito territoriale di Lodi" in after and "tavoli.ambitolodi.example" in after
    with app.app_context():
        lodi = db.session.scalar(sa.select(Ambito).where(Ambito.slug == "lodi"))
        assert (lodi.host, lodi.ipa_code, lodi.is_default) == ("tavoli.ambitolodi.example", "c_e648", False)
        staff = db.session.scalar(sa.select(User).where(User.email == "laura.conti@comune.lodi.example"))
        assert (staff.role, staff.ambito_id, staff.full_name) == (Role.STAFF, lodi.id, "Laura Conti")
        mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_address == staff.email))
        assert mail.ambito_id == lodi.id
        link = re.search(r"http://tavoli\.ambitolodi\.example(?::\d+)?(/accedi/password/\S+)", mail.body_text)
        assert link, mail.body_text  # on the new Ambito's own host
    # the link lets the new office choose its password, then sign in on its host
    path = link.group(1)
    client = app.test_client()
    page = client.get(path, base_url=LODI)
    assert page.status_code == 200
    chosen = client.post(path, base_url=LODI, data={"password": "una-password-nuova-1",
                                                    "confirmation": "una-password-nuova-1",
                                                    "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert chosen.status_code in (302, 303)
    signin = client.get("/accedi", base_url=LODI).get_data(as_text=True)
    assert client.post("/accedi", base_url=LODI, data={
        "email": "laura.conti@comune.lodi.example", "password": "una-password-nuova-1",
        "csrf_token": csrf_from(signin)}).status_code == 302


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"slug": "crema"}, "slug", "Esiste già un Ambito con questa sigla."),
    ({"slug": "Lodi Vecchio!"}, "slug", "Usa lettere minuscole, cifre e trattini"),
    ({"host": "non un host"}, "host", "Nome host non valido"),
    ({"staff_email": "piattaforma@example.org"}, "staff_email", "Questo indirizzo ha già un account"),
    ({"office_email": "non-un-indirizzo"}, "office_email", "Indirizzo e-mail non valido."),
    ({"name": ""}, "name", "Scrivi il nome dell'Ambito."),
])
def test_a_refused_ambito_says_why_next_to_the_field_and_keeps_what_was_typed(app, platform, changes, field,
                                                                              message):
    response = _post(platform, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code in (400, 409)
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', page)
    assert error and message in error.group(1), page
    assert 'value="Comune di Lodi"' in page  # what was typed stays
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ambito)) == 1
        assert db.session.scalar(sa.select(User).where(User.email == "laura.conti@comune.lodi.example")) is None


def test_ambito_staff_cannot_open_the_platform_pages(client, staff):
    assert client.get("/piattaforma").status_code == 403
    token = csrf_from(client.get("/gestione").get_data(as_text=True))
    assert client.post("/piattaforma/ambiti/nuovo", data={**FORM, "csrf_token": token}).status_code == 403
