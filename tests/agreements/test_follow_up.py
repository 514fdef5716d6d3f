"""Staff follow the adhesions: who adhered and who did not, a reminder to the missing ones only, the exports,
the annulment of an adhesion with its reason."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from scheduler.agreements.models import AgreementAdhesion, AgreementInvitation
from scheduler.audit.models import AuditEntry
from scheduler.extensions import db
from scheduler.registry.models import Organization
from tests.agreements.conftest import PDF, adhere, counts, create, open_agreement, outbox, post, sign_in
from tests.factories import make_entity


@pytest.fixture
def opened(app, staff, client, cast):
    """An open Accordo asked of A, B and C; A adhered with a signed PDF."""
    agreement_id = create(staff, app, [cast["a"], cast["b"], cast["c"]])
    open_agreement(staff, agreement_id)
    sign_in(client, app, cast["a"])
    assert adhere(client, agreement_id, signed=(PDF, "firmata.pdf")).status_code == 303
    return agreement_id


def _row(page: str, organization_id: int) -> str:
    """The entity's row of the staff list, as text a person reads (entities unescaped)."""
    return html.unescape(re.search(rf'<tr id="ente-{organization_id}">(.*?)</tr>', page, re.S).group(1))


def _addresses(app, *entities: dict) -> list[str]:
    with app.app_context():
        return sorted(c.email for e in entities
                      for c in db.session.get(Organization, e["organization"]).contacts)


def test_staff_see_who_adhered_and_who_did_not(app, staff, cast, opened):
    page = staff.get(f"/gestione/accordi/{opened}").get_data(as_text=True)

    assert "Hanno aderito: 1" in page and "Non hanno ancora aderito: 2" in page
    a_row = _row(page, cast["a"]["organization"])
    assert "Ha aderito" in a_row and "Legale Rappresentante" in a_row and "alfa@example.org" in a_row
    assert "copia-firmata" in a_row
    for key in ("b", "c"):
        assert "Non ha aderito" in _row(page, cast[key]["organization"])

    adhered = staff.get(f"/gestione/accordi/{opened}?stato=aderito").get_data(as_text=True)
    assert "Alfa APS" in adhered and "Beta ODV" not in adhered
    missing = staff.get(f"/gestione/accordi/{opened}?stato=mancante").get_data(as_text=True)
    assert "Alfa APS" not in missing and "Beta ODV" in missing and "Gamma Coop" in missing
    assert "1 su 3" in staff.get("/gestione/accordi").get_data(as_text=True)


def test_the_reminder_goes_only_to_the_entities_that_have_not_adhered(app, staff, client, cast, opened):
    response = post(staff, f"/gestione/accordi/{opened}/sollecito", csrf_path=f"/gestione/accordi/{opened}")
    assert response.status_code == 303
    assert "2 enti" in staff.get(response.headers["Location"]).get_data(as_text=True)

    reminded = outbox(app, "agreement-reminder")
    assert sorted(a for a, _s in reminded) == _addresses(app, cast["b"], cast["c"])
    assert all(s.startswith("Promemoria: adesione all'Accordo di Programma entro il") for _a, s in reminded)
    with app.app_context():
        rows = {i.organization_id: (i.reminder_count, i.reminded_at) for i in
                db.session.scalars(sa.select(AgreementInvitation))}
        assert rows[cast["a"]["organization"]] == (0, None)
        assert rows[cast["b"]["organization"]][0] == 1 and rows[cast["b"]["organization"]][1] is not None
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agreement.reminded"))
        assert sorted(entry.details["organizations"]) == sorted([cast["b"]["organization"],
                                                                 cast["c"]["organization"]])
    page = staff.get(f"/gestione/accordi/{opened}").get_data(as_text=True)
    assert "1 sollecito, l'ultimo il" in _row(page, cast["b"]["organization"])

    # B adheres; the next reminder reaches C alone
    sign_in(client, app, cast["b"])
    adhere(client, opened)
    post(staff, f"/gestione/accordi/{opened}/sollecito", csrf_path=f"/gestione/accordi/{opened}")
    assert sorted(a for a, _s in outbox(app, "agreement-reminder")[len(reminded):]) == _addresses(app, cast["c"])

    # everyone adhered: nobody to remind, said on the page
    sign_in(client, app, cast["c"])
    adhere(client, opened)
    before = counts(app)
    response = post(staff, f"/gestione/accordi/{opened}/sollecito", csrf_path=f"/gestione/accordi/{opened}")
    assert response.status_code == 409
    assert "non c'è nessuno da sollecitare" in html.unescape(response.get_data(as_text=True))
    assert counts(app) == before


def test_csv_and_xlsx_exports_list_every_asked_entity(app, staff, client, cast):
    hostile = make_entity(app, "=HYPERLINK(\"http://x\")", areas=("A",), email="formula@example.org")
    agreement_id = create(staff, app, [cast["a"], cast["b"], hostile])
    open_agreement(staff, agreement_id)
    sign_in(client, app, cast["a"])
    adhere(client, agreement_id, name="Anna Firmataria", role="Presidente", signed=(PDF, "f.pdf"))

    response = staff.get(f"/gestione/accordi/{agreement_id}/adesioni.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="adesioni-accordo-{agreement_id}.csv"'
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Ente", "Codice fiscale", "Stato", "Data dell'adesione"]
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"Alfa APS", "Beta ODV", "'=HYPERLINK(\"http://x\")"}  # a formula is neutralised
    alfa = by_name["Alfa APS"]
    assert alfa[2] == "Ha aderito" and re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", alfa[3])
    assert alfa[4:8] == ["Anna Firmataria", "Presidente", "alfa@example.org", "sì"]
    assert by_name["Beta ODV"][2] == "Non ha aderito" and by_name["Beta ODV"][3] == ""

    response = staff.get(f"/gestione/accordi/{agreement_id}/adesioni.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Ente" and len(values) == 4
    xlsx_alfa = next(r for r in values if r[0] == "Alfa APS")
    assert xlsx_alfa[2] == "Ha aderito" and isinstance(xlsx_alfa[3], datetime)
    assert xlsx_alfa[4] == "Anna Firmataria"
    assert "'=HYPERLINK(\"http://x\")" in [r[0] for r in values]  # stored as text, not a formula


def test_staff_annul_an_adhesion_with_a_reason_and_the_entity_may_adhere_again(app, staff, client, cast, opened):
    with app.app_context():
        adhesion_id = db.session.scalar(sa.select(AgreementAdhesion.id))
    path = f"/gestione/accordi/{opened}/adesioni/{adhesion_id}/annulla"
    page = html.unescape(staff.get(path).get_data(as_text=True))
    assert "Annulla l'adesione" in page and "Legale Rappresentante" in page

    before = counts(app)
    response = post(staff, path, {"reason": "  "}, csrf_path=path)
    assert response.status_code == 400
    assert re.search(r'<div id="reason-error"[^>]*>Campo obbligatorio.</div>', response.get_data(as_text=True))
    assert counts(app) == before

    response = post(staff, path, {"reason": "Ha firmato il vicepresidente senza delega."}, csrf_path=path)
    assert response.status_code == 303
    with app.app_context():
        adhesion = db.session.get(AgreementAdhesion, adhesion_id)
        assert adhesion.annulled_at is not None and adhesion.annul_reason.startswith("Ha firmato")
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agreement.adhesion_annulled"))
        assert entry.details["reason"] == "Ha firmato il vicepresidente senza delega."
    assert sorted(a for a, _s in outbox(app, "agreement-annulled")) == _addresses(app, cast["a"])
    page = staff.get(f"/gestione/accordi/{opened}").get_data(as_text=True)
    assert "Non ha aderito" in _row(page, cast["a"]["organization"])
    assert "annullata il" in _row(page, cast["a"]["organization"])
    # annulled once
    assert post(staff, path, {"reason": "Di nuovo."}, csrf_path=path).status_code == 409

    # the entity reads why, and adheres again
    entity_page = client.get(f"/area-riservata/accordi/{opened}").get_data(as_text=True)
    assert "Ha firmato il vicepresidente senza delega." in entity_page
    assert adhere(client, opened, name="Presidente Vero").status_code == 303
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AgreementAdhesion).order_by(AgreementAdhesion.id)))
        assert [(r.signatory_name == "Presidente Vero", r.annulled_at is None) for r in rows] == [
            (False, False), (True, True)]


def test_an_adhesion_of_another_accordo_is_not_found_through_this_one(app, staff, cast, opened):
    other = create(staff, app, [cast["b"]])
    with app.app_context():
        adhesion_id = db.session.scalar(sa.select(AgreementAdhesion.id))
    assert staff.get(f"/gestione/accordi/{other}/adesioni/{adhesion_id}/copia-firmata").status_code == 404
    assert staff.get(f"/gestione/accordi/{other}/adesioni/{adhesion_id}/annulla").status_code == 404


def test_the_signed_copy_is_a_download_for_staff_only(app, staff, client, cast, opened):
    with app.app_context():
        adhesion_id = db.session.scalar(sa.select(AgreementAdhesion.id))
    path = f"/gestione/accordi/{opened}/adesioni/{adhesion_id}/copia-firmata"
    response = staff.get(path)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(path).status_code == 403  # the entity that uploaded it is signed in on `client`
