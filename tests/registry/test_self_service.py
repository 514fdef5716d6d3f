"""Self-service for mistakes: an applicant who mistyped the contact person's address corrects it from the
confirmation page of the same browser and gets the link again at once; the office can do it for them; the form
warns of a mistyped provider's domain; applying again with the same codice fiscale says what to do."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from scheduler.auth.models import LoginToken, User
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.mailing.worker import deliver_all_due
from scheduler.registry.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Contact,
    ContactKind,
    Organization,
)
from scheduler.registry.services import suggest_email
from tests.factories import codice_fiscale, csrf_from, make_entity, text_of
from tests.security.conftest import CONTACT_EMAIL, ENTITY_CF, LEGAL_EMAIL, application_form

TYPO = "ludovico.ferraresi@gmial.com"
RIGHT = "ludovico.ferraresi@gmail.com"
TOO_MANY = "Troppi tentativi in poco tempo. Attendi qualche minuto e riprova."
LINK = re.compile(r"http://tavoli\.test(/accedi/link/[A-Za-z0-9_\-]+)")


def _apply(client, app, **changes):
    data = {**application_form(app), **changes, "csrf_token": csrf_from(client, "/candidatura")}
    return client.post("/candidatura", data=data)


def _apply_with_typo(client, app, **changes):
    """An application whose contact address is mistyped, sent as typed ("Sì, l'indirizzo è giusto")."""
    response = _apply(client, app, contact_email=TYPO, contact_email_ok=TYPO, **changes)
    assert response.status_code == 302, text_of(response)
    return response


def _correct(client, email: str, environ: dict | None = None, **extra):
    token = csrf_from(client, "/candidatura")
    return client.post("/candidatura/inviata/indirizzo", data={"email": email, "csrf_token": token, **extra},
                       environ_overrides=environ or {})


def _application(app) -> Application:
    """The application typed by `application_form`."""
    return db.session.scalar(sa.select(Application).join(Application.organization)
                             .where(Organization.codice_fiscale == ENTITY_CF))


def _confirmation_mails(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == "application-confirm")
                                       .order_by(OutboxMessage.id)))


def _follow(client, path: str):
    """Open a sign-in link as a person does: the page, then its button."""
    page = client.get(path)
    if page.status_code != 200:
        return page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(path, data={"csrf_token": token})


# --- the applicant, from the confirmation page ---------------------------------------------------------------


def test_the_applicant_corrects_the_address_and_the_new_link_reaches_it(smtp_app_config, smtp_server, app,
                                                                         crema):
    client = app.test_client()
    _apply_with_typo(client, app)
    page = text_of(client.get("/candidatura/inviata"))
    assert TYPO in page
    assert "Hai sbagliato l'indirizzo? Correggilo" in page
    assert f"forse intendevi {RIGHT}?" in page

    response = _correct(client, RIGHT)

    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    assert f"ti abbiamo inviato un nuovo collegamento a {RIGHT}" in page
    assert "/accedi/link/" not in page
    with app.app_context():
        deliver_all_due("test-worker")
    first, second = smtp_server.wait_for(2)
    assert [rcpt for _sender, rcpt in smtp_server.envelopes] == [[TYPO], [RIGHT]]
    assert second["To"].addresses[0].addr_spec == RIGHT
    assert second["Subject"] == "Conferma la tua manifestazione di interesse"
    old_link = LINK.search(first.get_body(("plain",)).get_content()).group(1)
    new_link = LINK.search(second.get_body(("plain",)).get_content()).group(1)
    assert old_link != new_link
    with app.app_context():
        application = _application(app)
        contact = next(c for c in application.organization.contacts if c.kind is ContactKind.CONTACT)
        assert contact.email == application.organization.email == RIGHT
        assert db.session.scalar(sa.select(User).where(User.email == TYPO)) is None
        event = application.events[-1]
        assert event.action == "address_corrected" and event.actor is None
        assert TYPO not in event.note and RIGHT not in event.note

    stranger = app.test_client()  # whoever reads the mistyped mailbox
    refused = stranger.get(old_link)
    assert refused.status_code == 400
    assert "non è valido" in text_of(refused)
    assert _follow(stranger, old_link).status_code == 400

    owner = app.test_client()
    signed_in = _follow(owner, new_link)
    assert signed_in.status_code == 302
    assert owner.get(signed_in.headers["Location"]).status_code == 302  # the confirmation, then the area
    with app.app_context():
        application = _application(app)
        assert application.status is ApplicationStatus.SUBMITTED
        assert application.protocol


def test_the_same_address_again_sends_a_new_link_and_voids_the_old(app, crema):
    client = app.test_client()
    assert _apply(client, app).status_code == 302
    assert _correct(client, CONTACT_EMAIL.upper()).status_code == 303
    mails = _confirmation_mails(app)
    assert [m.to_address for m in mails] == [CONTACT_EMAIL, CONTACT_EMAIL]
    old_link, new_link = (LINK.search(m.body_text).group(1) for m in mails)
    assert "già stato usato" in text_of(app.test_client().get(old_link))
    assert app.test_client().get(new_link).status_code == 200


def test_one_address_typed_for_both_people_is_corrected_for_both(app, crema):
    client = app.test_client()
    _apply_with_typo(client, app, legal_email=TYPO, legal_email_ok=TYPO)
    assert _correct(client, RIGHT).status_code == 303
    with app.app_context():
        organization = _application(app).organization
        assert {c.email for c in organization.contacts} == {RIGHT}
        assert [u.email for u in organization.users] == [RIGHT]


def test_another_browser_cannot_correct_someone_elses_application(app, crema):
    applicant = app.test_client()
    _apply_with_typo(applicant, app)
    with app.app_context():
        application_id = _application(app).id

    stranger = app.test_client()
    response = _correct(stranger, "intruso@example.org", application_id=str(application_id))
    assert response.status_code == 404
    page = text_of(stranger.get("/candidatura/inviata"))
    assert "Correggilo" not in page and TYPO not in page

    # a stranger who applied for an entity of their own corrects only their own, whatever the form says
    _apply(stranger, app, codice_fiscale=codice_fiscale(777001), contact_email="mio@altrove.example",
           legal_email="legale@altrove.example")
    assert _correct(stranger, "intruso@example.org", application_id=str(application_id)).status_code == 303
    with app.app_context():
        victim = db.session.get(Application, application_id)
        assert victim.organization.email == TYPO
        assert [e.action for e in victim.events] == ["submitted"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)
                                 .where(Contact.email == "intruso@example.org")) == 1
    assert [m.to_address for m in _confirmation_mails(app)] == [TYPO, "mio@altrove.example", "intruso@example.org"]


def test_the_session_does_not_reach_another_application_with_the_same_number(app, crema):
    """An id alone is not enough: the session also holds when its application was sent (a released application's
    number can be given again, on SQLite)."""
    client = app.test_client()
    _apply_with_typo(client, app)
    with app.app_context():
        _application(app).submitted_at -= timedelta(minutes=5)
        db.session.commit()
    assert _correct(client, RIGHT).status_code == 404
    assert "Correggilo" not in text_of(client.get("/candidatura/inviata"))


def test_once_confirmed_the_address_is_not_corrected_from_the_confirmation_page(app, crema):
    client = app.test_client()
    _apply_with_typo(client, app)
    with app.app_context():
        application = _application(app)
        application.status = ApplicationStatus.SUBMITTED
        db.session.commit()
    assert "Correggilo" not in text_of(client.get("/candidatura/inviata"))
    response = _correct(client, RIGHT)
    assert response.status_code == 409
    assert "già stato confermato" in text_of(response)
    with app.app_context():
        assert _application(app).organization.email == TYPO


def test_a_wrong_or_taken_address_is_said_next_to_the_field(app, crema, make_user):
    make_user("operatore@example.org")
    client = app.test_client()
    _apply_with_typo(client, app)
    for address, message in (("operatore@example.org", "è di un operatore dell'Ufficio di Piano"),
                             ("non-un-indirizzo", "Indirizzo e-mail non valido")):
        response = _correct(client, address)
        assert response.status_code == 400
        page = text_of(response)
        assert re.search(r'id="email-error"[^>]*>[^<]*' + message, page), page
        assert 'aria-invalid="true"' in page
    with app.app_context():
        assert _application(app).organization.email == TYPO
    # the legal representative's address, of the same entity, may be the contact's too
    assert _correct(client, LEGAL_EMAIL).status_code == 303
    assert _confirmation_mails(app)[-1].to_address == LEGAL_EMAIL


def test_corrections_are_limited_per_application(app, crema):
    client = app.test_client()
    _apply_with_typo(client, app)
    statuses = [_correct(client, f"tentativo{n}@example.org", {"REMOTE_ADDR": f"192.0.2.{n + 1}"}).status_code
                for n in range(5)]
    assert statuses == [303] * 5

    response = _correct(client, RIGHT, {"REMOTE_ADDR": "192.0.2.99"})

    assert response.status_code == 429
    assert TOO_MANY in text_of(response)
    assert len(_confirmation_mails(app)) == 6  # the first one and five corrections
    with app.app_context():
        assert _application(app).organization.email == "tentativo4@example.org"


def test_corrections_are_limited_per_ip(app, crema):
    ip = {"REMOTE_ADDR": "203.0.113.7"}
    first, second = app.test_client(), app.test_client()
    _apply_with_typo(first, app)
    _apply(second, app, codice_fiscale=codice_fiscale(777002), contact_email="altro@altrove.example",
           legal_email="legale@altrove.example")
    statuses = [_correct(first, f"primo{n}@example.org", ip).status_code for n in range(3)]
    statuses += [_correct(second, f"secondo{n}@example.org", ip).status_code for n in range(2)]
    assert statuses == [303] * 5
    response = _correct(second, "secondo9@example.org", ip)
    assert response.status_code == 429
    assert TOO_MANY in text_of(response)
    assert _correct(second, "secondo9@example.org", {"REMOTE_ADDR": "198.51.100.20"}).status_code == 303


def test_a_correction_needs_the_forms_token(app, crema):
    client = app.test_client()
    _apply_with_typo(client, app)
    response = client.post("/candidatura/inviata/indirizzo", data={"email": RIGHT})
    assert response.status_code == 400
    with app.app_context():
        assert _application(app).organization.email == TYPO


# --- the office -------------------------------------------------------------------------------------------


def test_staff_correct_the_address_audited_and_without_seeing_the_link(smtp_app_config, smtp_server, app, staff):
    _apply_with_typo(app.test_client(), app)
    with app.app_context():
        application_id = _application(app).id
    detail = f"/gestione/candidature/{application_id}"
    page = text_of(staff.get(detail))
    assert "Correggi l'indirizzo e invia di nuovo il collegamento" in page
    assert f"forse intendeva {RIGHT}?" in page

    response = staff.post(f"{detail}/indirizzo", data={"email": RIGHT, "csrf_token": csrf_from(staff, detail)})

    assert response.status_code == 303
    page = text_of(staff.get(detail))
    assert f"il nuovo collegamento di conferma è stato inviato a {RIGHT}" in page
    history = re.search(r'<tr class="event-address_corrected">(.*?)</tr>', page, re.S)
    assert history, "the correction is in the history"
    assert "staff@example.org" in history.group(1)
    assert "Indirizzo e-mail corretto, collegamento di conferma inviato di nuovo" in history.group(1)
    with app.app_context():
        event = db.session.scalar(sa.select(ApplicationEvent).where(ApplicationEvent.action == "address_corrected"))
        assert event.actor.email == "staff@example.org"
        deliver_all_due("test-worker")
    _first, second = smtp_server.wait_for(2)
    assert smtp_server.envelopes[1][1] == [RIGHT]
    new_link = LINK.search(second.get_body(("plain",)).get_content()).group(1)
    token = new_link.rsplit("/", 1)[1]
    for path in (detail, "/gestione/posta"):
        seen = staff.get(path).get_data(as_text=True)
        assert token not in seen and "/accedi/link/" not in seen, path
    with app.app_context():
        message = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    seen = staff.get(f"/gestione/posta/{message.id}").get_data(as_text=True)
    assert token not in seen
    assert _follow(app.test_client(), new_link).status_code == 302


def test_staff_do_not_correct_a_confirmed_application(app, staff):
    entity = make_entity(app)
    detail = f"/gestione/candidature/{entity['application']}"
    assert "Correggi l&#39;indirizzo e invia" not in staff.get(detail).get_data(as_text=True)
    response = staff.post(f"{detail}/indirizzo", data={"email": RIGHT, "csrf_token": csrf_from(staff, detail)})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginToken)) == 0
        assert db.session.get(Application, entity["application"]).organization.email == entity["email"]


# --- the hint for a mistyped domain ------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "meant"), [
    ("gmial.com", "gmail.com"), ("gmai.com", "gmail.com"), ("gmal.com", "gmail.com"), ("gmail.it", "gmail.com"),
    ("hotmial.com", "hotmail.com"), ("hotmal.it", "hotmail.it"), ("libero.i", "libero.it"),
    ("yaho.it", "yahoo.it"), ("outlok.it", "outlook.it"), ("virgilio.i", "virgilio.it"), ("pec.i", "pec.it"),
    ("legalmial.it", "legalmail.it"), ("icluod.com", "icloud.com"), ("tiscali.i", "tiscali.it"),
    ("GMIAL.COM", "gmail.com"),
])
def test_common_slips_get_a_suggestion(typed, meant):
    assert suggest_email(f"Mario.Rossi@{typed}") == f"Mario.Rossi@{meant}"


@pytest.mark.parametrize("domain", [
    "gmail.com", "libero.it", "pec.it", "tin.it", "live.it", "mail.com", "libera.it", "arci.it", "acli.it",
    "time.it", "pc.it", "girasole.example.org", "comune.crema.cr.it", "pec.comune.crema.cr.it",
])
def test_right_domains_get_none(domain):
    assert suggest_email(f"info@{domain}") is None


def test_the_form_warns_of_a_mistyped_domain_and_sends_nothing_until_answered(app, crema):
    client = app.test_client()
    response = _apply(client, app, contact_email=TYPO)
    assert response.status_code == 200
    page = text_of(response)
    assert f"forse intendevi {RIGHT}?" in page
    assert "Sì, l'indirizzo è giusto" in page
    assert f"Correggi in {RIGHT} e invia" in page
    assert 'aria-describedby="contact_email-hint"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_one_click_takes_the_suggestion(app, crema):
    client = app.test_client()
    response = _apply(client, app, contact_email=TYPO, email_fix="contact_email")
    assert response.status_code == 302
    with app.app_context():
        assert _application(app).organization.email == RIGHT
    assert [m.to_address for m in _confirmation_mails(app)] == [RIGHT]
    assert "forse intendevi" not in text_of(client.get("/candidatura/inviata"))


def test_the_address_as_typed_is_kept_when_the_person_says_it_is_right(app, crema):
    client = app.test_client()
    # the box confirms the address it was shown for, not another one typed since
    response = _apply(client, app, contact_email="ludovico@hotmial.com", contact_email_ok=TYPO)
    assert response.status_code == 200
    _apply_with_typo(client, app)
    with app.app_context():
        assert _application(app).organization.email == TYPO
    page = text_of(client.get("/candidatura/inviata"))
    assert f"forse intendevi {RIGHT}?" in page
    assert f"Correggi in {RIGHT} e invia di nuovo il collegamento" in page


def test_no_hint_for_a_right_domain(app, crema):
    client = app.test_client()
    response = _apply(client, app, contact_email="ludovico@gmail.com")
    assert response.status_code == 302
    assert "forse intendevi" not in text_of(client.get("/candidatura/inviata"))


def test_hints_do_not_use_up_the_application_limit(app, crema):
    app.config["APPLY_RATE_LIMIT"] = "2 per hour"
    client = app.test_client()
    assert [_apply(client, app, contact_email=TYPO).status_code for _ in range(3)] == [200] * 3
    assert _apply(client, app, contact_email=TYPO, email_fix="contact_email").status_code == 302


# --- applying again with the same codice fiscale ------------------------------------------------------------


def test_applying_again_from_the_same_browser_offers_to_correct_the_address(app, crema):
    client = app.test_client()
    _apply_with_typo(client, app)
    response = _apply(client, app, contact_email=RIGHT)
    assert response.status_code == 400
    page = text_of(response)
    assert "Hai già inviato da questo browser" in page and "attende la conferma" in page
    assert "Hai sbagliato l'indirizzo? Correggilo" in page
    assert f'value="{RIGHT}"' in page  # the address just typed, ready to send
    assert _correct(client, RIGHT).status_code == 303
    assert [m.to_address for m in _confirmation_mails(app)] == [TYPO, RIGHT]


def test_applying_again_from_another_browser_says_what_to_do(app, crema):
    _apply_with_typo(app.test_client(), app)
    response = _apply(app.test_client(), app, contact_email=RIGHT)
    assert response.status_code == 400
    page = text_of(response)
    assert "attende la conferma" in page
    box = re.search(r'id="awaiting-confirmation".*?</div>', page, re.S).group(0)
    assert 'href="mailto:' in box
    assert "Può correggerlo e inviare subito un nuovo collegamento" in page
    assert "potrai anche inviare di nuovo la candidatura" in page
    assert "Hai sbagliato l'indirizzo? Correggilo" not in page
    assert [m.to_address for m in _confirmation_mails(app)] == [TYPO]
