"""Two Ambiti on one installation: Crema, the default one (every host name no Ambito claims), and Lodi on its own
host name. Each answers with its own pages, calls, meetings and staff; an address of the other is not found, and the
other's staff cannot sign in."""

from __future__ import annotations

import pytest

from scheduler.auth.models import Role, User
from scheduler.calls.ambiti import ambito_for_host, create_ambito, normal_host
from scheduler.calls.loader import load_call, parse_call_text
from scheduler.calls.models import Ambito
from scheduler.extensions import db
from tests.auth.auth_helpers import STAFF_PASSWORD, csrf_from
from tests.conftest import CALL_FILE
from tests.factories import make_meeting

LODI = "http://tavoli.ambitolodi.example"
LODI_SLUG = "lodi-2025-2027"


@pytest.fixture
def two(app, crema, make_user):
    """Crema (its call and a meeting, its office) and Lodi (host, call, a meeting, its office)."""
    crema_meeting = make_meeting(app, area="A", days_ahead=5)
    make_user("staff@example.org", role=Role.STAFF)
    with app.app_context():
        lodi = create_ambito("lodi", host="Tavoli.AmbitoLodi.example", name="Ambito territoriale di Lodi",
                             lead_municipality="Comune di Lodi", office_name="Ufficio di Piano di Lodi",
                             office_email="udp@comune.lodi.example")
        text = CALL_FILE.read_text(encoding="utf-8").replace('slug = "crema-2025-2027"', f'slug = "{LODI_SLUG}"')
        text = text.replace('ambito = "Ambito territoriale di Crema"', 'ambito = "Ambito territoriale di Lodi"')
        call, _ = load_call(parse_call_text(text), lodi)
        call.title = "Avviso dell'Ambito di Lodi"
        call.summary = "L'Ufficio di Piano di Lodi raccoglie le manifestazioni di interesse."
        db.session.add(User(email="ufficio@comune.lodi.example", role=Role.STAFF, ambito=lodi))
        db.session.commit()
        lodi_id = lodi.id
    lodi_meeting = make_meeting(app, area="A", days_ahead=6)  # the newest call: Lodi's
    with app.app_context():
        staff = db.session.scalar(db.select(User).where(User.email == "staff@example.org"))
        lodi_staff = db.session.scalar(db.select(User).where(User.email == "ufficio@comune.lodi.example"))
        lodi_staff.password_hash = staff.password_hash
        db.session.commit()
    return {"crema_meeting": crema_meeting, "lodi_meeting": lodi_meeting, "lodi": lodi_id}


def sign_in(client, email: str, base_url: str = "http://localhost"):
    page = client.get("/accedi", base_url=base_url).get_data(as_text=True)
    return client.post("/accedi", base_url=base_url,
                       data={"email": email, "password": STAFF_PASSWORD, "csrf_token": csrf_from(page)})


def test_a_host_name_finds_its_ambito_and_any_other_the_default(app, two):
    with app.app_context():
        assert ambito_for_host("tavoli.ambitolodi.example:443").slug == "lodi"
        assert ambito_for_host("TAVOLI.AMBITOLODI.EXAMPLE.").slug == "lodi"
        assert ambito_for_host("tavoli.comune.crema.cr.it").slug == "crema"
        assert ambito_for_host(None).slug == "crema"
        assert ambito_for_host("[::1]:5000").slug == "crema"
        assert db.session.get(Ambito, two["lodi"]).host == "tavoli.ambitolodi.example"
    assert normal_host("bad host\x00") is None


def test_each_host_shows_its_own_ambito_and_call(client, two):
    lodi = client.get("/", base_url=LODI).get_data(as_text=True)
    assert "Ambito territoriale di Lodi" in lodi and "Avviso dell&#39;Ambito di Lodi" in lodi
    assert "Comune di Lodi" in lodi and "Ambito territoriale di Crema" not in lodi
    crema = client.get("/").get_data(as_text=True)
    assert "Ambito territoriale di Crema" in crema and "Lodi" not in crema


def test_an_address_of_the_other_ambito_is_not_found(client, two):
    assert client.get("/avvisi/crema-2025-2027", base_url=LODI).status_code == 404
    assert client.get(f"/avvisi/{LODI_SLUG}").status_code == 404
    assert client.get(f"/avvisi/{LODI_SLUG}", base_url=LODI).status_code == 200
    assert client.get(f"/incontri/{two['crema_meeting']}", base_url=LODI).status_code == 404
    assert client.get(f"/incontri/{two['lodi_meeting']}").status_code == 404
    assert client.get(f"/incontri/{two['lodi_meeting']}", base_url=LODI).status_code == 200
    assert client.get(f"/incontri/{two['crema_meeting']}.ics", base_url=LODI).status_code == 404


def test_staff_sign_in_only_where_they_work(client, two):
    refused = sign_in(client, "staff@example.org", LODI)
    assert refused.status_code == 401
    assert "E-mail o password non corretti." in refused.get_data(as_text=True)
    assert sign_in(client, "ufficio@comune.lodi.example").status_code == 401  # on Crema's host
    assert sign_in(client, "ufficio@comune.lodi.example", LODI).status_code == 302


def test_staff_see_and_change_only_their_own_ambito(client, two):
    assert sign_in(client, "ufficio@comune.lodi.example", LODI).status_code == 302
    calls = client.get("/gestione/avvisi", base_url=LODI)
    assert calls.status_code == 200
    page = calls.get_data(as_text=True)
    assert "Avviso dell&#39;Ambito di Lodi" in page and "crema-2025-2027" not in page
    own = client.get(f"/gestione/calendario/incontri/{two['lodi_meeting']}", base_url=LODI)
    assert own.status_code == 200
    other = client.get(f"/gestione/calendario/incontri/{two['crema_meeting']}", base_url=LODI)
    assert other.status_code == 404
    token = csrf_from(own.get_data(as_text=True))
    cancel = client.post(f"/gestione/calendario/incontri/{two['crema_meeting']}/annulla", base_url=LODI,
                         data={"csrf_token": token, "reason": "prova"})
    assert cancel.status_code == 404


def test_a_session_of_one_ambito_opens_nothing_of_the_other(app, client, two):
    """A staff session carried to the other host (the same cookie, e.g. behind one proxy) is not the office there."""
    assert sign_in(client, "ufficio@comune.lodi.example", LODI).status_code == 302
    cookie = client.get_cookie("session", domain="tavoli.ambitolodi.example")
    client.set_cookie("session", cookie.value, domain="localhost")
    assert client.get("/gestione").status_code == 404
    assert client.get(f"/gestione/calendario/incontri/{two['crema_meeting']}").status_code == 404
