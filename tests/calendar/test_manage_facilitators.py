"""Staff assign facilitators to tracks and create facilitator accounts."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calls.models import Track
from scheduler.extensions import db
from tests.factories import csrf_from, make_entity

PASSWORD = "password-di-prova-1"


@pytest.fixture
def staff(client, auth, make_user, crema):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    return client


def page_text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def track_id(app, key: str = "A-stesura") -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Track.id).where(Track.key == key))


def facilitator_emails(app, key: str = "A-stesura") -> list[str]:
    with app.app_context():
        track = db.session.scalar(sa.select(Track).where(Track.key == key))
        return sorted(user.email for user in track.facilitators)


def post(client, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": csrf_from(client, path)})


def test_assign_and_unassign_facilitators(staff, app, make_user):
    anna = make_user("anna@example.org", role=Role.FACILITATOR)
    bruno = make_user("bruno@example.org", role=Role.FACILITATOR)
    path = f"/gestione/calendario/percorsi/{track_id(app)}/facilitatori"
    html = page_text(staff.get(path))
    assert "anna@example.org" in html and "bruno@example.org" in html
    assert "staff@example.org" not in html.split("Assegna i facilitatori")[1], "only facilitators are offered"

    response = post(staff, path, {"azione": "assegna", "facilitators": [str(anna), str(bruno)]})
    assert response.status_code == 303
    assert facilitator_emails(app) == ["anna@example.org", "bruno@example.org"]
    assert facilitator_emails(app, "B-stesura") == []
    html = page_text(staff.get(response.headers["Location"]))
    assert "2 aggiunti, 0 tolti" in html and "1 aggiunti" not in html
    fewer = post(staff, path, {"azione": "assegna", "facilitators": [str(anna)]})
    assert "0 aggiunti, 1 tolto." in page_text(staff.get(fewer.headers["Location"]))
    post(staff, path, {"azione": "assegna", "facilitators": [str(anna), str(bruno)]})
    html = page_text(staff.get(response.headers["Location"]))
    assert f'id="facilitator-{anna}" value="{anna}" checked' in html

    overview = page_text(staff.get("/gestione/calendario"))
    section = overview[overview.index("Percorso Minori e Famiglia"):overview.index("Percorso Fragilità")]
    assert "anna@example.org, bruno@example.org" in section

    post(staff, path, {"azione": "assegna", "facilitators": [str(bruno)]})
    assert facilitator_emails(app) == ["bruno@example.org"]
    post(staff, path, {"azione": "assegna"})
    assert facilitator_emails(app) == []


def test_only_facilitator_accounts_can_be_assigned(staff, app, make_user):
    make_user("anna@example.org", role=Role.FACILITATOR)
    entity = make_entity(app, areas=("A",))
    with app.app_context():
        staff_id = db.session.scalar(sa.select(User.id).where(User.email == "staff@example.org"))
    path = f"/gestione/calendario/percorsi/{track_id(app)}/facilitatori"
    for forged in (str(entity["user"]), str(staff_id), "999999", "abc"):
        response = post(staff, path, {"azione": "assegna", "facilitators": [forged]})
        assert response.status_code == 400, forged
    assert facilitator_emails(app) == []


def test_create_a_facilitator_shows_the_password_once_and_it_works(app, staff, auth, client):
    path = f"/gestione/calendario/percorsi/{track_id(app)}/facilitatori"
    response = post(staff, path, {"azione": "crea", "full_name": "Carla Verdi", "email": "Carla.Verdi@Example.org"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = page_text(response)
    password = re.search(r'<code class="fs-5 user-select-all">([^<]+)</code>', html).group(1)
    assert len(password) >= 20
    assert "questa pagina non la mostrerà più" in html
    assert "flask --app scheduler users set-password carla.verdi@example.org" in html
    assert facilitator_emails(app) == ["carla.verdi@example.org"]
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "carla.verdi@example.org"))
        assert user.role is Role.FACILITATOR and user.full_name == "Carla Verdi"
        assert password not in (user.password_hash or "")

    assert password not in staff.get(path).get_data(as_text=True), "shown once"
    auth.logout()
    response = auth.login("carla.verdi@example.org", password)
    assert response.status_code in (302, 303)
    assert client.get("/gestione/calendario").status_code == 403


@pytest.mark.parametrize(("values", "message"), [
    ({"full_name": "Carla", "email": "non-una-mail"}, "Indirizzo e-mail non valido."),
    ({"full_name": "", "email": "carla@example.org"}, "Campo obbligatorio."),
    ({"full_name": "Doppione", "email": "STAFF@example.org"}, "Esiste già un utente con questo indirizzo e-mail."),
])
def test_bad_new_facilitator_is_a_400_with_the_message(staff, app, values, message):
    path = f"/gestione/calendario/percorsi/{track_id(app)}/facilitatori"
    response = post(staff, path, {"azione": "crea", **values})
    assert response.status_code == 400
    assert message in page_text(response)
    assert "user-select-all" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == Role.FACILITATOR)) == 0
