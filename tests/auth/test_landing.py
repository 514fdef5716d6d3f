"""Where each role lands after signing in: its own page, unless the sign-in asked for a (local) page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from auth_helpers import ENTITY_EMAIL, STAFF_EMAIL, STAFF_PASSWORD, csrf_from

from scheduler.auth.landing import LANDING_ENDPOINTS
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.extensions import db
from tests.factories import make_entity, make_meeting, sign_in_with_link

FACILITATOR_EMAIL = "facilitatrice@example.org"


def at(monkeypatch, *args: int) -> None:
    monkeypatch.setattr("scheduler.timeutil.clock", lambda: datetime(*args, tzinfo=UTC))


def password_sign_in(client, email: str, next_value: str | None = None):
    page = client.get("/accedi", query_string={"next": next_value} if next_value else None).get_data(as_text=True)
    data = {"email": email, "password": STAFF_PASSWORD, "csrf_token": csrf_from(page)}
    if next_value is not None:
        data["next"] = next_value
    return client.post("/accedi", data=data)


def test_every_role_has_a_registered_landing_page(app):
    assert set(LANDING_ENDPOINTS) == set(Role)
    assert all(endpoint in app.view_functions for endpoint in LANDING_ENDPOINTS.values())


def test_staff_land_on_their_dashboard(client, make_user, crema):
    make_user(STAFF_EMAIL, role=Role.STAFF)
    response = password_sign_in(client, STAFF_EMAIL)
    assert response.status_code == 302
    assert response.headers["Location"] == "/gestione"
    page = client.get("/gestione").get_data(as_text=True)
    assert "Accesso effettuato." in page
    assert "Cruscotto" in page and "Candidature da esaminare" in page


@pytest.mark.parametrize(("email", "role"), [(STAFF_EMAIL, Role.STAFF), (FACILITATOR_EMAIL, Role.FACILITATOR)])
def test_a_local_next_still_wins(client, make_user, email, role):
    make_user(email, role=role)
    response = password_sign_in(client, email, "/calendario?area=A")
    assert response.headers["Location"] == "/calendario?area=A"


@pytest.mark.parametrize("next_value", ["https://evil.example/", "//evil.example/presenze"])
def test_an_unsafe_next_gives_the_roles_own_page(client, make_user, next_value):
    make_user(FACILITATOR_EMAIL, role=Role.FACILITATOR)
    response = password_sign_in(client, FACILITATOR_EMAIL, next_value)
    assert response.headers["Location"] == "/presenze"


def test_a_facilitator_lands_on_today_s_registers_then_the_next_ones(app, client, make_user, crema, monkeypatch):
    at(monkeypatch, 2024, 5, 20, 8)  # 10:00 in Rome
    later_today = make_meeting(app, area="A", days_ahead=0.1)
    in_three_days = make_meeting(app, area="A", days_ahead=3)
    tomorrow = make_meeting(app, area="A", days_ahead=1)
    yesterday = make_meeting(app, area="A", days_ahead=-0.9)
    other_track = make_meeting(app, area="B", days_ahead=0.1)
    user_id = make_user(FACILITATOR_EMAIL, role=Role.FACILITATOR)
    with app.app_context():
        user = db.session.get(User, user_id)
        user.tracks.append(db.session.get(Meeting, later_today).track)
        db.session.commit()

    response = password_sign_in(client, FACILITATOR_EMAIL)
    assert response.headers["Location"] == "/presenze"
    page = client.get("/presenze").get_data(as_text=True)
    assert "Accesso effettuato." in page
    html = page[page.index("<main"):page.index("</main>")]
    order = [html.index(f'href="/presenze/{m}"') for m in (later_today, tomorrow, in_three_days, yesterday)]
    assert order == sorted(order)
    assert html.index(">Oggi</h2>") < order[0] < html.index(">Prossimi incontri</h2>") < order[1]
    assert html.index(">Conclusi di recente</h2>") < order[3]
    assert f'href="/presenze/{other_track}"' not in html


def test_a_facilitator_with_nothing_today_is_told_so(app, client, make_user, crema, monkeypatch):
    at(monkeypatch, 2024, 5, 20, 8)
    coming = make_meeting(app, area="A", days_ahead=4)
    user_id = make_user(FACILITATOR_EMAIL, role=Role.FACILITATOR)
    with app.app_context():
        user = db.session.get(User, user_id)
        user.tracks.append(db.session.get(Meeting, coming).track)
        db.session.commit()
    password_sign_in(client, FACILITATOR_EMAIL)
    html = client.get("/presenze").get_data(as_text=True)
    assert "Nessun incontro oggi." in html
    assert html.index("Nessun incontro oggi.") < html.index(f'href="/presenze/{coming}"')
    assert "Conclusi di recente" not in html


def test_an_entity_lands_on_its_reserved_area(app, client, crema):
    entity = make_entity(app, "Cooperativa Sociale Approdo")
    response = sign_in_with_link(client, app, entity["user"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/area-riservata"
    page = client.get("/area-riservata").get_data(as_text=True)
    assert "Accesso effettuato." in page and "Cooperativa Sociale Approdo" in page


def test_an_entity_s_link_with_next_goes_there(app, client, crema):
    meeting_id = make_meeting(app, area="A", days_ahead=10)
    entity = make_entity(app, "Cooperativa Sociale Approdo")
    response = sign_in_with_link(client, app, entity["user"], f"/incontri/{meeting_id}/adesione")
    assert response.headers["Location"] == f"/incontri/{meeting_id}/adesione"


def test_an_entity_asking_for_a_link_without_next_lands_on_its_area(app, client, crema):
    """The whole way: the link is asked for on the sign-in page (no next), then opened from the e-mail."""
    make_entity(app, "Associazione Via Libera", email=ENTITY_EMAIL)
    page = client.get("/accedi").get_data(as_text=True)
    client.post("/accedi/link", data={"email": ENTITY_EMAIL, "csrf_token": csrf_from(page)})
    from scheduler.mailing.models import OutboxMessage

    with app.app_context():
        body = db.session.scalar(sa.select(OutboxMessage.body_text).where(OutboxMessage.topic == "login-link"))
    token = body.split("/accedi/link/", 1)[1].split()[0]
    confirm = client.get(f"/accedi/link/{token}").get_data(as_text=True)
    response = client.post(f"/accedi/link/{token}", data={"csrf_token": csrf_from(confirm)})
    assert response.headers["Location"] == "/area-riservata"
    assert "Associazione Via Libera" in client.get("/area-riservata").get_data(as_text=True)
