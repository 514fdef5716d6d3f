"""Who may open the Accordo's pages, and the staff list of who adhered in a fixed number of queries."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from scheduler.agreements.models import AgreementAdhesion, AgreementInvitation
from scheduler.auth.models import Role
from scheduler.extensions import db
from tests.agreements.conftest import PASSWORD, adhere, counts, create, open_agreement, post, sign_in
from tests.factories import csrf_from, make_entity
from tests.queries import count_queries


@pytest.fixture
def opened(app, staff, client, cast):
    agreement_id = create(staff, app, [cast["a"], cast["b"]])
    open_agreement(staff, agreement_id)
    sign_in(client, app, cast["a"])
    adhere(client, agreement_id)
    with app.app_context():
        adhesion_id = db.session.scalar(sa.select(AgreementAdhesion.id))
    client.post("/esci", data={"csrf_token": csrf_from(client, "/")})
    return agreement_id, adhesion_id


def _staff_pages(agreement_id: int, adhesion_id: int) -> list[tuple[str, str]]:
    base = f"/gestione/accordi/{agreement_id}"
    return [("GET", "/gestione/accordi"), ("GET", "/gestione/accordi/nuovo"), ("POST", "/gestione/accordi/nuovo"),
            ("GET", base), ("GET", f"{base}/modifica"), ("POST", f"{base}/modifica"), ("POST", f"{base}/apri"),
            ("POST", f"{base}/sollecito"), ("POST", f"{base}/elimina"), ("GET", f"{base}/documento"),
            ("GET", f"{base}/adesioni.csv"), ("GET", f"{base}/adesioni.xlsx"),
            ("GET", f"{base}/adesioni/{adhesion_id}/copia-firmata"), ("GET", f"{base}/adesioni/{adhesion_id}/annulla"),
            ("POST", f"{base}/adesioni/{adhesion_id}/annulla")]


def _entity_pages(agreement_id: int) -> list[tuple[str, str]]:
    return [("GET", f"/area-riservata/accordi/{agreement_id}"), ("POST", f"/area-riservata/accordi/{agreement_id}"),
            ("GET", f"/area-riservata/accordi/{agreement_id}/documento")]


def _request(client, method: str, path: str):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf_from(client, "/"), "reason": "Prova", "title": "Prova",
                                   "closes_on": "2099-01-01", "signatory_name": "Prova",
                                   "signatory_role": "Prova", "declaration": "y"})


def test_anonymous_visitors_are_sent_to_sign_in(app, client, opened):
    before = counts(app)
    for method, path in _staff_pages(*opened) + _entity_pages(opened[0]):
        response = _request(client, method, path)
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/accedi", path
    assert counts(app) == before


def test_entities_are_refused_the_staff_pages(app, client, cast, opened):
    sign_in(client, app, cast["b"])
    before = counts(app)
    for method, path in _staff_pages(*opened):
        assert _request(client, method, path).status_code == 403, path
    assert counts(app) == before


@pytest.mark.parametrize("role", [Role.STAFF, Role.FACILITATOR])
def test_staff_and_facilitators_are_refused_the_entity_pages(app, client, make_user, opened, role):
    make_user("altra.persona@example.org", role=role)
    client.post("/accedi", data={"email": "altra.persona@example.org", "password": PASSWORD,
                                 "csrf_token": csrf_from(client, "/accedi")})
    before = counts(app)
    for method, path in _entity_pages(opened[0]):
        assert _request(client, method, path).status_code == 403, path
    assert counts(app) == before
    if role is Role.FACILITATOR:
        for method, path in _staff_pages(*opened):
            assert _request(client, method, path).status_code == 403, path


def test_an_accordo_of_another_id_is_not_found(app, staff, opened):
    agreement_id, _adhesion_id = opened
    assert staff.get(f"/gestione/accordi/{agreement_id + 100}").status_code == 404
    assert post(staff, f"/gestione/accordi/{agreement_id + 100}/apri").status_code == 404


def _board_queries(app, staff, client, size: int) -> dict[str, int]:
    entities = [make_entity(app, f"Ente numero {n:02d}", areas=("A",)) for n in range(size)]
    agreement_id = create(staff, app, entities)
    open_agreement(staff, agreement_id)
    for entity in entities[::2]:  # half adhere, some after an annulment
        sign_in(client, app, entity)
        assert adhere(client, agreement_id).status_code == 303
    with app.app_context():
        first = db.session.scalar(sa.select(AgreementAdhesion.id).join(AgreementInvitation)
                                  .where(AgreementInvitation.agreement_id == agreement_id)
                                  .order_by(AgreementAdhesion.id))
    annul = f"/gestione/accordi/{agreement_id}/adesioni/{first}/annulla"
    assert post(staff, annul, {"reason": "Errore"}, csrf_path=annul).status_code == 303
    post(staff, f"/gestione/accordi/{agreement_id}/sollecito", csrf_path=f"/gestione/accordi/{agreement_id}")
    statements = {}
    pages = {"detail": f"/gestione/accordi/{agreement_id}",
             "missing": f"/gestione/accordi/{agreement_id}?stato=mancante",
             "csv": f"/gestione/accordi/{agreement_id}/adesioni.csv",
             "xlsx": f"/gestione/accordi/{agreement_id}/adesioni.xlsx", "list": "/gestione/accordi"}
    for name, path in pages.items():
        with count_queries(app) as queries:
            assert staff.get(path).status_code == 200
        statements[name] = len(queries)
    return statements


def test_the_staff_list_of_who_adhered_takes_the_same_queries_for_3_and_30_entities(app, staff, client, crema):
    small = _board_queries(app, staff, client, 3)
    large = _board_queries(app, staff, client, 30)
    assert small == large, (small, large)
