"""Who may act for whom: what an outside attack found, done again through HTTP.

Staff reading a sign-in link in the outbox, an invitation's link opening the reserved area, a link reaching a
staff address, another entity's address named as a delegate to switch its mail, a replaced contact keeping its
account, an older link still working, and an admitted entity rewriting its public listing at once.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from scheduler.auth.models import LoginToken, Role, User
from scheduler.auth.services import hash_token
from scheduler.calendar.models import Rsvp, RsvpStatus
from scheduler.extensions import db
from scheduler.mailing import preferences
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Contact, Organization
from scheduler.timeutil import utcnow
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link
from tests.registry.test_application_form import form_data

PASSWORD = "password-di-prova-1"
LINK = re.compile(r"https?://[^\s\"'<>]+")


def _last_mail(app, to: str, topic: str | None = None) -> OutboxMessage:
    with app.app_context():
        query = sa.select(OutboxMessage).where(OutboxMessage.to_address == to)
        if topic:
            query = query.where(OutboxMessage.topic == topic)
        message = db.session.scalars(query.order_by(OutboxMessage.id.desc())).first()
        assert message is not None, f"no message to {to}"
        db.session.expunge(message)
        return message


def _links(text: str, fragment: str) -> list[str]:
    return [link.rstrip(".,)") for link in LINK.findall(text) if fragment in link]


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def _answer_form(client, path: str, attending: str, name: str = "Maria Rossi") -> dict:
    return {"csrf_token": csrf_from(client, path), "attending": attending, "person_name": name, "person_role": ""}


def test_staff_read_sign_in_links_redacted_in_the_outbox(app, client, auth, make_user, crema):
    entity = make_entity(app, "Associazione Aurora")
    client.post("/accedi/link", data={"csrf_token": csrf_from(client, "/accedi"), "email": entity["email"]})
    mail = _last_mail(app, entity["email"], "login-link")
    (link,) = _links(mail.body_text, "/accedi/link/")
    token = link.rsplit("/", 1)[1]

    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    auth.login("staff@example.org", PASSWORD)
    page = client.get(f"/gestione/posta/{mail.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert token not in html and "/accedi/link/[riservato]" in html
    eml = client.get(f"/gestione/posta/{mail.id}.eml")
    assert eml.status_code == 200 and token.encode() not in eml.data
    assert b"/accedi/link/[riservato]" in eml.data or b"riservato" in eml.data


def test_the_invitation_link_answers_that_meeting_only_and_does_not_sign_in(app, client, crema):
    entity = make_entity(app, "Associazione Borgo", email="borgo@example.org")
    meeting_id = make_meeting(app, area="A", days_ahead=10)
    other_meeting = make_meeting(app, area="A", days_ahead=20)
    sign_in_with_link(client, app, entity["user"])
    path = f"/incontri/{meeting_id}/adesione"
    assert client.post(path, data=_answer_form(client, path, "yes")).status_code == 302
    client.post("/esci", data={"csrf_token": csrf_from(client, "/")})
    invitation = _last_mail(app, "borgo@example.org", "invite")
    (link,) = _links(invitation.body_text, "/risposta/")
    answer_path = _path(link)

    # a stranger holding the e-mail: the link shows the answer form, and nothing else opens
    stranger = app.test_client()
    page = stranger.get(answer_path)
    assert page.status_code == 200 and "Associazione Borgo" in page.get_data(as_text=True)
    area = stranger.get("/area-riservata")
    assert area.status_code in (302, 303) and "/accedi" in area.headers["Location"]
    # the same link changes the answer again and again (no "already used")
    assert stranger.post(answer_path, data=_answer_form(stranger, answer_path, "no")).status_code == 302
    assert stranger.post(answer_path, data=_answer_form(stranger, answer_path, "yes")).status_code == 302
    with app.app_context():
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.meeting_id == meeting_id))
        assert rsvp.status is RsvpStatus.YES and rsvp.organization_id == entity["organization"]
    # for another meeting, or altered, it is refused
    token = answer_path.rsplit("/", 1)[1]
    assert stranger.get(f"/incontri/{other_meeting}/risposta/{token}").status_code == 404
    assert stranger.get(answer_path + "x").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginToken).where(
            LoginToken.used_at.is_(None))) == 0, "an invitation carries no sign-in link"


def test_a_sign_in_link_for_a_staff_or_facilitator_address_opens_nothing(app, client, make_user, crema):
    for email, role in (("staff@example.org", Role.STAFF), ("facilitatrice@example.org", Role.FACILITATOR)):
        user_id = make_user(email, role=role, password=PASSWORD)
        user_id = user_id if isinstance(user_id, int) else user_id.id
        # a link as the old code issued it for such an address
        with app.app_context():
            db.session.add(LoginToken(user_id=user_id, token_hash=hash_token(f"vecchio-{role.value}"),
                                      next_path="/gestione", expires_at=utcnow().replace(year=utcnow().year + 1)))
            db.session.commit()
        assert client.get(f"/accedi/link/vecchio-{role.value}").status_code == 400
        response = client.post(f"/accedi/link/vecchio-{role.value}", data={"csrf_token": csrf_from(client, "/accedi")})
        assert response.status_code == 400
        assert client.get("/gestione/posta").status_code in (302, 303, 401, 403)
        # asking for a link for that address sends nothing
        client.post("/accedi/link", data={"csrf_token": csrf_from(client, "/accedi"), "email": email})
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
                OutboxMessage.to_address == email)) == 0


def test_another_entitys_address_cannot_be_made_a_delegate_nor_have_its_mail_switched(app, client, crema):
    victim = make_entity(app, "Cooperativa Vittima", email="vittima@example.org")
    attacker = make_entity(app, "Associazione Furba", email="furba@example.org")
    sign_in_with_link(client, app, attacker["user"])
    response = client.post("/area-riservata/contatti", data={
        "csrf_token": csrf_from(client, "/area-riservata/contatti"), "full_name": "Finto Delegato",
        "role": "", "email": "vittima@example.org", "phone": "", "area": ""})
    assert response.status_code == 303
    page = client.get("/area-riservata/contatti").get_data(as_text=True)
    assert "In attesa di conferma" in page
    # the owner of the address is asked, and until they confirm the address is not the attacker's
    confirmation = _last_mail(app, "vittima@example.org", "delegate-confirm")
    assert "Associazione Furba" in confirmation.body_text
    prefs = client.get("/area-riservata/preferenze-email").get_data(as_text=True)
    assert 'value="announcements:vittima@example.org"' not in prefs
    client.post("/area-riservata/preferenze-email", data={
        "csrf_token": csrf_from(client, "/area-riservata/preferenze-email"), "wanted": []})
    with app.app_context():
        assert not preferences.opted_out(["vittima@example.org"], "announcements")
    # the victim's own page still sets its own address
    del victim


def test_a_delegate_who_confirms_receives_the_entitys_mail(app, client, crema):
    entity = make_entity(app, "Associazione Delegante", email="delegante@example.org")
    sign_in_with_link(client, app, entity["user"])
    client.post("/area-riservata/contatti", data={
        "csrf_token": csrf_from(client, "/area-riservata/contatti"), "full_name": "Lucia Bianchi",
        "role": "Volontaria", "email": "lucia@example.org", "phone": "", "area": ""})
    mail = _last_mail(app, "lucia@example.org", "delegate-confirm")
    (link,) = _links(mail.body_text, "/contatti/conferma/")
    delegate = app.test_client()
    page = delegate.get(_path(link))
    assert page.status_code == 200 and "Confermo di essere delegato" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Contact.confirmed_at).where(Contact.email == "lucia@example.org")) is None
    done = delegate.post(_path(link), data={"csrf_token": csrf_from(delegate, _path(link))})
    assert done.status_code == 200 and "il tuo indirizzo è confermato" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Contact.confirmed_at).where(Contact.email == "lucia@example.org"))
    prefs = client.get("/area-riservata/preferenze-email").get_data(as_text=True)
    assert 'value="announcements:lucia@example.org"' in prefs
    assert delegate.get(_path(link) + "x").status_code == 404


def test_an_older_link_stops_working_once_a_newer_one_is_used_or_the_user_signs_out(app, client, crema):
    entity = make_entity(app, "Associazione Porte", email="porte@example.org")
    tokens = []
    for _ in range(3):
        client.post("/accedi/link", data={"csrf_token": csrf_from(client, "/accedi"), "email": entity["email"]})
        (link,) = _links(_last_mail(app, entity["email"], "login-link").body_text, "/accedi/link/")
        tokens.append(_path(link))
    newest = tokens[-1]
    assert client.post(newest, data={"csrf_token": csrf_from(client, newest)}).status_code == 302
    other = app.test_client()
    assert other.get(tokens[0]).status_code == 400  # older, unused: void
    client.post("/esci", data={"csrf_token": csrf_from(client, "/")})
    client.post("/accedi/link", data={"csrf_token": csrf_from(client, "/accedi"), "email": entity["email"]})
    (link,) = _links(_last_mail(app, entity["email"], "login-link").body_text, "/accedi/link/")
    fresh = _path(link)
    sign_in_with_link(client, app, entity["user"])
    client.post("/esci", data={"csrf_token": csrf_from(client, "/")})
    assert other.get(fresh).status_code == 400  # signing out voids what was left in the mailbox


def test_a_replaced_contact_loses_its_account(app, client, crema):
    entity = make_entity(app, "Associazione Cambio", email="vecchio@example.org")
    old_client = app.test_client()
    sign_in_with_link(old_client, app, entity["user"])
    assert old_client.get("/area-riservata").status_code == 200
    sign_in_with_link(client, app, entity["user"])
    form = form_data(app, name="Associazione Cambio", contact_email="nuovo@example.org", areas=["A"],
                     competence_A="Esperienza nell'area A.", competence_D=None)
    form["csrf_token"] = csrf_from(client, "/area-riservata/modifica")
    response = client.post("/area-riservata/modifica", data=form)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    with app.app_context():
        old = db.session.get(User, entity["user"])
        assert old.active is False
        assert db.session.scalar(sa.select(User.active).where(User.email == "nuovo@example.org")) is True
    assert old_client.get("/area-riservata").status_code in (302, 303)  # its session is gone


def test_an_admitted_entity_cannot_rewrite_its_public_listing_at_once(app, client, auth, make_user, crema):
    entity = make_entity(app, "Associazione Onesta", email="onesta@example.org")
    sign_in_with_link(client, app, entity["user"])
    form = form_data(app, name="Comune di Crema - Ufficio di Piano (sito ufficiale)", website="https://truffa.example",
                     contact_email="onesta@example.org", areas=["A"], competence_A="Esperienza nell'area A.",
                     competence_D=None)
    form["csrf_token"] = csrf_from(client, "/area-riservata/modifica")
    response = client.post("/area-riservata/modifica", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "dopo la verifica dell" in response.get_data(as_text=True)
    assert 'id="public-change-pending"' in client.get("/area-riservata").get_data(as_text=True)
    listing = app.test_client().get("/elenco").get_data(as_text=True)
    assert "Associazione Onesta" in listing and "sito ufficiale" not in listing and "truffa.example" not in listing

    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    staff = app.test_client()
    staff.post("/accedi", data={"csrf_token": csrf_from(staff, "/accedi"), "email": "staff@example.org",
                                "password": PASSWORD})
    review = f"/gestione/candidature/{entity['application']}"
    page = staff.get(review).get_data(as_text=True)
    assert 'id="public-change"' in page and "truffa.example" in page
    refused = staff.post(f"{review}/modifiche-pubbliche", data={"csrf_token": csrf_from(staff, review),
                                                                  "action": "refuse"})
    assert refused.status_code == 303
    with app.app_context():
        organization = db.session.get(Organization, entity["organization"])
        assert organization.name == "Associazione Onesta" and organization.pending_public is None
