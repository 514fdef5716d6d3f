"""Numbers and dates in a query string or a form, typed as an attacker (or a slip of the finger) types them:
each test asserts the page a person sees. None of them may be a 500, on SQLite (which refuses numbers past
64 bits) or on PostgreSQL (which refuses an `integer` past 2**31-1 and dates it cannot convert)."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from tests.factories import csrf_from
from tests.security.conftest import application_form, changed_tables, sign_in_as, snapshot

#: Past PostgreSQL's `integer`; past SQLite's 64 bits; far past both.
PAST_INTEGER = "2147483648"
PAST_64_BITS = "99999999999999999999"
HUGE = "99999999999999999999999"
NOT_FOUND = "La pagina che cerchi non esiste o è stata spostata."
BAD_REQUEST = "La richiesta non è valida."
DATE_RANGE = "Indica una data tra il 2000 e il 2100."


def page_of(response) -> str:
    return response.get_data(as_text=True)


def current_page(response) -> str | None:
    match = re.search(r'aria-current="page">(\d+)<', page_of(response))
    return match.group(1) if match else None


# --- page numbers ---------------------------------------------------------------------------------------------


def test_a_page_past_the_last_shows_the_last_one_in_the_public_list(app, client, world):
    app.config["PUBLIC_LIST_PER_PAGE"] = 1
    assert current_page(client.get("/elenco")) == "1"
    for value in ("2", "3", PAST_INTEGER, PAST_64_BITS, HUGE, "9" * 5000):
        response = client.get(f"/elenco?pagina={value}")
        assert response.status_code == 200, value
        assert current_page(response) == "2", value
        assert "Righe da 2 a 2 di 2." in page_of(response)
    for value in ("-5", "0", f"-{HUGE}", "abc", "1.5", "", "١"):
        response = client.get(f"/elenco?pagina={value}")
        assert response.status_code == 200, value
        assert current_page(response) == "1", value
        assert "Righe da 1 a 1 di 2." in page_of(response)


def test_a_page_past_the_last_shows_the_last_one_in_the_review_list(app, client, world):
    sign_in_as(client, app, world, "staff")
    for value in (PAST_INTEGER, PAST_64_BITS, "-5"):
        response = client.get(f"/gestione/candidature?stato=admitted&pagina={value}")
        assert response.status_code == 200, value
        assert "Associazione Uno" in page_of(response) and "Cooperativa Due" in page_of(response)


@pytest.mark.parametrize("path, heading, first_item", [("/gestione/posta", "Posta in uscita", None),
                                                      ("/gestione/comunicazioni", "Comunicazioni", "Avviso")])
def test_a_page_number_no_database_can_hold_shows_a_page_of_staff_lists(app, client, world, path, heading,
                                                                         first_item):
    sign_in_as(client, app, world, "staff")
    # the largest number a page can be: past the last page, so an empty one
    response = client.get(f"{path}?pagina=2147483647")
    assert response.status_code == 200
    assert heading in page_of(response)
    # past any database integer, or below the first: the first page
    for value in (PAST_INTEGER, PAST_64_BITS, HUGE, "-5"):
        response = client.get(f"{path}?pagina={value}")
        assert response.status_code == 200, value
        assert heading in page_of(response)
        assert first_item is None or first_item in page_of(response), value


# --- ids in the query string and in forms ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [PAST_INTEGER, HUGE, "-1", "abc"])
def test_a_new_announcement_for_a_meeting_no_row_can_be_is_a_blank_one(app, client, world, value):
    sign_in_as(client, app, world, "staff")
    response = client.get(f"/gestione/comunicazioni/nuova?incontro={value}")
    assert response.status_code == 200
    assert "Nuova comunicazione" in page_of(response)
    assert 'value="meeting_attending" checked' not in page_of(response)


@pytest.mark.parametrize(("field", "kind"), [("meeting_id", "meeting_attending"), ("track_id", "facilitators")])
@pytest.mark.parametrize("value", [PAST_INTEGER, HUGE])
def test_an_announcement_to_a_meeting_or_track_no_row_can_be_is_refused_next_to_the_field(app, client, world,
                                                                                          field, kind, value):
    sign_in_as(client, app, world, "staff")
    response = client.post("/gestione/comunicazioni/nuova", data={
        "csrf_token": csrf_from(client, "/gestione/comunicazioni/nuova"), "audience": kind, field: value,
        "subject": "Prova", "body": "Testo di prova.", "action": "save"})
    assert response.status_code == 400
    page = page_of(response)
    assert "invalid-feedback" in page and "Testo di prova." in page


@pytest.mark.parametrize("value", [PAST_INTEGER, HUGE, "-5"])
def test_the_preview_for_a_recipient_no_list_has_shows_the_first(app, client, world, value):
    sign_in_as(client, app, world, "staff")
    for path in (f"/gestione/comunicazioni/{world.announcement}",
                 f"/gestione/comunicazioni/{world.announcement}/anteprima"):
        response = client.get(f"{path}?destinatario={value}")
        assert response.status_code == 200, path


@pytest.mark.parametrize("value", [PAST_INTEGER, HUGE])
def test_undoing_an_attendance_no_row_can_be_is_not_found(app, client, world, value):
    sign_in_as(client, app, world, "facilitator")
    token = csrf_from(client, "/")
    with app.app_context():
        before = snapshot()
    url = f"/presenze/{world.meeting}/annulla"
    response = client.post(url, data={"csrf_token": token, "attendance_id": value})
    assert response.status_code == 404
    assert NOT_FOUND in page_of(response)
    response = client.post(url, data={"csrf_token": token, "attendance_id": value},
                           headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {"ok": False, "error": "Presenza non trovata."}
    with app.app_context():
        assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("value", [PAST_INTEGER, HUGE])
def test_marking_with_an_rsvp_or_entity_no_row_can_be_is_refused(app, client, world, value):
    sign_in_as(client, app, world, "facilitator")
    token = csrf_from(client, "/")
    url = f"/presenze/{world.meeting}/segna"
    json = {"Accept": "application/json"}
    with app.app_context():
        before = snapshot()
    response = client.post(url, headers=json, data={"csrf_token": token, "kind": "rsvp", "rsvp_id": value,
                                                    "person_name": "Persona Nuova"})
    assert response.status_code < 500
    assert response.get_json() == {"ok": False, "error": "Adesione non trovata per questo incontro."}
    response = client.post(url, headers=json, data={"csrf_token": token, "kind": "entity",
                                                    "organization_id": value, "person_name": "Persona Nuova"})
    assert response.status_code < 500
    assert response.get_json() == {"ok": False, "error": "Scegli l'ente."}
    # as a browser without JavaScript posts it: back to the register, which shows the message
    response = client.post(url, data={"csrf_token": token, "kind": "rsvp", "rsvp_id": value,
                                      "person_name": "Persona Nuova"})
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == f"/presenze/{world.meeting}"
    with client.session_transaction() as session:
        assert session["_flashes"] == [("error", "Adesione non trovata per questo incontro.")]
    with app.app_context():
        assert changed_tables(before, snapshot()) == []


def test_a_paper_register_for_entities_no_row_can_be_is_refused(app, client, world):
    sign_in_as(client, app, world, "staff")
    url = f"/gestione/presenze/{world.past_meeting}/cartaceo"
    token = csrf_from(client, "/")
    with app.app_context():
        before = snapshot()
    for forged in (PAST_INTEGER, HUGE, "9" * 5000):
        response = client.post(url, data={"csrf_token": token, f"ente-{forged}": "on", f"persone-{forged}": "Mario"})
        assert response.status_code in (400, 409), forged[:30]
        page = html.unescape(page_of(response))
        assert ("Un ente selezionato non è ammesso all'area di questo incontro." in page
                or "Seleziona almeno un ente presente." in page), forged[:30]
    # digits of other scripts in a field name are not an entity's id
    response = client.post(url, data={"csrf_token": token, f"ente-{world.organization}": "on",
                                      f"persone-{world.organization}": "Mario Rossi", "persone-²": "Intruso",
                                      "ente-١": "on"})
    assert response.status_code == 303
    with app.app_context():
        assert set(changed_tables(before, snapshot())) == {"attendances", "register_events"}


@pytest.mark.parametrize("value", [PAST_INTEGER, HUGE])
def test_an_application_for_a_comune_no_row_can_be_is_refused_next_to_the_field(app, client, world, value):
    data = {**application_form(app), "comuni": [value], "csrf_token": csrf_from(client, "/candidatura")}
    response = client.post("/candidatura", data=data)
    assert response.status_code == 400
    assert "Scegli i comuni solo dall'elenco dei comuni dell'Ambito." in html.unescape(page_of(response))


# --- dates of the participation report ------------------------------------------------------------------------

REPORT = "/gestione/partecipazione"


@pytest.mark.parametrize("name, value", [("al", "9999-12-31"), ("dal", "0001-01-01"), ("al", "1999-12-31"),
                                         ("dal", "2101-01-01")])
def test_a_report_date_out_of_range_is_refused_next_to_its_field(app, client, world, name, value):
    sign_in_as(client, app, world, "staff")
    other = "dal" if name == "al" else "al"
    response = client.get(f"{REPORT}?{name}={value}&{other}=2026-06-30")
    page = page_of(response)
    assert response.status_code == 400
    error = re.search(rf'<div id="{name}-error"[^>]*>([^<]*)</div>', page)
    assert error is not None and error.group(1) == DATE_RANGE
    field = re.search(rf'<input type="date"[^>]*id="{name}"[^>]*>', page).group(0)
    assert f'value="{value}"' in field, "what was typed is kept"
    assert 'aria-invalid="true"' in field and f'aria-describedby="{name}-error"' in field
    other_field = re.search(rf'<input type="date"[^>]*id="{other}"[^>]*>', page).group(0)
    assert 'value="2026-06-30"' in other_field and "aria-invalid" not in other_field
    assert "Correggi le date del filtro per vedere il resoconto." in page
    assert 'id="table-incontri"' not in page


def test_the_report_of_the_widest_period_allowed_works(app, client, world):
    sign_in_as(client, app, world, "staff")
    response = client.get(f"{REPORT}?dal=2000-01-01&al=2100-12-31")
    assert response.status_code == 200
    assert "Dal 1 gennaio 2000 al 31 dicembre 2100" in page_of(response)


@pytest.mark.parametrize("query", ["al=9999-12-31", "dal=0001-01-01"])
def test_report_files_for_a_date_out_of_range_are_refused(app, client, world, query):
    sign_in_as(client, app, world, "staff")
    for path in (f"{REPORT}/enti.csv", f"{REPORT}/tutto.xlsx",
                 f"{REPORT}/enti/{world.organization}/attestato.pdf"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert BAD_REQUEST in page_of(response)
