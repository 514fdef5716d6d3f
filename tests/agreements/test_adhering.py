"""An asked entity adheres from its reserved area: the legal representative pre-filled and confirmed, the
declaration, optionally the signed PDF; the date and the account are recorded. Not asked, another entity's,
after the deadline, twice: refused with the right status, nothing changed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from scheduler import timeutil
from scheduler.agreements.models import AgreementAdhesion, AgreementInvitation
from scheduler.audit.models import AuditEntry
from scheduler.extensions import db
from scheduler.registry import services as registry
from scheduler.registry.models import Organization
from scheduler.timeutil import utcnow
from tests.agreements.conftest import (
    PDF,
    PNG,
    adhere,
    counts,
    create,
    in_days,
    open_agreement,
    outbox,
    post,
    sign_in,
)


@pytest.fixture
def opened(app, staff, cast):
    """An open Accordo asked of A and B (not of C), closing in 10 days."""
    agreement_id = create(staff, app, [cast["a"], cast["b"]], closes_on=in_days(10))
    open_agreement(staff, agreement_id)
    return agreement_id


def _adhesions(app) -> list[AgreementAdhesion]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AgreementAdhesion).order_by(AgreementAdhesion.id)
                                       .options(sa.orm.undefer(AgreementAdhesion.signed_data))))
        db.session.expunge_all()
        return rows


def test_the_reserved_area_shows_the_accordo_awaiting_adhesion(app, client, cast, opened):
    sign_in(client, app, cast["a"])
    area = client.get("/area-riservata").get_data(as_text=True)
    assert 'id="agreements-box"' in area and "Leggi e aderisci" in area
    assert f"/area-riservata/accordi/{opened}" in area

    sign_in(client, app, cast["c"])  # not asked: no box
    assert 'id="agreements-box"' not in client.get("/area-riservata").get_data(as_text=True)


def test_an_entity_adheres_with_the_legal_representative_confirmed_and_the_signed_pdf(app, client, cast, opened):
    sign_in(client, app, cast["a"])
    page = client.get(f"/area-riservata/accordi/{opened}").get_data(as_text=True)
    with app.app_context():
        legal = next(c for c in db.session.get(Organization, cast["a"]["organization"]).contacts
                     if c.kind.value == "legal_representative")
        legal_name, legal_email = legal.full_name, legal.email
    assert f'value="{legal_name}"' in page and 'value="Presidente"' in page  # pre-filled from the entity's data
    assert "Dichiaro di aderire all&#39;Accordo di Programma" in page and "Alfa APS" in page
    assert f"/area-riservata/accordi/{opened}/documento" in page

    before = utcnow()
    response = adhere(client, opened, signed=(PDF, "adesione firmata.pdf"))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Adesione registrata" in page and "L'ente ha aderito" in page
    assert "non si ritira online" in page and "Aderisci all'Accordo</button>" not in page

    [adhesion] = _adhesions(app)
    assert adhesion.signatory_name == legal_name and adhesion.signatory_role == "Presidente"
    assert adhesion.user_id == cast["a"]["user"] and before <= adhesion.adhered_at <= utcnow()
    assert adhesion.signed_data == PDF and adhesion.signed_filename == "adesione-firmata.pdf"
    assert adhesion.signed_size == len(PDF) and len(adhesion.signed_sha256) == 64
    # the receipt goes to the entity's addresses; the adhesion is in the audit log, with its account
    assert sorted(a for a, _s in outbox(app, "agreement-receipt")) == sorted(["alfa@example.org", legal_email])
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agreement.adhered"))
        assert entry.actor_id == cast["a"]["user"] and entry.details["organization_id"] == cast["a"]["organization"]
    assert "Adesione registrata il" in client.get("/area-riservata").get_data(as_text=True)


def test_the_person_may_correct_the_name_and_the_signed_pdf_is_optional(app, client, cast, opened):
    sign_in(client, app, cast["b"])
    assert adhere(client, opened, name="Maria Nuova Presidente", role="Presidente dal 2025").status_code == 303
    [adhesion] = _adhesions(app)
    assert (adhesion.signatory_name, adhesion.signatory_role) == ("Maria Nuova Presidente", "Presidente dal 2025")
    assert adhesion.signed_data is None and not adhesion.has_signed_copy


def test_without_the_declaration_or_the_name_nothing_is_recorded(app, client, cast, opened):
    sign_in(client, app, cast["a"])
    before = counts(app)

    response = adhere(client, opened, declaration=False)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'<div id="declaration-error"[^>]*>Per aderire conferma la dichiarazione.</div>', page)
    assert re.search(r'id="declaration"[^>]*aria-describedby="declaration-error"', page) or \
        re.search(r'aria-describedby="declaration-error"[^>]*id="declaration"', page)

    response = adhere(client, opened, name="")
    assert response.status_code == 400 and 'id="signatory_name-error"' in response.get_data(as_text=True)
    assert counts(app) == before


def test_a_signed_copy_that_is_not_a_pdf_is_refused_next_to_the_field(app, client, cast, opened):
    sign_in(client, app, cast["a"])
    before = counts(app)
    response = adhere(client, opened, signed=(PNG, "firmata.pdf"))
    assert response.status_code == 400
    error = re.search(r'<div id="signed_copy-error"[^>]*>([^<]+)</div>', response.get_data(as_text=True))
    assert error and "non è un PDF" in error.group(1)
    assert counts(app) == before


def test_an_entity_not_asked_finds_nothing_and_changes_nothing(app, client, cast, opened):
    sign_in(client, app, cast["c"])
    before = counts(app)
    assert client.get(f"/area-riservata/accordi/{opened}").status_code == 404
    assert client.get(f"/area-riservata/accordi/{opened}/documento").status_code == 404
    response = post(client, f"/area-riservata/accordi/{opened}",
                    {"signatory_name": "Chi", "signatory_role": "Presidente", "declaration": "y"})
    assert response.status_code == 404
    assert counts(app) == before


def test_a_draft_is_not_shown_to_the_entities_it_will_ask(app, staff, client, cast):
    draft = create(staff, app, [cast["a"]])
    sign_in(client, app, cast["a"])
    assert client.get(f"/area-riservata/accordi/{draft}").status_code == 404
    assert 'id="agreements-box"' not in client.get("/area-riservata").get_data(as_text=True)


def test_each_entity_adheres_only_for_itself(app, client, cast, opened):
    sign_in(client, app, cast["a"])
    assert adhere(client, opened).status_code == 303
    [mine] = _adhesions(app)

    sign_in(client, app, cast["b"])
    # B sees its own state, not A's adhesion
    page = client.get(f"/area-riservata/accordi/{opened}").get_data(as_text=True)
    assert "Aderisci all'Accordo</button>" in page and mine.signatory_name not in page
    # a forged organization in the form is ignored: the adhesion is the signed-in entity's
    response = adhere(client, opened, extra={"organization_id": str(cast["a"]["organization"]),
                                             "invitation_id": "1"})
    assert response.status_code == 303
    with app.app_context():
        owners = dict(db.session.execute(
            sa.select(AgreementAdhesion.id, AgreementInvitation.organization_id).join(AgreementInvitation)).all())
    assert owners == {mine.id: cast["a"]["organization"], mine.id + 1: cast["b"]["organization"]}
    # an entity never downloads signed copies, its own or another's
    assert client.get(f"/gestione/accordi/{opened}/adesioni/{mine.id}/copia-firmata").status_code == 403


def test_adhering_twice_is_refused_with_409(app, client, cast, opened):
    sign_in(client, app, cast["a"])
    assert adhere(client, opened).status_code == 303
    before = counts(app)
    response = post(client, f"/area-riservata/accordi/{opened}",
                    {"signatory_name": "Altra Persona", "signatory_role": "Vice", "declaration": "y"})
    assert response.status_code == 409
    assert "L&#39;ente ha già aderito a questo Accordo" in response.get_data(as_text=True)
    assert counts(app) == before


def test_after_the_deadline_adhesion_is_closed_with_a_clear_message(app, client, cast, opened, monkeypatch):
    sign_in(client, app, cast["a"])
    later = utcnow() + timedelta(days=12)
    monkeypatch.setattr(timeutil, "clock", lambda: later)

    page = client.get(f"/area-riservata/accordi/{opened}").get_data(as_text=True)
    assert "Il termine per aderire è scaduto il" in page and "Aderisci all'Accordo</button>" not in page
    assert "Termine scaduto" in client.get("/area-riservata").get_data(as_text=True)

    before = counts(app)
    for data in ({"signatory_name": "Chi Firma", "signatory_role": "Presidente", "declaration": "y"}, {}):
        response = post(client, f"/area-riservata/accordi/{opened}", data)
        assert response.status_code == 409
        assert "Il termine per aderire è scaduto il" in response.get_data(as_text=True)
    assert counts(app) == before


def test_the_accordo_document_is_a_download_for_asked_entities_and_staff(app, staff, client, cast, opened):
    sign_in(client, app, cast["a"])
    for who, path in ((client, f"/area-riservata/accordi/{opened}/documento"),
                      (staff, f"/gestione/accordi/{opened}/documento")):
        response = who.get(path)
        assert response.status_code == 200 and response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "accordo.pdf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_the_gdpr_export_lists_adhesions_and_erasure_removes_the_typed_name(app, client, staff, cast, opened):
    sign_in(client, app, cast["a"])
    adhere(client, opened, name="Giulia Firmataria")
    export = client.get("/area-riservata/dati.json").get_json()
    assert export["adesioni_accordi"][0]["legale_rappresentante"] == "Giulia Firmataria"

    with app.app_context():
        from scheduler.auth.models import User
        organization = db.session.get(Organization, cast["a"]["organization"])
        organization.erasure_requested_at = utcnow()
        staff_user = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        registry.confirm_erasure(organization, staff_user)
        db.session.commit()
    [adhesion] = _adhesions(app)
    assert adhesion.signatory_name == "(dato cancellato)" and adhesion.annulled_at is None
