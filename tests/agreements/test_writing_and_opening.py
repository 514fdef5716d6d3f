"""Staff write the Accordo (its PDF checked by content and size), choose the entities, open it: each asked
entity's addresses receive the request."""

from __future__ import annotations

import re

import sqlalchemy as sa

from scheduler.agreements.models import Agreement, AgreementInvitation, AgreementStatus
from scheduler.audit.models import AuditEntry
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due
from tests.agreements.conftest import PDF, PNG, counts, create, form_for, in_days, open_agreement, outbox, post
from tests.factories import csrf_from


def _post_new(staff, app, data: dict):
    data["csrf_token"] = csrf_from(staff, "/gestione/accordi/nuovo")
    return staff.post("/gestione/accordi/nuovo", data=data, content_type="multipart/form-data")


def test_the_new_form_asks_every_admitted_entity_by_default(app, staff, cast):
    page = staff.get("/gestione/accordi/nuovo").get_data(as_text=True)

    for key in ("a", "b", "c"):
        box = re.search(rf'<input[^>]*value="{cast[key]["organization"]}"[^>]*>', page).group(0)
        assert 'name="organizations"' in box and "checked" in box
    assert "Zeta in esame" not in page  # not admitted: not asked
    assert 'type="file"' in page and 'accept="application/pdf"' in page


def test_staff_create_an_accordo_with_its_pdf_as_a_draft(app, staff, cast):
    agreement_id = create(staff, app, [cast["a"], cast["b"]], closes_on=in_days(15))

    page = staff.get(f"/gestione/accordi/{agreement_id}").get_data(as_text=True)
    assert "Bozza" in page and "Alfa APS" in page and "Beta ODV" in page and "Gamma Coop" not in page
    assert "accordo.pdf" in page
    with app.app_context():
        agreement = db.session.get(Agreement, agreement_id)
        assert agreement.status is AgreementStatus.DRAFT
        assert agreement.document_content_type == "application/pdf" and agreement.document_size == len(PDF)
        assert agreement.closes_on == in_days(15)
        assert {i.organization_id for i in agreement.invitations} == {cast["a"]["organization"],
                                                                      cast["b"]["organization"]}
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agreement.created"))
        assert entry.subject_id == agreement_id and entry.details["document_sha256"] == agreement.document_sha256
    assert outbox(app) == []  # nobody is told before it is opened
    # the Accordo is listed
    assert "0 su 2" in staff.get("/gestione/accordi").get_data(as_text=True)


def test_a_png_renamed_pdf_is_refused_next_to_the_field_and_nothing_is_saved(app, staff, cast):
    before = counts(app)
    response = _post_new(staff, app, form_for(app, [cast["a"]], title="Accordo con un'immagine",
                                              document=(PNG, "accordo.pdf")))

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'<div id="document-error"[^>]*>([^<]+)</div>', page)
    assert error and "non è un PDF" in error.group(1)
    assert re.search(r'id="document"[^>]*aria-describedby="[^"]*document-error', page)
    assert 'value="Accordo con un&#39;immagine"' in page  # what was typed is kept
    assert counts(app) == before


def test_a_pdf_over_the_limit_is_refused_with_413_and_the_limit(app, staff, cast):
    app.config["AGREEMENT_FILE_MAX_BYTES"] = 2 * 1024 * 1024
    before = counts(app)
    response = _post_new(staff, app, form_for(app, [cast["a"]], document=(PDF + b"0" * (3 * 1024 * 1024),
                                                                          "grande.pdf")))

    assert response.status_code == 413
    error = re.search(r'<div id="document-error"[^>]*>([^<]+)</div>', response.get_data(as_text=True)).group(1)
    assert "troppo grande" in error and "il massimo è 2 MB" in error
    assert counts(app) == before


def test_missing_pieces_are_said_next_to_their_field(app, staff, cast):
    before = counts(app)
    cases = [
        (form_for(app, [cast["a"]], document=None), "document", "Carica il testo dell'Accordo (PDF)."),
        (form_for(app, [], document=(PDF, "a.pdf")), "organizations", "Scegli almeno un ente"),
        (form_for(app, [cast["a"]], closes_on=in_days(-1)), "closes_on", "deve essere un giorno futuro"),
        (form_for(app, [cast["pending"]]), "organizations", "non è ammesso"),
        ({**form_for(app, [cast["a"]]), "title": ""}, "title", "Campo obbligatorio."),
    ]
    for data, field, message in cases:
        response = _post_new(staff, app, data)
        assert response.status_code == 400, field
        error = re.search(rf'<div id="{field}-error"[^>]*>([^<]+)</div>', response.get_data(as_text=True))
        assert error and message.replace("'", "&#39;") in error.group(1), (field, error)
    assert counts(app) == before


def test_opening_writes_to_each_asked_entitys_addresses_only(app, staff, cast):
    agreement_id = create(staff, app, [cast["a"], cast["b"]])  # C unticked
    response = open_agreement(staff, agreement_id)

    assert "2 enti" in staff.get(response.headers["Location"]).get_data(as_text=True)
    sent = outbox(app, "agreement-request")
    # the DECISION rule: the contact person, then the legal representative
    with app.app_context():
        from scheduler.registry.models import Organization
        expected = []
        for key in ("a", "b"):
            org = db.session.get(Organization, cast[key]["organization"])
            expected += [c.email for c in sorted(org.contacts, key=lambda c: c.kind.value != "contact")]
    assert sorted(address for address, _subject in sent) == sorted(expected)
    assert all(subject.startswith("Adesione all'Accordo di Programma: ") for _address, subject in sent)
    assert not any(address in ("gamma@example.org", "zeta@example.org") for address, _subject in sent)
    with app.app_context():
        agreement = db.session.get(Agreement, agreement_id)
        assert agreement.status is AgreementStatus.OPEN and agreement.opened_at is not None
        assert all(i.notified_at is not None for i in agreement.invitations)
        assert db.session.scalar(sa.select(AuditEntry.details).where(AuditEntry.action == "agreement.opened")) == {
            "entities": 2, "messages": 4}

    # opened once: a second press changes nothing
    again = post(staff, f"/gestione/accordi/{agreement_id}/apri", csrf_path=f"/gestione/accordi/{agreement_id}")
    assert again.status_code == 409 and "già aperto" in again.get_data(as_text=True)
    assert len(outbox(app, "agreement-request")) == 4


def test_the_request_reaches_the_mailbox_with_the_link_and_the_deadline(smtp_app_config, smtp_server, app, staff,
                                                                        cast):
    agreement_id = create(staff, app, [cast["a"]], closes_on=in_days(10))
    open_agreement(staff, agreement_id)
    with app.app_context():
        deliver_all_due("test-worker")
    messages = smtp_server.wait_for(2)
    recipients = sorted(m["To"].addresses[0].addr_spec for m in messages)
    assert len(messages) == 2 and recipients[0] == "alfa@example.org" and recipients[1].startswith("legale")
    text = messages[0].get_body(("plain",)).get_content()
    assert f"http://tavoli.test/area-riservata/accordi/{agreement_id}" in text
    assert "entro il" in text
    assert messages[0]["List-Unsubscribe"] is None  # service mail


def test_an_open_accordo_keeps_its_document_and_entities_but_its_deadline_can_be_extended(app, staff, cast):
    agreement_id = create(staff, app, [cast["a"]], closes_on=in_days(5))
    open_agreement(staff, agreement_id)
    page = staff.get(f"/gestione/accordi/{agreement_id}/modifica").get_data(as_text=True)
    assert 'name="document"' not in page and 'name="organizations"' not in page

    data = {"title": "Accordo di Programma (testo definitivo)", "description": "", "closes_on": in_days(12)}
    response = post(staff, f"/gestione/accordi/{agreement_id}/modifica", data,
                    csrf_path=f"/gestione/accordi/{agreement_id}/modifica")
    assert response.status_code == 303
    with app.app_context():
        agreement = db.session.get(Agreement, agreement_id)
        assert agreement.closes_on == in_days(12) and agreement.title.endswith("(testo definitivo)")
        assert [i.organization_id for i in agreement.invitations] == [cast["a"]["organization"]]
        details = db.session.scalar(sa.select(AuditEntry.details).where(AuditEntry.action == "agreement.updated"))
        assert set(details["changes"]) == {"title", "description", "closes_at"}


def test_a_draft_can_be_changed_and_deleted_an_open_accordo_cannot_be_deleted(app, staff, cast):
    agreement_id = create(staff, app, [cast["a"], cast["b"]])
    data = {**form_for(app, [cast["c"]], title="Accordo corretto", document=(PDF + b"% v2\n", "nuovo.pdf")),
            "csrf_token": csrf_from(staff, f"/gestione/accordi/{agreement_id}/modifica")}
    response = staff.post(f"/gestione/accordi/{agreement_id}/modifica", data=data,
                          content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        agreement = db.session.get(Agreement, agreement_id)
        assert agreement.document_filename == "nuovo.pdf" and agreement.document_size == len(PDF) + 5
        assert [i.organization_id for i in agreement.invitations] == [cast["c"]["organization"]]

    other = create(staff, app, [cast["a"]])
    open_agreement(staff, other)
    refused = post(staff, f"/gestione/accordi/{other}/elimina", csrf_path=f"/gestione/accordi/{other}")
    assert refused.status_code == 409 and "non si può eliminare" in refused.get_data(as_text=True)

    deleted = post(staff, f"/gestione/accordi/{agreement_id}/elimina", csrf_path=f"/gestione/accordi/{agreement_id}")
    assert deleted.status_code == 303
    with app.app_context():
        assert db.session.get(Agreement, agreement_id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AgreementInvitation)) == 1
        assert db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "agreement.deleted"))
