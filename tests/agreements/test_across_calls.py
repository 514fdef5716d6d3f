"""An entity's Accordo does not depend on which call is current: once staff make another call current, the
entity still finds the Accordo of the earlier call in its reserved area, opens it, downloads its text and
adheres; an entity not asked still finds nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from scheduler.agreements.models import AgreementAdhesion
from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationStatus
from scheduler.timeutil import utcnow
from tests.agreements.conftest import PDF, adhere, counts, create, open_agreement, post, sign_in
from tests.calls.test_successive_calls import NEXT_SLUG, load_next_call, text_of
from tests.factories import csrf_from

OLD_TITLE = "Accordo di Programma per il Piano di Zona 2025-2027"
NEW_TITLE = "Accordo di Programma per il Piano di Zona 2028-2030"


def make_current(staff, call_id: int) -> None:
    response = staff.post(f"/gestione/avvisi/{call_id}/corrente",
                          data={"csrf_token": csrf_from(staff, "/gestione/avvisi")})
    assert response.status_code == 303


@pytest.fixture
def earlier(app, staff, cast):
    """An open Accordo of the Crema call asked of A and B; then staff load the next call and make it current."""
    agreement_id = create(staff, app, [cast["a"], cast["b"]], title=OLD_TITLE)
    open_agreement(staff, agreement_id)
    next_id = load_next_call(app)
    make_current(staff, next_id)
    with app.app_context():
        assert db.session.scalar(sa.select(Call.slug).where(Call.is_current.is_(True))) == NEXT_SLUG
    return {"agreement": agreement_id, "next_call": next_id}


def test_the_entity_still_sees_the_earlier_calls_accordo_in_its_reserved_area(app, client, cast, earlier):
    sign_in(client, app, cast["a"])
    area = text_of(client.get("/area-riservata"))
    assert 'id="agreements-box"' in area and "Leggi e aderisci" in area
    assert OLD_TITLE in area and f'href="/area-riservata/accordi/{earlier["agreement"]}"' in area


def test_the_entity_opens_and_adheres_to_the_earlier_calls_accordo(app, client, cast, earlier):
    agreement_id = earlier["agreement"]
    sign_in(client, app, cast["a"])
    response = client.get(f"/area-riservata/accordi/{agreement_id}")
    assert response.status_code == 200
    page = text_of(response)
    assert OLD_TITLE in page and "Alfa APS" in page and "Aderisci all'Accordo</button>" in page
    assert "Piano di Zona 2025-2027" in page  # the page names the Accordo's own call
    document = client.get(f"/area-riservata/accordi/{agreement_id}/documento")
    assert document.status_code == 200 and document.data == PDF

    response = adhere(client, agreement_id)
    assert response.status_code == 303
    assert "L'ente ha aderito" in text_of(client.get(response.headers["Location"]))
    with app.app_context():
        [adhesion] = db.session.scalars(sa.select(AgreementAdhesion)).all()
        assert adhesion.user_id == cast["a"]["user"] and adhesion.annulled_at is None
    assert "Adesione registrata il" in text_of(client.get("/area-riservata"))


def test_an_entity_not_asked_still_finds_nothing(app, client, cast, earlier):
    agreement_id = earlier["agreement"]
    sign_in(client, app, cast["c"])
    before = counts(app)
    assert client.get(f"/area-riservata/accordi/{agreement_id}").status_code == 404
    assert client.get(f"/area-riservata/accordi/{agreement_id}/documento").status_code == 404
    response = post(client, f"/area-riservata/accordi/{agreement_id}",
                    {"signatory_name": "Chi", "signatory_role": "Presidente", "declaration": "y"})
    assert response.status_code == 404
    assert counts(app) == before
    assert 'id="agreements-box"' not in text_of(client.get("/area-riservata"))


def test_the_reserved_area_lists_the_accordi_of_every_call_each_with_its_call(app, staff, client, cast, earlier):
    # A is admitted to the next call too, and asked to adhere to its Accordo
    with app.app_context():
        db.session.add(Application(call_id=earlier["next_call"], organization_id=cast["a"]["organization"],
                                   status=ApplicationStatus.ADMITTED, wants_implementation=True,
                                   protocol="MI-2028-0001", submitted_at=utcnow(), reviewed_at=utcnow()))
        db.session.commit()
    new_id = create(staff, app, [cast["a"]], title=NEW_TITLE)
    open_agreement(staff, new_id)

    sign_in(client, app, cast["a"])
    area = text_of(client.get("/area-riservata"))
    box = area[area.index('id="agreements-box"'):area.index("</section>", area.index('id="agreements-box"'))]
    assert box.count("Leggi e aderisci") == 2
    for agreement_id, title, plan in ((earlier["agreement"], OLD_TITLE, "Piano di Zona 2025-2027"),
                                      (new_id, NEW_TITLE, "Piano di Zona 2028-2030")):
        assert f'href="/area-riservata/accordi/{agreement_id}"' in box
        assert re.search(rf"<strong>{re.escape(title)}</strong> <span[^>]*>\({re.escape(plan)}\)</span>", box)
        assert client.get(f"/area-riservata/accordi/{agreement_id}").status_code == 200
