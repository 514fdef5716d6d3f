"""Optional mail can be turned off (a one-click link, or the entity's preferences); service mail cannot."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role
from scheduler.extensions import db
from scheduler.mailing import preferences
from scheduler.mailing.models import MailCategory, MailOptOut, OutboxMessage
from scheduler.mailing.services import enqueue
from scheduler.registry.models import Contact, ContactKind
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link


def queue(app, category: MailCategory, topic: str, to: str = "persona@example.org") -> OutboxMessage | None:
    with app.app_context():
        message = enqueue(to=to, subject="Oggetto", text="Testo", html="<p>Testo</p><!--tavoli:unsubscribe-->",
                          category=category, topic=topic)
        db.session.commit()
        return message and db.session.get(OutboxMessage, message.id)


def test_service_mail_has_no_unsubscribe_link(app, crema):
    message = queue(app, MailCategory.SERVICE, "invite")
    assert "List-Unsubscribe" not in message.headers
    assert "Disiscriviti" not in message.body_text and "Disiscriviti" not in message.body_html
    assert "tavoli:unsubscribe" not in message.body_html


def test_one_click_unsubscribe_stops_that_kind_only(app, client, crema):
    message = queue(app, MailCategory.OPTIONAL, "announcement")
    url = re.search(r"<([^>]+)>", message.headers["List-Unsubscribe"]).group(1)
    path = url.split("://", 1)[1].split("/", 1)[1]
    # a mail scanner opening the link changes nothing
    page = client.get("/" + path)
    assert page.status_code == 200 and "p•••@example.org" in page.get_data(as_text=True)
    with app.app_context():
        assert not preferences.opted_out(["persona@example.org"], "announcements")
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", no form token
    done = client.post("/" + path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "non riceverà più" in done.get_data(as_text=True)
    assert queue(app, MailCategory.OPTIONAL, "announcement") is None
    assert queue(app, MailCategory.OPTIONAL, "reminder") is not None  # another kind still arrives
    assert queue(app, MailCategory.SERVICE, "invite") is not None  # and invitations always do


def test_a_forged_or_altered_link_is_refused(app, client, crema):
    with app.app_context():
        token = preferences.unsubscribe_token("persona@example.org", "announcements")
    response = client.post(f"/email/disiscrizione/{token[:-2]}xx")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailOptOut)) == 0


def test_entity_chooses_per_address_in_its_area(app, client, crema):
    entity = make_entity(app, "Ente Scelte", email="scelte@example.org")
    other = make_entity(app, "Altro Ente", email="altro@example.org")
    sign_in_with_link(client, app, entity["user"])
    page = client.get("/area-riservata/preferenze-email").get_data(as_text=True)
    assert "scelte@example.org" in page and "altro@example.org" not in page
    legal = re.search(r"legale\d+@example\.org", page).group(0)
    response = client.post("/area-riservata/preferenze-email", data={
        "csrf_token": csrf_from(client, "/area-riservata/preferenze-email"),
        # keep only reminders for the contact; everything for the legal representative; a forged address
        "wanted": ["reminders:scelte@example.org", f"announcements:{legal}", f"reminders:{legal}",
                   f"follow-ups:{legal}", "announcements:altro@example.org"],
    })
    assert response.status_code == 303
    with app.app_context():
        assert preferences.kinds_refused(["scelte@example.org"])["scelte@example.org"] == {
            "announcements", "follow-ups"}
        assert preferences.kinds_refused([legal])[legal] == set()
        assert preferences.kinds_refused(["altro@example.org"])["altro@example.org"] == set()
    del other


def test_entity_adds_a_delegate_for_one_area(app, client, crema):
    entity = make_entity(app, "Ente Delegati", areas=("A", "B"), email="delegati@example.org")
    sign_in_with_link(client, app, entity["user"])
    page = client.get("/area-riservata/contatti").get_data(as_text=True)
    area_b = re.search(r'<option value="(\d+)">B ', page).group(1)
    response = client.post("/area-riservata/contatti", data={
        "csrf_token": csrf_from(client, "/area-riservata/contatti"), "full_name": "Bruna Delegata",
        "email": "bruna@example.org", "area": area_b, "role": "Coordinatrice"})
    assert response.status_code == 303
    page = client.get("/area-riservata/contatti").get_data(as_text=True)
    assert "Bruna Delegata" in page and "Delegato per l'area B" in page
    bad = client.post("/area-riservata/contatti", data={
        "csrf_token": csrf_from(client, "/area-riservata/contatti"), "full_name": "<b>X</b>",
        "email": "non-un-indirizzo", "area": area_b})
    assert bad.status_code == 400
    assert "Indirizzo e-mail non valido" in bad.get_data(as_text=True)
    assert "non-un-indirizzo" in bad.get_data(as_text=True)


def test_an_entity_cannot_remove_another_entitys_contact(app, client, crema):
    entity = make_entity(app, "Ente Uno", email="uno@example.org")
    other = make_entity(app, "Ente Due", email="due@example.org")
    with app.app_context():
        contact = Contact(organization_id=other["organization"], kind=ContactKind.DELEGATE, full_name="Di Due",
                          email="didue@example.org")
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
    sign_in_with_link(client, app, entity["user"])
    response = client.post(f"/area-riservata/contatti/{contact_id}/rimuovi",
                           data={"csrf_token": csrf_from(client, "/area-riservata/contatti")})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Contact, contact_id) is not None


ROUTES = ["/gestione/comunicazioni", "/gestione/comunicazioni/nuova", "/gestione/comunicazioni/{ann}",
          "/gestione/comunicazioni/{ann}/modifica", "/gestione/comunicazioni/{ann}/anteprima",
          "/gestione/calendario/incontri/{meeting}/comunica-sede"]
ACTIONS = ["prova", "invia", "programma", "annulla-programmazione", "elimina", "ritenta"]


@pytest.mark.parametrize("role", [None, Role.ENTITY, Role.FACILITATOR])
def test_only_staff_compose_send_or_read_the_log(app, client, auth, make_user, crema, role):
    from scheduler.announcements.audience import Audience
    from scheduler.announcements.services import Draft, create_draft
    from scheduler.calls.services import current_call

    staff = make_user("staff@example.org", role=Role.STAFF)
    meeting = make_meeting(app, area="A")
    with app.app_context():
        from scheduler.auth.models import User

        author = db.session.get(User, staff) if isinstance(staff, int) else db.session.merge(staff)
        ann = create_draft(current_call(), Draft("Oggetto", "Testo", Audience(kind="admitted")), author).id
        db.session.commit()
    if role is Role.ENTITY:
        sign_in_with_link(client, app, make_entity(app, "Ente Curioso")["user"])
    elif role is Role.FACILITATOR:
        make_user("facilitatore@example.org", role=Role.FACILITATOR)
        auth.login("facilitatore@example.org")
    expected = {302} if role is None else {403}
    for route in ROUTES:
        assert client.get(route.format(ann=ann, meeting=meeting)).status_code in expected, route
    token = csrf_from(client, "/accedi") if role is None else csrf_from(client, "/")
    for action in ACTIONS:
        response = client.post(f"/gestione/comunicazioni/{ann}/{action}", data={"csrf_token": token})
        assert response.status_code in expected, action
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_preferences_are_in_the_data_export_and_go_with_erasure(app, crema, make_user):
    from scheduler.auth.models import User
    from scheduler.registry import services as registry
    from scheduler.registry.models import Organization

    entity = make_entity(app, "Ente Privacy", email="privacy@example.org")
    staff_id = make_user("staff@example.org", role=Role.STAFF)
    with app.app_context():
        preferences.set_opt_out("privacy@example.org", "reminders", True)
        db.session.commit()
        org = db.session.get(Organization, entity["organization"])
        assert registry.export_data(org)["preferenze_email"] == {"privacy@example.org": ["reminders"]}
        user = db.session.get(User, entity["user"])
        registry.request_erasure(org, user)
        staff = db.session.get(User, staff_id) if isinstance(staff_id, int) else db.session.merge(staff_id)
        registry.confirm_erasure(org, staff)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailOptOut)) == 0
