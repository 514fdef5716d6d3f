"""Staff review at /gestione/candidature: the list and its filters, one application, the decisions, paper
applications, erasure requests and who may do what."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calls.models import Comune
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Contact,
    LegalForm,
    Organization,
)
from scheduler.timeutil import utcnow
from tests.factories import csrf_from, make_entity, sign_in_with_link
from tests.queries import count_queries
from tests.registry.test_application_form import form_data

STAFF = "ufficio@comune.crema.example.org"
LIST = "/gestione/candidature"


@pytest.fixture
def staff(app, crema, make_user, auth) -> int:
    """A signed-in member of the Ufficio di Piano; returns the user's id."""
    user_id = make_user(STAFF)
    auth.login(STAFF)
    return user_id


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def names_listed(response) -> list[str]:
    """The entity names linked from the list's table, in order."""
    page = response.get_data(as_text=True)
    return [html.unescape(n) for n in re.findall(r'<a href="/gestione/candidature/\d+">([^<]+)</a>', page)]


def outbox(app, topic: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == topic)).all()
        db.session.expunge_all()
        return list(rows)


# --- the list ------------------------------------------------------------------------------------------------


def test_list_shows_what_needs_action_with_counts_per_status(client, app, staff):
    make_entity(app, "Ente In Esame", status=ApplicationStatus.SUBMITTED, areas=("A", "C"),
                comuni=("Crema", "Offanengo", "Bagnolo Cremasco", "Vaiano Cremasco"))
    make_entity(app, "Ente Integrazioni", status=ApplicationStatus.NEEDS_INFO)
    make_entity(app, "Ente Ammesso", status=ApplicationStatus.ADMITTED)
    make_entity(app, "Ente Non Confermato", status=ApplicationStatus.UNCONFIRMED)

    response = client.get(LIST)
    assert response.status_code == 200
    page = text(response)
    assert names_listed(response) == ["Ente In Esame"]  # what waits for staff; the entity's turn has its tab
    assert re.search(r"Da esaminare\s*<span[^>]*>1<", page)
    assert re.search(r"In attesa di integrazioni\s*<span[^>]*>1<", page)
    assert re.search(r"Ammessa\s*<span[^>]*>1<", page)
    assert re.search(r"Tutte\s*<span[^>]*>3<", page)
    assert re.search(r"In attesa di conferma dell'e-mail\s*<span[^>]*>1<", page)
    # areas as badges, the first three comuni and an ellipsis
    assert re.search(r'>A</span><span[^>]*>C</span>', page)
    assert "Bagnolo Cremasco, Crema, Offanengo, …" in page
    assert "Vaiano Cremasco" not in page.split("<table")[1]
    assert 'class="table-responsive' in page  # scrolls sideways on a phone

    # unconfirmed ones have not reached staff, but the status filter reaches them
    assert names_listed(client.get(LIST + "?stato=tutte")) == ["Ente In Esame", "Ente Integrazioni", "Ente Ammesso"]
    assert names_listed(client.get(LIST + "?stato=unconfirmed")) == ["Ente Non Confermato"]
    assert names_listed(client.get(LIST + "?stato=admitted")) == ["Ente Ammesso"]
    # a stale or hand-typed value falls back to the default instead of failing
    assert client.get(LIST + "?stato=boh&comune=xyz&pagina=zz").status_code == 200


def test_filter_by_area_comune_late_and_legal_form(client, app, staff):
    make_entity(app, "Ente Minori", status=ApplicationStatus.SUBMITTED, areas=("A",), comuni=("Crema",))
    make_entity(app, "Ente Fragilita", status=ApplicationStatus.SUBMITTED, areas=("B",), comuni=("Offanengo",),
                legal_form=LegalForm.SOCIAL_COOPERATIVE, late=True)
    make_entity(app, "Ente Entrambi", status=ApplicationStatus.SUBMITTED, areas=("A", "B"),
                comuni=("Crema", "Offanengo"), legal_form=LegalForm.ODV)
    with app.app_context():
        offanengo = db.session.scalar(sa.select(Comune.id).where(Comune.name == "Offanengo"))

    assert names_listed(client.get(LIST + "?area=A")) == ["Ente Minori", "Ente Entrambi"]
    assert names_listed(client.get(LIST + "?area=B")) == ["Ente Fragilita", "Ente Entrambi"]
    assert names_listed(client.get(LIST + f"?comune={offanengo}")) == ["Ente Fragilita", "Ente Entrambi"]
    assert names_listed(client.get(LIST + "?tardiva=si")) == ["Ente Fragilita"]
    assert names_listed(client.get(LIST + "?tardiva=no")) == ["Ente Minori", "Ente Entrambi"]
    assert names_listed(client.get(LIST + "?forma=cooperativa_sociale")) == ["Ente Fragilita"]
    assert names_listed(client.get(LIST + f"?area=A&comune={offanengo}&forma=odv")) == ["Ente Entrambi"]
    response = client.get(LIST + "?area=D")
    assert names_listed(response) == []
    assert "Nessuna candidatura corrisponde ai filtri." in text(response)
    # the counts on the tabs follow the other filters
    assert re.search(r"Da esaminare\s*<span[^>]*>1<", text(client.get(LIST + "?tardiva=si")))
    # the chosen values stay selected in the form
    page = client.get(LIST + "?area=B&tardiva=si").get_data(as_text=True)
    assert re.search(r'<option selected value="B">|<option value="B" selected>', page)


def test_search_by_name_codice_fiscale_protocol_and_contact_email(client, app, staff):
    quercia = make_entity(app, "Cooperativa La Quercia", status=ApplicationStatus.SUBMITTED)
    make_entity(app, "Associazione Il Faro", status=ApplicationStatus.SUBMITTED, email="segreteria@faro.example.org")
    make_entity(app, "Fondazione 100% Solidale", status=ApplicationStatus.SUBMITTED)
    with app.app_context():
        application = db.session.get(Application, quercia["application"])
        cf, protocol = application.organization.codice_fiscale, application.protocol
        legal_email = next(c.email for c in application.organization.contacts if c.email != quercia["email"])

    assert names_listed(client.get(LIST + "?q=quercia")) == ["Cooperativa La Quercia"]
    assert names_listed(client.get(LIST + f"?q={cf}")) == ["Cooperativa La Quercia"]
    assert names_listed(client.get(LIST + f"?q={protocol.lower()}")) == ["Cooperativa La Quercia"]
    assert names_listed(client.get(LIST + f"?q={legal_email}")) == ["Cooperativa La Quercia"]
    assert names_listed(client.get(LIST + "?q=FARO.example")) == ["Associazione Il Faro"]
    # LIKE wildcards typed by staff are plain characters
    assert names_listed(client.get(LIST, query_string={"q": "100%"})) == ["Fondazione 100% Solidale"]
    assert names_listed(client.get(LIST, query_string={"q": "%"})) == ["Fondazione 100% Solidale"]
    page = client.get(LIST + "?q=quercia").get_data(as_text=True)
    assert 'value="quercia"' in page
    assert "Azzera i filtri" in page


def test_pages_of_fifty_keep_the_filters(client, app, staff):
    for n in range(53):
        make_entity(app, f"Ente {n:02d}", status=ApplicationStatus.SUBMITTED, areas=("C",))
    make_entity(app, "Ente Altra Area", status=ApplicationStatus.SUBMITTED, areas=("A",))

    first = client.get(LIST + "?area=C")
    assert len(names_listed(first)) == 50
    assert "Candidature da 1 a 50 di 53." in text(first)
    link = re.search(r'href="([^"]*pagina=2[^"]*)"', first.get_data(as_text=True)).group(1)
    link = html.unescape(link)
    assert "area=C" in link
    second = client.get(link)
    assert names_listed(second) == ["Ente 50", "Ente 51", "Ente 52"]
    # a page past the end shows the last one
    assert names_listed(client.get(LIST + "?area=C&pagina=9")) == ["Ente 50", "Ente 51", "Ente 52"]


def test_erasure_requests_are_flagged_and_can_be_listed(client, app, staff):
    ids = make_entity(app, "Ente Da Cancellare", status=ApplicationStatus.ADMITTED)
    make_entity(app, "Ente Tranquillo", status=ApplicationStatus.ADMITTED)
    with app.app_context():
        db.session.get(Organization, ids["organization"]).erasure_requested_at = utcnow()
        db.session.commit()
    page = text(client.get(LIST))
    assert "1 ente ha chiesto la cancellazione dei dati." in page
    response = client.get(LIST + "?stato=tutte&cancellazione=1")
    assert names_listed(response) == ["Ente Da Cancellare"]
    assert "Cancellazione richiesta" in text(response)




def test_the_list_runs_a_constant_number_of_queries(client, app, staff):
    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            ids = make_entity(app, f"Ente Misurato {n:03d}", status=ApplicationStatus.SUBMITTED,
                              areas=("A", "B", "D"), comuni=("Crema", "Offanengo", "Ripalta Cremasca", "Izano"),
                              late=n % 2 == 0)
            if n % 7 == 0:
                with app.app_context():
                    db.session.get(Organization, ids["organization"]).erasure_requested_at = utcnow()
                    db.session.commit()

    def measure() -> tuple[int, int]:
        client.get(LIST + "?stato=tutte")  # warm up caches that are not per-request
        with count_queries(app) as statements:
            response = client.get(LIST + "?stato=tutte")
        assert response.status_code == 200
        return len(statements), len(names_listed(response))

    add(5, 0)
    few, shown = measure()
    assert shown == 5
    add(55, 5)
    many, shown = measure()
    assert shown == 50
    assert many == few, f"{few} queries for 5 applications, {many} for 60"
    assert few <= 12


# --- one application -----------------------------------------------------------------------------------------


def test_detail_shows_everything_submitted_and_escapes_html(client, app, staff):
    ids = make_entity(app, "<b>Ente</b> & Figli", status=ApplicationStatus.SUBMITTED, areas=("A", "B"),
                      comuni=("Crema", "Offanengo"), late=True)
    with app.app_context():
        application = db.session.get(Application, ids["application"])
        application.areas[0].competence = "<script>alert(1)</script>\nseconda riga"
        application.organization.registered_office = "Via Roma 1, Crema"
        db.session.commit()
        protocol, cf = application.protocol, application.organization.codice_fiscale

    response = client.get(f"{LIST}/{ids['application']}")
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw and "<b>Ente</b>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "&lt;b&gt;Ente&lt;/b&gt; &amp; Figli" in raw
    page = html.unescape(raw)
    for expected in (protocol, cf, "Associazione di promozione sociale (APS)",
                     "RUNTS – sezione b) Associazioni di promozione sociale", "Via Roma 1, Crema",
                     "Crema, Offanengo", "Legale rappresentante", "Presidente", "Persona di riferimento",
                     ids["email"], "A) Minori e Famiglia", "B) Fragilità (Anziani e Persone con disabilità)",
                     "seconda riga", "Esperienza nell'area B.", "Attuazione, monitoraggio e valutazione",
                     "presentata dopo la scadenza", "Modulo online", "In esame"):
        assert expected in page, expected
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_application_is_404(client, staff):
    assert client.get(f"{LIST}/999999").status_code == 404
    token = csrf_from(client, LIST)
    assert client.post(f"{LIST}/999999/ammetti", data={"csrf_token": token}).status_code == 404


def test_admit_records_who_and_sends_the_e_mail(client, app, staff):
    ids = make_entity(app, "Ente Da Ammettere", status=ApplicationStatus.SUBMITTED)
    detail = f"{LIST}/{ids['application']}"
    page = client.get(detail).get_data(as_text=True)
    assert re.search(r'<form[^>]*action="[^"]*/ammetti"[^>]*data-confirm=', page)

    response = client.post(f"{detail}/ammetti", data={"csrf_token": csrf_from(client, detail)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(detail)
    page = text(client.get(detail))
    assert "Candidatura ammessa." in page
    assert "Ammessa" in page and STAFF in page

    with app.app_context():
        application = db.session.get(Application, ids["application"])
        assert application.status is ApplicationStatus.ADMITTED
        assert application.reviewer_id == staff and application.reviewed_at is not None
        event = db.session.scalar(sa.select(ApplicationEvent).where(ApplicationEvent.action == "admitted"))
        assert event.actor_id == staff
    mails = outbox(app, "application-admitted")
    assert mails and mails[0].to_address == ids["email"]
    assert "ammessa" in mails[0].subject
    assert "Ente Da Ammettere" in mails[0].body_text

    # admitting twice is refused with the rule's message, not an error page
    response = client.post(f"{detail}/ammetti", data={"csrf_token": csrf_from(client, detail)})
    assert response.status_code == 409
    assert "La candidatura è già ammessa." in text(response)
    assert len(outbox(app, "application-admitted")) == len(mails)


@pytest.mark.parametrize("status", [ApplicationStatus.UNCONFIRMED, ApplicationStatus.WITHDRAWN])
def test_applications_that_cannot_be_reviewed_are_refused(client, app, staff, status):
    ids = make_entity(app, "Ente Fermo", status=status)
    detail = f"{LIST}/{ids['application']}"
    page = text(client.get(detail))
    assert "non si può esaminare" in page
    assert "/ammetti" not in page
    token = csrf_from(client, detail)
    for action, data in (("ammetti", {}), ("rifiuta", {"reason": "No."}), ("integrazioni", {"message": "?"})):
        response = client.post(f"{detail}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 409, action
        assert "non può essere esaminata nel suo stato attuale" in text(response)
    with app.app_context():
        assert db.session.get(Application, ids["application"]).status is status
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_reject_needs_a_reason(client, app, staff):
    ids = make_entity(app, "Ente Senza Motivo", status=ApplicationStatus.SUBMITTED)
    detail = f"{LIST}/{ids['application']}"
    response = client.post(f"{detail}/rifiuta", data={"csrf_token": csrf_from(client, detail), "reason": "   "})
    assert response.status_code == 400
    page = text(response)
    assert "Indica il motivo: sarà comunicato all'ente." in page
    assert 'id="reason-error"' in page and 'aria-invalid="true"' in page
    with app.app_context():
        application = db.session.get(Application, ids["application"])
        assert application.status is ApplicationStatus.SUBMITTED and application.reason is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0

    too_long = "x" * 5001
    response = client.post(f"{detail}/rifiuta", data={"csrf_token": csrf_from(client, detail), "reason": too_long})
    assert response.status_code == 400
    assert too_long in text(response)  # what was typed is kept


def test_reject_sends_the_reason_to_the_entity(client, app, staff):
    ids = make_entity(app, "Ente Respinto", status=ApplicationStatus.SUBMITTED)
    detail = f"{LIST}/{ids['application']}"
    reason = "L'ente non risulta iscritto al RUNTS.\nPuò ripresentare la domanda dopo l'iscrizione."
    response = client.post(f"{detail}/rifiuta", data={"csrf_token": csrf_from(client, detail), "reason": reason},
                           follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    assert "Candidatura non ammessa" in page
    assert "L'ente non risulta iscritto al RUNTS." in page
    with app.app_context():
        application = db.session.get(Application, ids["application"])
        assert application.status is ApplicationStatus.REJECTED
        assert application.reason == reason
        event = db.session.scalar(sa.select(ApplicationEvent).where(ApplicationEvent.action == "rejected"))
        assert event.actor_id == staff and "RUNTS" in event.note
    mails = outbox(app, "application-rejected")
    assert mails[0].to_address == ids["email"]
    assert "non ammessa" in mails[0].subject
    assert "L'ente non risulta iscritto al RUNTS." in mails[0].body_text


def test_ask_for_information_and_the_entity_answers_from_its_area(client, app, staff):
    ids = make_entity(app, "Ente Da Integrare", status=ApplicationStatus.SUBMITTED)
    detail = f"{LIST}/{ids['application']}"

    response = client.post(f"{detail}/integrazioni", data={"csrf_token": csrf_from(client, detail), "message": ""})
    assert response.status_code == 400
    assert "Scrivi quali informazioni servono" in text(response)

    question = "Inviate il numero di iscrizione al RUNTS aggiornato."
    response = client.post(f"{detail}/integrazioni",
                           data={"csrf_token": csrf_from(client, detail), "message": question})
    assert response.status_code == 303
    assert "Richiesta di integrazioni inviata all'ente." in text(client.get(detail))
    mails = outbox(app, "application-info")
    assert mails[0].to_address == ids["email"]
    assert question in mails[0].body_text

    # the entity signs in with its link and answers from its own area
    entity = app.test_client()
    sign_in_with_link(entity, app, ids["user"])
    assert question in text(entity.get("/area-riservata"))
    response = entity.post("/area-riservata/risposta",
                           data={"csrf_token": csrf_from(entity, "/area-riservata"), "answer": "Numero 4567/2023."})
    assert response.status_code == 302

    with app.app_context():
        application = db.session.get(Application, ids["application"])
        assert application.status is ApplicationStatus.SUBMITTED
        event = db.session.scalar(sa.select(ApplicationEvent).where(ApplicationEvent.action == "info_given"))
        assert event.actor_id == ids["user"]
    page = text(client.get(detail))
    assert "Integrazioni inviate dall'ente" in page
    assert "Numero 4567/2023." in page
    assert f"ente ({ids['email']})" in page
    assert "In esame" in page
    # back in the queue of what needs action
    assert "Ente Da Integrare" in names_listed(client.get(LIST + "?stato=submitted"))


# --- paper applications ---------------------------------------------------------------------------------------


def test_staff_register_a_paper_application(client, app, staff):
    page = text(client.get(f"{LIST}/nuova"))
    assert "Registra una candidatura cartacea" in page
    assert "informativa" not in page.lower().split("<form")[1]

    data = form_data(app, name="Associazione Carta", privacy=None, truthful=None, received_on="2024-04-30",
                     phase_drafting="y")
    data["csrf_token"] = csrf_from(client, f"{LIST}/nuova")
    response = client.post(f"{LIST}/nuova", data=data)
    assert response.status_code == 303
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        assert application.status is ApplicationStatus.SUBMITTED
        assert application.on_paper is True
        assert re.fullmatch(r"MI-\d{4}-0001", application.protocol)
        # judged by the date the paper form arrived: before the deadline, so the drafting phase is kept
        assert application.late is False and application.wants_drafting is True
        assert application.submitted_at.date().isoformat() == "2024-04-30"
        event = application.events[0]
        assert event.action == "submitted" and event.actor_id == staff
        application_id, protocol = application.id, application.protocol
    assert response.headers["Location"].endswith(f"{LIST}/{application_id}")
    page = text(client.get(response.headers["Location"]))
    assert f"Candidatura registrata con il protocollo {protocol}." in page
    assert "Modulo cartaceo" in page
    receipts = outbox(app, "application-receipt")
    assert "paolo.neri@girasole.example.org" in [m.to_address for m in receipts]
    assert protocol in receipts[0].subject


def test_paper_application_errors_are_shown_next_to_the_fields(client, app, staff):
    make_entity(app, "Ente Esistente")
    with app.app_context():
        existing_cf = db.session.scalar(sa.select(Organization.codice_fiscale))
    data = form_data(app, name="Ente Doppio", codice_fiscale=existing_cf, privacy=None, truthful=None,
                     received_on="2024-06-01")
    data["csrf_token"] = csrf_from(client, f"{LIST}/nuova")
    response = client.post(f"{LIST}/nuova", data=data)
    assert response.status_code == 400
    page = text(response)
    assert "Questo codice fiscale è già registrato" in page
    assert 'value="Ente Doppio"' in page

    data = form_data(app, name="Ente Incompleto", contact_email="non-valida", privacy=None, truthful=None,
                     received_on="2024-06-01")
    data["csrf_token"] = csrf_from(client, f"{LIST}/nuova")
    response = client.post(f"{LIST}/nuova", data=data)
    assert response.status_code == 400
    assert "Indirizzo e-mail non valido" in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 1


def test_paper_application_received_after_the_deadline_joins_only_implementation(client, app, staff):
    data = form_data(app, name="Ente Tardivo", privacy=None, truthful=None, received_on="2024-05-10",
                     phase_drafting="y")
    data["csrf_token"] = csrf_from(client, f"{LIST}/nuova")
    response = client.post(f"{LIST}/nuova", data=data)
    assert response.status_code == 400
    assert "solo alla fase di attuazione" in text(response)
    data.pop("phase_drafting")
    data["csrf_token"] = csrf_from(client, f"{LIST}/nuova")
    assert client.post(f"{LIST}/nuova", data=data).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Application.late)) is True
    data = form_data(app, name="Ente Futuro", codice_fiscale="97111330151", privacy=None, truthful=None,
                     received_on="2999-01-01")
    data["csrf_token"] = csrf_from(client, f"{LIST}/nuova")
    response = client.post(f"{LIST}/nuova", data=data)
    assert response.status_code == 400 and "non può essere futura" in text(response)


# --- erasure -------------------------------------------------------------------------------------------------


def test_staff_confirm_an_erasure_request(client, app, staff):
    ids = make_entity(app, "Ente Riservato", status=ApplicationStatus.ADMITTED)
    detail = f"{LIST}/{ids['application']}"
    entity = app.test_client()
    sign_in_with_link(entity, app, ids["user"])
    entity.post("/area-riservata/cancellazione", data={"csrf_token": csrf_from(entity, "/area-riservata")})

    page = text(client.get(detail))
    assert "L'ente ha chiesto la cancellazione dei dati" in page
    assert "Si conservano la denominazione e il codice fiscale" in page
    assert re.search(r'<form[^>]*/cancellazione"[^>]*data-confirm=', page)
    with app.app_context():
        protocol = db.session.get(Application, ids["application"]).protocol

    response = client.post(f"{detail}/cancellazione", data={"csrf_token": csrf_from(client, detail)},
                           follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    assert "Dati personali cancellati" in page
    assert "perché fanno parte degli atti del procedimento" in page
    assert protocol in page and "Ente Riservato" in page
    assert ids["email"] not in page
    assert "Conferma la cancellazione" not in page
    with app.app_context():
        org = db.session.get(Organization, ids["organization"])
        assert org.erased_at is not None and org.email == ""
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == Role.ENTITY)) == 0
        application = db.session.get(Application, ids["application"])
        assert application.protocol == protocol
        assert application.status is ApplicationStatus.WITHDRAWN
        event = db.session.scalar(sa.select(ApplicationEvent).where(ApplicationEvent.action == "erased"))
        assert event.actor_id == staff

    # done once only
    response = client.post(f"{detail}/cancellazione", data={"csrf_token": csrf_from(client, detail)})
    assert response.status_code == 409
    assert "I dati sono già stati cancellati." in text(response)


def test_erasure_needs_the_entitys_request(client, app, staff):
    ids = make_entity(app, "Ente Senza Richiesta", status=ApplicationStatus.ADMITTED)
    detail = f"{LIST}/{ids['application']}"
    assert "Conferma la cancellazione" not in text(client.get(detail))
    response = client.post(f"{detail}/cancellazione", data={"csrf_token": csrf_from(client, detail)})
    assert response.status_code == 409
    assert "L'ente non ha chiesto la cancellazione dei dati." in text(response)
    with app.app_context():
        assert db.session.get(Organization, ids["organization"]).erased_at is None


# --- access --------------------------------------------------------------------------------------------------

GET_URLS = [LIST, f"{LIST}/{{id}}", f"{LIST}/nuova"]
POST_URLS = [f"{LIST}/{{id}}/ammetti", f"{LIST}/{{id}}/rifiuta", f"{LIST}/{{id}}/integrazioni",
             f"{LIST}/{{id}}/cancellazione", f"{LIST}/nuova"]


def test_anonymous_visitors_are_sent_to_sign_in(client, app, crema, auth):
    ids = make_entity(app, "Ente Privato", status=ApplicationStatus.SUBMITTED)
    for url in GET_URLS:
        response = client.get(url.format(id=ids["application"]))
        assert response.status_code == 302, url
        assert "/accedi" in response.headers["Location"]
    token = auth.csrf_token("/accedi")
    for url in POST_URLS:
        response = client.post(url.format(id=ids["application"]), data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 302, url
        assert "/accedi" in response.headers["Location"]
    with app.app_context():
        assert db.session.get(Application, ids["application"]).status is ApplicationStatus.SUBMITTED


@pytest.mark.parametrize("role", [Role.ENTITY, Role.FACILITATOR])
def test_entities_and_facilitators_are_forbidden(client, app, crema, make_user, auth, role):
    ids = make_entity(app, "Ente Privato", status=ApplicationStatus.SUBMITTED)
    if role is Role.ENTITY:
        sign_in_with_link(client, app, ids["user"])
    else:
        make_user("facilitatore@example.org", role=Role.FACILITATOR)
        auth.login("facilitatore@example.org")
    for url in GET_URLS:
        assert client.get(url.format(id=ids["application"])).status_code == 403, url
    token = auth.csrf_token("/")
    for url in POST_URLS:
        data = {"csrf_token": token, "reason": "x", "message": "x"}
        assert client.post(url.format(id=ids["application"]), data=data).status_code == 403, url
    with app.app_context():
        assert db.session.get(Application, ids["application"]).status is ApplicationStatus.SUBMITTED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_posts_without_csrf_token_are_refused(client, app, staff):
    ids = make_entity(app, "Ente Protetto", status=ApplicationStatus.SUBMITTED)
    for url in POST_URLS:
        response = client.post(url.format(id=ids["application"]), data={"reason": "x", "message": "x"})
        assert response.status_code == 400, url
    with app.app_context():
        assert db.session.get(Application, ids["application"]).status is ApplicationStatus.SUBMITTED


def test_the_navigation_leads_staff_to_the_list(client, staff):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/gestione/candidature"' in page
