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


def test_an_ambito_mail_leaves_from_its_sender_with_its_links_and_only_its_office_lists_it(app, client, two):
    from email import message_from_bytes, policy

    from scheduler.calendar.models import Meeting
    from scheduler.calendar.services import answer
    from scheduler.mailing.delivery import build_message
    from scheduler.mailing.models import OutboxMessage
    from scheduler.registry.models import Organization
    from tests.factories import make_entity

    with app.app_context():
        db.session.get(Ambito, two["lodi"]).mail_sender = "tavoli@comune.lodi.example"
        db.session.commit()
    entity = make_entity(app, "Cooperativa del Lodigiano")  # applies to the newest call: Lodi's
    with app.app_context():
        answer(db.session.get(Meeting, two["lodi_meeting"]), db.session.get(Organization, entity["organization"]),
               db.session.get(User, entity["user"]), True, [{"name": "Anna Riva", "role": "", "email": ""}])
        db.session.commit()
        row = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.to_address == entity["email"]))
        assert row.ambito_id == two["lodi"]
        mail = message_from_bytes(build_message(row, app.config["MAIL_DEFAULT_SENDER"]), policy=policy.default)
        assert "tavoli@comune.lodi.example" in mail["From"]
        assert f"tavoli.ambitolodi.example/incontri/{two['lodi_meeting']}" in row.body_text
        message_id = row.id
    assert sign_in(client, "ufficio@comune.lodi.example", LODI).status_code == 302
    assert entity["email"] in client.get("/gestione/posta", base_url=LODI).get_data(as_text=True)
    assert client.get(f"/gestione/posta/{message_id}", base_url=LODI).status_code == 200
    other = app.test_client()
    assert sign_in(other, "staff@example.org").status_code == 302
    assert entity["email"] not in other.get("/gestione/posta").get_data(as_text=True)
    assert other.get(f"/gestione/posta/{message_id}").status_code == 404
    assert other.get(f"/gestione/posta/{message_id}.eml").status_code == 404
    with app.app_context():  # undelivered: only its own office's dashboard says so
        from scheduler.mailing.models import OutboxStatus

        db.session.get(OutboxMessage, message_id).status = OutboxStatus.FAILED
        db.session.commit()
    assert f"/gestione/posta/{message_id}" in client.get("/gestione", base_url=LODI).get_data(as_text=True)
    assert f"/gestione/posta/{message_id}" not in other.get("/gestione").get_data(as_text=True)


def test_an_entity_of_one_ambito_signed_in_on_another_is_offered_to_apply_there(app, crema):
    from tests.factories import make_entity, sign_in_with_link, text_of

    entity = make_entity(app, "ODV Il Campanile")  # applies to Crema's call
    with app.app_context():
        create_ambito("lodi", host="tavoli.ambitolodi.example", name="Ambito territoriale di Lodi",
                      lead_municipality="Comune di Lodi", office_name="Ufficio di Piano di Lodi",
                      office_email="udp@comune.lodi.example")
        text = CALL_FILE.read_text(encoding="utf-8").replace('slug = "crema-2025-2027"', f'slug = "{LODI_SLUG}"')
        load_call(parse_call_text(text), db.session.scalar(db.select(Ambito).where(Ambito.slug == "lodi")))
        db.session.commit()
    client = app.test_client()
    sign_in_with_link(client, app, entity["user"], base_url=LODI)
    area = client.get("/area-riservata", base_url=LODI)
    assert area.status_code == 200
    page = text_of(area)
    assert "ODV Il Campanile non ha ancora una manifestazione di interesse per Ambito territoriale di Lodi." in page
    assert 'href="/candidatura"' in page and "crema-2025-2027" not in page
    assert client.get("/area-riservata/modifica", base_url=LODI).status_code == 404  # Crema's application
    home = app.test_client()
    sign_in_with_link(home, app, entity["user"])
    assert "non ha ancora una manifestazione di interesse" not in text_of(home.get("/area-riservata"))
    assert home.get("/area-riservata/modifica").status_code == 200  # on its own Ambito's host, as before


def test_each_ambito_feed_holds_its_own_meetings_with_links_to_its_own_host(app, client, two):
    import icalendar

    lodi = client.get("/calendario.ics", base_url=LODI)
    crema = client.get("/calendario.ics")
    assert lodi.status_code == crema.status_code == 200
    assert lodi.headers["ETag"] != crema.headers["ETag"]
    events = icalendar.Calendar.from_ical(lodi.data).walk("VEVENT")
    urls = {str(event.get("URL")) for event in events}
    assert any(url.endswith(f"/incontri/{two['lodi_meeting']}") for url in urls)
    assert urls and all("//tavoli.ambitolodi.example" in url for url in urls)
    assert not any(url.endswith(f"/incontri/{two['crema_meeting']}") for url in urls)
    again = client.get("/calendario.ics", base_url=LODI, headers={"If-None-Match": lodi.headers["ETag"]})
    assert again.status_code == 304


def test_a_new_meeting_uid_names_its_ambito_host_and_the_default_ambito_keeps_its_domain(app, two):
    from scheduler.calendar.models import Meeting

    with app.app_context():
        assert db.session.get(Meeting, two["lodi_meeting"]).uid.endswith("@tavoli.ambitolodi.example")
        assert db.session.get(Meeting, two["crema_meeting"]).uid.endswith("@tavoli")  # no host of its own
