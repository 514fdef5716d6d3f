"""One person, several entities: the president of an ODV who also presides an APS applies for the second with the
same address, signs in once, chooses which entity to act for from the header, and sees nothing of one from the
other. An address stops speaking for an entity when that entity replaces or erases it, and only for that one."""

from __future__ import annotations

import re

import sqlalchemy as sa

from scheduler.auth.models import LoginToken, User
from scheduler.auth.services import issue_login_token
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due
from scheduler.registry import services as registry
from scheduler.registry.models import Application, ApplicationStatus, Organization
from tests.factories import codice_fiscale, csrf_from, make_entity, name_as_contact, sign_in_with_link, text_of
from tests.registry.test_application_form import form_data
from tests.security.conftest import application_form

PRESIDENT = "paola.bianchi@example.org"
LINK = re.compile(r"http://tavoli\.test(/accedi/link/[A-Za-z0-9_\-]+)")


def _two_entities(app) -> tuple[dict, dict, int]:
    """Two admitted entities whose contact person is the same account; returns them and the account's id."""
    odv = make_entity(app, "ODV La Rondine", email=PRESIDENT, areas=("A",))
    aps = make_entity(app, "APS Il Melograno", email="melograno@example.org", areas=("B",))
    name_as_contact(app, aps, odv)  # the APS names the ODV's contact person as its own too
    return odv, aps, odv["user"]


def _choose(client, organization_id: int, path: str = "/accedi/ente", **extra):
    return client.post("/accedi/ente", data={"organization": str(organization_id),
                                             "csrf_token": csrf_from(client, path), **extra})


def test_a_second_entity_with_the_same_president_applies_and_its_link_acts_for_it(smtp_app_config, smtp_server,
                                                                                  app, crema):
    odv = make_entity(app, "ODV La Rondine", email=PRESIDENT)
    client = app.test_client()
    form = {**application_form(app), "name": "APS Il Melograno", "codice_fiscale": codice_fiscale(),
            "legal_email": PRESIDENT, "contact_email": PRESIDENT, "contact_email_ok": PRESIDENT,
            "csrf_token": csrf_from(client, "/candidatura")}
    response = client.post("/candidatura", data=form)
    assert response.status_code == 302, text_of(response)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == PRESIDENT))
        assert user.id == odv["user"]  # one person, one account
        assert sorted(o.name for o in user.organizations) == ["APS Il Melograno", "ODV La Rondine"]
        deliver_all_due("test-worker")
    mail = smtp_server.wait_for(1)[-1]
    assert mail["To"].addresses[0].addr_spec == PRESIDENT
    link = LINK.search(mail.get_body(("plain",)).get_content()).group(1)
    # the confirmation link of the APS signs in acting for the APS, and confirms the APS's application
    page = client.get(link)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(link, data={"csrf_token": csrf}, follow_redirects=True)
    page = text_of(response)
    assert response.status_code == 200
    assert "la candidatura è stata inviata con il protocollo" in page
    assert "APS Il Melograno" in page and "Cambia ente" in page
    with app.app_context():
        melograno = db.session.scalar(sa.select(Application).join(Organization).where(
            Organization.name == "APS Il Melograno"))
        assert melograno.status is ApplicationStatus.SUBMITTED
        rondine = db.session.get(Application, odv["application"])
        assert rondine.status is ApplicationStatus.ADMITTED  # the other entity's application is untouched


def test_signing_in_asks_which_entity_and_the_header_changes_it(app, crema):
    odv, aps, user_id = _two_entities(app)
    client = app.test_client()
    response = sign_in_with_link(client, app, user_id)
    assert response.status_code == 302
    # a link asked for from the sign-in page names no entity: the reserved area asks first
    response = client.get(response.headers["Location"])
    assert response.status_code == 302 and response.headers["Location"].startswith("/accedi/ente")
    chooser = client.get(response.headers["Location"])
    page = text_of(chooser)
    assert "Per quale ente vuoi operare?" in page
    assert page.index("APS Il Melograno") < page.index("ODV La Rondine")  # in alphabetical order
    # nothing of either entity's own pages is served before choosing
    for path in ("/area-riservata", "/area-riservata/partecipazione", "/area-riservata/dati.json",
                 "/area-riservata/contatti"):
        assert client.get(path).status_code == 302, path
    response = _choose(client, odv["organization"], next="/area-riservata")
    assert response.status_code == 302 and response.headers["Location"] == "/area-riservata"
    page = text_of(client.get("/area-riservata"))
    assert "ODV La Rondine" in page and "APS Il Melograno" not in page.split("Cambia ente", 1)[1]
    header = page.split("Cambia ente", 1)[0]
    assert "ODV La Rondine" in header
    # switching shows the other entity's area, with its own application
    assert _choose(client, aps["organization"], "/area-riservata").status_code == 302
    page = text_of(client.get("/area-riservata"))
    with app.app_context():
        protocols = {a.organization.name: a.protocol for a in db.session.scalars(sa.select(Application))}
    assert protocols["APS Il Melograno"] in page and protocols["ODV La Rondine"] not in page


def test_nothing_of_one_entity_is_reached_from_the_other(app, crema):
    odv, aps, user_id = _two_entities(app)
    stranger = make_entity(app, "Cooperativa Estranea")
    client = app.test_client()
    sign_in_with_link(client, app, user_id)
    assert _choose(client, odv["organization"]).status_code == 302
    with app.app_context():
        aps_application = db.session.get(Application, aps["application"])
        aps_application.status = ApplicationStatus.UNCONFIRMED
        aps_application.email_confirmed_at = None
        db.session.commit()
    # acting for the ODV, the APS's confirmation page is a 404 and confirms nothing
    assert client.get(f"/candidatura/{aps['application']}/conferma").status_code == 404
    with app.app_context():
        assert db.session.get(Application, aps["application"]).status is ApplicationStatus.UNCONFIRMED
    # an entity that is not the account's cannot be chosen: the same 404 as a made-up id, and nothing changes
    for other in (stranger["organization"], 999_999):
        response = _choose(client, other)
        assert response.status_code == 404
        assert "Questo ente non è tra quelli per cui puoi operare." in text_of(response)
    page = text_of(client.get("/area-riservata"))
    assert "ODV La Rondine" in page and "Cooperativa Estranea" not in page
    record = text_of(client.get("/area-riservata/partecipazione"))
    assert "ODV La Rondine" in record and "APS Il Melograno" not in record


def test_a_page_open_for_one_entity_does_not_post_for_the_other(app, crema):
    odv, aps, user_id = _two_entities(app)
    client = app.test_client()
    sign_in_with_link(client, app, user_id)
    _choose(client, odv["organization"])
    stale = csrf_from(client, "/area-riservata/modifica")  # the ODV's edit form, left open in a tab
    _choose(client, aps["organization"])  # chosen in another tab
    form = {**application_form(app), "name": "Nome sbagliato", "csrf_token": stale}
    response = client.post("/area-riservata/modifica", data=form)
    assert response.status_code == 400
    assert "ricarica la pagina" in text_of(response).lower()
    with app.app_context():
        assert {o.name for o in db.session.scalars(sa.select(Organization))} == {
            "ODV La Rondine", "APS Il Melograno"}


def test_an_entity_that_replaces_the_address_takes_it_only_off_itself(app, crema):
    _odv, aps, user_id = _two_entities(app)
    client = app.test_client()
    sign_in_with_link(client, app, user_id)
    _choose(client, aps["organization"])
    with app.app_context():  # a link sent for the APS before its contact changes
        issue_login_token(db.session.get(User, user_id), None,
                          organization=db.session.get(Organization, aps["organization"]))
        db.session.commit()
    # the APS names another contact person, from its own edit page, acting for the APS
    data = form_data(app, name="APS Il Melograno", areas=["B"], competence_B="Competenze in B.",
                     contact_email="nuovo.referente@example.org", privacy=None, truthful=None)
    data["csrf_token"] = csrf_from(client, "/area-riservata/modifica")
    response = client.post("/area-riservata/modifica", data=data, follow_redirects=True)
    assert response.status_code == 200, text_of(response)
    assert "non è più quello di APS Il Melograno" in text_of(response)
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.active and [o.name for o in user.organizations] == ["ODV La Rondine"]
        assert db.session.scalar(sa.select(LoginToken.used_at).where(
            LoginToken.organization_id == aps["organization"])) is not None
    # the session that acted for the APS now acts for the one entity left, and has no switcher
    page = text_of(client.get("/area-riservata"))
    assert "ODV La Rondine" in page and "APS Il Melograno" not in page and "Cambia ente" not in page


def test_erasing_one_entity_keeps_the_account_for_the_other(app, crema, staff):
    _odv, aps, user_id = _two_entities(app)
    with app.app_context():
        organization = db.session.get(Organization, aps["organization"])
        office = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        registry.request_erasure(organization, office)
        registry.confirm_erasure(organization, office)
        db.session.commit()
        user = db.session.get(User, user_id)
        assert user is not None and user.active
        assert [o.name for o in user.organizations] == ["ODV La Rondine"]
        assert db.session.get(Organization, aps["organization"]).users == []
