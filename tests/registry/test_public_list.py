"""The public list of admitted entities at /elenco, /elenco.csv and /elenco.json: who appears where, filters,
no personal data, escaping, CSV injection, conditional GETs and a constant number of queries."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from scheduler import timeutil
from scheduler.calls.models import Area, Call, Comune
from scheduler.extensions import db
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationEvent,
    ApplicationStatus,
    LegalForm,
    Organization,
)
from scheduler.registry.public_list import UnknownFilter, admitted_entries, neutralise_cell
from tests.factories import codice_fiscale, make_entity
from tests.queries import count_queries

CSV_HEADER = ["Area", "Denominazione", "Forma giuridica", "Codice fiscale", "Comuni", "Fase", "Sito web", "Esempio"]


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def section(response, code: str) -> str:
    """The HTML of one area's section of the page."""
    page = response.get_data(as_text=True)
    match = re.search(rf'<section[^>]*aria-labelledby="area-{code}".*?</section>', page, re.S)
    assert match, f"no section for area {code}"
    return match.group(0)


def names_in(response, code: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<span class="fw-semibold">([^<]*)</span>', section(response, code))]


def table_rows(response, code: str) -> dict[str, list[str]]:
    """Each row of an area's table as its cells' text, keyed by the entity's name."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section(response, code), re.S)[1:]:
        cells = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
                 for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        name = html.unescape(re.search(r'<span class="fw-semibold">([^<]*)</span>', row).group(1))
        rows[name] = cells
    return rows


def rows_of(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "the CSV starts with the UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


def _update(app, model, row_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
        db.session.commit()


# --- who appears, and where ------------------------------------------------------------------------------------


def test_admitted_entities_appear_under_each_of_their_areas_and_no_one_else(client, app, crema):
    make_entity(app, "Associazione Due Aree", areas=("A", "C"), comuni=("Crema", "Offanengo"))
    make_entity(app, "Cooperativa Beta", areas=("A",), legal_form=LegalForm.SOCIAL_COOPERATIVE)
    for status in (ApplicationStatus.SUBMITTED, ApplicationStatus.NEEDS_INFO, ApplicationStatus.REJECTED,
                   ApplicationStatus.WITHDRAWN, ApplicationStatus.UNCONFIRMED):
        make_entity(app, f"Ente {status.value}", areas=("A", "B", "C", "D"), status=status)

    response = client.get("/elenco")
    assert response.status_code == 200
    page = page_text(response)
    assert "suddiviso per area di interesse e costantemente aggiornato" in page
    assert re.search(r"Aggiornato al \d\d/\d\d/\d{4}, \d{1,2}:\d\d", page)
    assert names_in(response, "A") == ["Associazione Due Aree", "Cooperativa Beta"]
    assert names_in(response, "C") == ["Associazione Due Aree"]
    assert names_in(response, "B") == []
    assert "Nessun soggetto ammesso per quest'area." in html.unescape(section(response, "B"))
    assert "Nessun soggetto ammesso per quest'area." in html.unescape(section(response, "D"))
    assert "Minori e Famiglia" in section(response, "A")
    assert "2 soggetti" in section(response, "A") and "1 soggetto" in section(response, "C")
    assert "2 soggetti ammessi" in page
    for status in ("submitted", "needs_info", "rejected", "withdrawn", "unconfirmed"):
        assert f"Ente {status}" not in page
    rows = table_rows(response, "A")
    name, legal_form, comuni, phase, website = rows["Associazione Due Aree"]
    assert name.startswith("Associazione Due Aree C.F. 8")
    assert (legal_form, comuni, phase) == ("Associazione di promozione sociale (APS)", "Crema, Offanengo",
                                           "Solo attuazione")
    assert website == "Non indicato –"
    assert rows["Cooperativa Beta"][1] == "Cooperativa sociale"


def test_phases_as_the_public_reads_them(client, app, crema):
    make_entity(app, "Ente Entrambe", drafting=True)
    make_entity(app, "Ente Solo Attuazione")
    make_entity(app, "Ente Tardivo", late=True)
    drafting_only = make_entity(app, "Ente Solo Stesura", drafting=True)
    _update(app, Application, drafting_only["application"], wants_implementation=False)

    phases = {name: cells[3] for name, cells in table_rows(client.get("/elenco"), "A").items()}
    assert phases == {
        "Ente Entrambe": "Stesura e attuazione",
        "Ente Solo Attuazione": "Solo attuazione",
        "Ente Tardivo": "Attuazione (dal gennaio 2025)",
        "Ente Solo Stesura": "Solo stesura",
    }


def test_sample_entities_are_marked(client, app, crema):
    sample = make_entity(app, "Associazione Di Prova")
    _update(app, Organization, sample["organization"], is_sample=True)
    make_entity(app, "Associazione Vera")

    a_section = section(client.get("/elenco"), "A")
    assert re.search(r"Associazione Di Prova</span>\s*<span class=\"badge[^\"]*\">Esempio</span>", a_section)
    assert not re.search(r"Associazione Vera</span>\s*<span class=\"badge", a_section)
    data = client.get("/elenco.json").get_json()
    flags = {s["denominazione"]: s["esempio"] for s in data["aree"][0]["soggetti"]}
    assert flags == {"Associazione Di Prova": True, "Associazione Vera": False}


# --- filters ---------------------------------------------------------------------------------------------------


def test_filter_by_area_and_comune_kept_in_the_url(client, app, crema):
    make_entity(app, "Ente Crema A", areas=("A",), comuni=("Crema",))
    make_entity(app, "Ente Offanengo AB", areas=("A", "B"), comuni=("Offanengo", "Rivolta d'Adda"))
    make_entity(app, "Ente Crema B", areas=("B",), comuni=("Crema", "Pandino"))

    by_area = client.get("/elenco?area=B")
    assert by_area.status_code == 200
    assert 'aria-labelledby="area-A"' not in by_area.get_data(as_text=True)
    assert names_in(by_area, "B") == ["Ente Crema B", "Ente Offanengo AB"]
    assert '<option value="B" selected>' in by_area.get_data(as_text=True)

    by_comune = client.get("/elenco", query_string={"comune": "Rivolta d'Adda"})
    assert names_in(by_comune, "A") == ["Ente Offanengo AB"]
    assert names_in(by_comune, "B") == ["Ente Offanengo AB"]
    assert "1 soggetto ammesso che operano a Rivolta d'Adda" in page_text(by_comune)

    both = client.get("/elenco?area=B&comune=crema")
    assert names_in(both, "B") == ["Ente Crema B"]
    page = page_text(both)
    assert "Rimuovi filtri" in page
    assert 'href="/elenco.csv?area=B&amp;comune=Crema"' in both.get_data(as_text=True)
    assert 'href="/elenco.json?area=B&amp;comune=Crema"' in both.get_data(as_text=True)

    with app.app_context():
        crema_id = db.session.scalar(sa.select(Comune.id).where(Comune.name == "Crema"))
    assert names_in(client.get(f"/elenco?comune={crema_id}"), "A") == ["Ente Crema A"]

    rows = rows_of(client.get("/elenco.csv?area=B&comune=Crema"))
    assert [row[1] for row in rows[1:]] == ["Ente Crema B"]
    data = client.get("/elenco.json?area=A&comune=Offanengo").get_json()
    assert data["filtri"] == {"area": "A", "comune": "Offanengo"}
    assert [[s["denominazione"] for s in a["soggetti"]] for a in data["aree"]] == [["Ente Offanengo AB"]]

    assert "Rimuovi filtri" not in page_text(client.get("/elenco"))


@pytest.mark.parametrize("query", ["area=Z", "comune=Milano", "area=A&comune=99999"])
def test_unknown_filters_are_a_clear_400(client, app, crema, query):
    make_entity(app, "Ente Qualsiasi")
    response = client.get(f"/elenco?{query}")
    assert response.status_code == 400
    page = page_text(response)
    assert "Area sconosciuta" in page or "Comune sconosciuto" in page
    assert "Filtra" in page

    as_csv = client.get(f"/elenco.csv?{query}")
    assert as_csv.status_code == 400
    assert as_csv.mimetype == "text/plain"
    assert "sconosciut" in as_csv.get_data(as_text=True)

    as_json = client.get(f"/elenco.json?{query}")
    assert as_json.status_code == 400
    assert "sconosciut" in as_json.get_json()["error"]


# --- pages and search --------------------------------------------------------------------------------------------


def test_a_long_list_is_paged_in_order_with_the_filters_kept(client, app, crema):
    app.config["PUBLIC_LIST_PER_PAGE"] = 5
    names = ["Zeta Odv", "Éco Futuro", "alfa aps", "Beta Coop", "Delta Ets", "Gamma Onlus", "Ente Ètico"]
    for name in names:
        make_entity(app, name, areas=("A",), comuni=("Crema",))
    make_entity(app, "Solo Area B", areas=("B",), comuni=("Crema",))
    expected = sorted(names, key=lambda n: n.lower().replace("é", "e").replace("è", "e"))

    first = client.get("/elenco?comune=Crema")
    assert first.status_code == 200
    assert names_in(first, "A") == expected[:5]
    assert "8 soggetti ammessi che operano a Crema." in page_text(first)
    assert "Righe da 1 a 5 di 8." in page_text(first)
    assert "7 soggetti" in section(first, "A"), "the heading counts the whole area, not the page"
    assert 'aria-label="Pagine dell\'elenco"' in first.get_data(as_text=True)
    assert "/elenco?comune=Crema&amp;pagina=2" in first.get_data(as_text=True)

    second = client.get("/elenco?comune=Crema&pagina=2")
    assert names_in(second, "A") == expected[5:]
    assert names_in(second, "B") == ["Solo Area B"]
    past_the_end = client.get("/elenco?comune=Crema&pagina=99")
    assert names_in(past_the_end, "A") == expected[5:] and "Righe da 6 a 8 di 8." in page_text(past_the_end)
    assert client.get("/elenco?comune=Crema&pagina=abc").status_code == 200
    # the open data are never paged
    assert len(rows_of(client.get("/elenco.csv?comune=Crema"))) == 1 + 8


def test_search_by_name_ignores_accents_and_case_and_finds_a_codice_fiscale(client, app, crema):
    wanted = make_entity(app, "Associazione École des Parents", areas=("A", "B"))
    make_entity(app, "Cooperativa Altro Nome", areas=("A",))
    found = client.get("/elenco?q=ECOLE")
    assert names_in(found, "A") == ["Associazione École des Parents"]
    assert names_in(found, "B") == ["Associazione École des Parents"]
    assert "1 soggetto ammesso per la ricerca «ECOLE»." in page_text(found)
    assert 'value="ECOLE"' in found.get_data(as_text=True), "what was typed stays in the field"
    with app.app_context():
        cf = db.session.get(Organization, wanted["organization"]).codice_fiscale
    assert names_in(client.get(f"/elenco?q={cf}"), "A") == ["Associazione École des Parents"]
    nothing = client.get("/elenco?q=%25")
    assert nothing.status_code == 200 and "Nessun soggetto ammesso corrisponde ai filtri." in page_text(nothing)
    assert json.loads(client.get("/elenco.json?q=ecole").get_data())["aree"][0]["soggetti"][0]["denominazione"] \
        == "Associazione École des Parents"


def test_the_service_works_without_a_request(ctx, crema):
    call = db.session.scalar(sa.select(Call))
    listing = admitted_entries(call)
    assert [s.code for s in listing.sections] == ["A", "B", "C", "D"]
    assert listing.entity_count == 0
    # nothing admitted yet: the list dates from the loading of the call (its areas were written with it)
    assert call.loaded_at <= listing.updated_at < call.loaded_at + timedelta(seconds=5)
    with pytest.raises(UnknownFilter) as error:
        admitted_entries(call, area_code="Z")
    assert error.value.field == "area"
    with pytest.raises(UnknownFilter):
        admitted_entries(call, comune_id=-1)


# --- privacy and escaping --------------------------------------------------------------------------------------


def test_no_personal_data_on_the_page_or_in_the_exports(client, app, crema):
    entity = make_entity(app, "Associazione Riservata", email="referente.privato@example.org")
    person_cf = make_entity(app, "Ditta Individuale Sociale")
    _update(app, Organization, person_cf["organization"], codice_fiscale="RSSMRA80A01D142X")
    with app.app_context():
        org = db.session.get(Organization, entity["organization"])
        people = [value for c in org.contacts for value in (c.full_name, c.email, c.phone)]
        cf = org.codice_fiscale
        secrets = [*people, org.email, org.registered_office, "RSSMRA80A01D142X"]

    for url in ("/elenco", "/elenco.csv", "/elenco.json"):
        body = client.get(url).get_data(as_text=True)
        assert "Associazione Riservata" in body
        assert cf in body, "the entity's own codice fiscale identifies it and is not personal data"
        for value in secrets:
            assert value not in html.unescape(body), f"{value!r} published at {url}"
    data = client.get("/elenco.json").get_json()
    person = next(s for s in data["aree"][0]["soggetti"] if s["denominazione"] == "Ditta Individuale Sociale")
    assert person["codice_fiscale"] is None
    assert set(person) == {"denominazione", "forma_giuridica", "codice_fiscale", "comuni", "fase", "sito_web",
                           "esempio"}


def test_html_is_escaped_on_the_page_and_kept_literally_in_the_exports(client, app, crema):
    entity = make_entity(app, 'Ente <script>alert("x")</script> & <b>Co</b>')
    _update(app, Organization, entity["organization"], website='javascript:alert("x")')
    linked = make_entity(app, "Ente Con Sito")
    _update(app, Organization, linked["organization"], website="https://www.ente.example.org/chi-siamo")

    page = client.get("/elenco").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>Co</b>" not in page
    assert "Ente &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in page
    assert 'href="javascript:' not in page
    assert "javascript:alert(&#34;x&#34;)" in page, "shown as text, never as a link"
    assert re.search(r'<a href="https://www.ente.example.org/chi-siamo" rel="noopener nofollow"[^>]*>', page)

    data = client.get("/elenco.json").get_json()
    names = [s["denominazione"] for s in data["aree"][0]["soggetti"]]
    assert 'Ente <script>alert("x")</script> & <b>Co</b>' in names
    assert any(s["sito_web"] == 'javascript:alert("x")' for s in data["aree"][0]["soggetti"])


# --- the CSV ---------------------------------------------------------------------------------------------------


def test_csv_is_a_clean_table_for_italian_excel(client, app, crema):
    make_entity(app, "Associazione; con punto e virgola", areas=("A", "D"), comuni=("Crema", "Offanengo"))
    make_entity(app, "Cooperativa Àncora", areas=("B",), legal_form=LegalForm.SOCIAL_COOPERATIVE, late=True)

    response = client.get("/elenco.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="elenco-soggetti-crema-2025-2027.csv"'
    assert response.headers["Last-Modified"]
    rows = rows_of(response)
    assert rows[0] == CSV_HEADER
    assert [(row[0][:1], row[1]) for row in rows[1:]] == [
        ("A", "Associazione; con punto e virgola"),
        ("B", "Cooperativa Àncora"),
        ("D", "Associazione; con punto e virgola"),
    ]
    first = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert first["Area"] == "A) Minori e Famiglia"
    assert first["Forma giuridica"] == "Associazione di promozione sociale (APS)"
    assert re.fullmatch(r"\d{11}", first["Codice fiscale"])
    assert first["Comuni"] == "Crema, Offanengo"
    assert first["Fase"] == "Solo attuazione"
    assert first["Esempio"] == "no"
    assert rows[2][5] == "Attuazione (dal gennaio 2025)"
    assert b"\r\n" in response.get_data()


@pytest.mark.parametrize(
    ("name", "in_cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+39 Associazione", "'+39 Associazione"),
        ("-1+2 Associazione", "'-1+2 Associazione"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("Associazione =normale", "Associazione =normale"),
    ],
)
def test_csv_cells_that_would_run_as_formulas_are_neutralised(client, app, crema, name, in_cell):
    entity = make_entity(app, name)
    _update(app, Organization, entity["organization"], website="=cmd|' /C calc'!A0")

    rows = rows_of(client.get("/elenco.csv"))
    assert rows[1][1] == in_cell
    assert rows[1][6] == "'=cmd|' /C calc'!A0"
    assert client.get("/elenco.json").get_json()["aree"][0]["soggetti"][0]["denominazione"] == name


def test_a_name_cannot_start_with_a_tab_and_a_cell_that_does_is_still_neutralised(client, app, crema):
    """A one-line text is stored without tabs (`textutil.clean_line`); the CSV keeps its own guard anyway."""
    make_entity(app, "\tTab\tAssociazione")
    assert rows_of(client.get("/elenco.csv"))[1][1] == "Tab Associazione"
    assert neutralise_cell("\tTab Associazione") == "'\tTab Associazione"


# --- the JSON --------------------------------------------------------------------------------------------------


def test_json_has_the_update_time_the_licence_and_the_areas(client, app, crema):
    make_entity(app, "Fondazione Ûnica", areas=("A", "C"), legal_form=LegalForm.FOUNDATION,
                comuni=("Vailate", "Crema"))

    response = client.get("/elenco.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "Fondazione Ûnica" in response.get_data(as_text=True), "UTF-8, not \\u escapes"
    data = json.loads(response.get_data(as_text=True))
    assert data["avviso"].startswith("Avviso di manifestazione di interesse")
    assert data["ambito"] == "Ambito territoriale di Crema"
    assert data["licenza"] == "CC BY 4.0"
    updated = datetime.fromisoformat(data["aggiornato_al"])
    assert updated.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert abs(updated - timeutil.utcnow()) < timedelta(minutes=5)
    assert [a["codice"] for a in data["aree"]] == ["A", "B", "C", "D"]
    assert data["aree"][1] == {"codice": "B", "nome": "Fragilità (Anziani e Persone con disabilità)", "soggetti": []}
    entity = data["aree"][0]["soggetti"][0]
    assert entity["denominazione"] == "Fondazione Ûnica"
    assert entity["forma_giuridica"] == "Fondazione"
    assert entity["comuni"] == ["Crema", "Vailate"]
    assert entity["fase"] == "Solo attuazione"
    assert data["aree"][2]["soggetti"] == [entity]

    page = page_text(client.get("/elenco"))
    assert "Dati pubblicati con licenza CC BY 4.0" in re.sub(r"<[^>]+>", "", page)


def test_exports_stay_in_italian_when_the_visitor_reads_english(client, app, crema):
    make_entity(app, "Ente Bilingue")
    with client.session_transaction() as session:
        session["lang"] = "en"
    data = client.get("/elenco.json").get_json()
    assert data["aree"][0]["soggetti"][0]["forma_giuridica"] == "Associazione di promozione sociale (APS)"
    assert data["aree"][0]["soggetti"][0]["fase"] == "Solo attuazione"


# --- freshness and conditional GETs ----------------------------------------------------------------------------


def test_the_page_is_current_after_every_change_although_each_process_keeps_the_list(client, app, crema, make_user):
    """The list for a set of filters is kept by its change stamp: any change gives a new stamp, never an old page."""
    from scheduler.auth.models import Role, User
    from scheduler.registry import services

    staff_id = make_user("ufficio@example.org", role=Role.STAFF)
    listed = make_entity(app, "Ente Già Ammesso", areas=("A",))
    waiting = make_entity(app, "Ente In Attesa", areas=("A",), status=ApplicationStatus.SUBMITTED)
    assert names_in(client.get("/elenco"), "A") == ["Ente Già Ammesso"]

    with app.app_context():
        services.admit(db.session.get(Application, waiting["application"]), db.session.get(User, staff_id))
        db.session.commit()
    assert names_in(client.get("/elenco"), "A") == ["Ente Già Ammesso", "Ente In Attesa"]

    with app.app_context():
        db.session.get(Organization, listed["organization"]).name = "Ente Rinominato"
        db.session.commit()
    assert names_in(client.get("/elenco"), "A") == ["Ente In Attesa", "Ente Rinominato"]

    with app.app_context():
        db.session.scalar(sa.select(Area).where(Area.code == "A")).full_name = "Minori, Famiglie e Scuola"
        db.session.commit()
    assert "Minori, Famiglie e Scuola" in section(client.get("/elenco"), "A")

    with app.app_context():
        services.withdraw(db.session.get(Application, waiting["application"]),
                          db.session.get(User, waiting["user"]))
        db.session.commit()
    assert names_in(client.get("/elenco"), "A") == ["Ente Rinominato"]


@pytest.mark.parametrize("url", ["/elenco.csv", "/elenco.json"])
def test_conditional_get_answers_304_until_the_list_changes(client, app, crema, url):
    make_entity(app, "Ente Primo")
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag and first.headers["Last-Modified"]

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304

    make_entity(app, "Ente Secondo")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "Ente Secondo" in changed.get_data(as_text=True)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    original = timeutil.clock
    timeutil.clock = lambda: moment
    try:
        yield
    finally:
        timeutil.clock = original


def test_update_time_moves_forward_when_an_entity_leaves_the_list(client, app, crema):
    t0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
    with clock_at(t0):
        staying = make_entity(app, "Ente Che Resta")
        leaving = make_entity(app, "Ente Che Se Ne Va")
    first = client.get("/elenco.json")
    assert first.get_json()["aggiornato_al"] == "2030-03-01T10:00:00+01:00"

    with app.app_context():
        application = db.session.get(Application, leaving["application"])
        application.status = ApplicationStatus.WITHDRAWN
        application.events.append(ApplicationEvent(action="withdrawn", at=t0 + timedelta(days=2)))
        db.session.commit()

    second = client.get("/elenco.json", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert second.status_code == 200
    data = second.get_json()
    assert data["aggiornato_al"] == "2030-03-03T10:00:00+01:00"
    assert [s["denominazione"] for s in data["aree"][0]["soggetti"]] == ["Ente Che Resta"]
    assert "Aggiornato al 03/03/2030, 10:00" in page_text(client.get("/elenco"))
    assert staying


# --- queries ---------------------------------------------------------------------------------------------------


def admit_many(app, count: int) -> None:
    """`count` admitted entities in one transaction, each in two areas and three comuni, one of them Crema."""
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        areas = list(db.session.scalars(sa.select(Area).where(Area.call_id == call.id).order_by(Area.code)))
        comuni = list(db.session.scalars(sa.select(Comune).where(Comune.call_id == call.id).order_by(Comune.name)))
        crema = next(c for c in comuni if c.name == "Crema")
        for n in range(count):
            org = Organization(
                name=f"Ente numero {n:03d}", legal_form=list(LegalForm)[n % len(LegalForm)],
                codice_fiscale=codice_fiscale(), register="runts-b", register_number=str(n),
                registered_office="Via Roma 1, Crema", email=f"massa{n}@example.org",
                website=f"https://ente{n}.example.org",
                comuni=[crema, *(c for c in comuni[n % 40:n % 40 + 3] if c is not crema)][:3],
            )
            db.session.add(Application(
                call=call, organization=org, status=ApplicationStatus.ADMITTED, wants_implementation=True,
                wants_drafting=n % 2 == 0, reviewed_at=timeutil.utcnow(),
                areas=[ApplicationArea(area=areas[n % 4]), ApplicationArea(area=areas[(n + 1) % 4])],
            ))
        db.session.commit()




@pytest.mark.parametrize("url", ["/elenco", "/elenco?comune=Crema", "/elenco.csv", "/elenco.json?area=A"])
def test_the_list_runs_the_same_queries_for_5_or_60_entities(client, app, crema, url):
    counts = []
    for added in (5, 55):  # 5, then 60 in all
        admit_many(app, added)
        assert client.get(url).status_code == 200  # warm-up
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{counts[0]} queries with 5 entities, {counts[1]} with 60"
    assert counts[0] <= 10
    if url == "/elenco":
        assert len(re.findall(r'<span class="fw-semibold">Ente numero', response.get_data(as_text=True))) == 120
