"""Several calls side by side: each with its own pages and feeds, the current one at the short addresses; the
entities admitted to one invited to confirm for the next in one step."""

from __future__ import annotations

import re

import icalendar
import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role
from scheduler.calls.loader import load_call, parse_call_text
from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Application, ApplicationStatus, CallInvitation
from tests.conftest import CALL_FILE
from tests.factories import csrf_from, make_entity, sign_in_with_link

PASSWORD = "password-di-prova-1"
NEXT_SLUG = "crema-2028-2030"


def load_next_call(app) -> int:
    text = CALL_FILE.read_text(encoding="utf-8")
    text = text.replace('slug = "crema-2025-2027"', f'slug = "{NEXT_SLUG}"')
    text = text.replace('plan_title = "Piano di Zona 2025-2027"', 'plan_title = "Piano di Zona 2028-2030"')
    text = re.sub(r'^title = ".*"$', 'title = "Avviso per il Piano di Zona 2028-2030"', text, count=1, flags=re.M)
    with app.app_context():
        call, _ = load_call(parse_call_text(text))
        db.session.commit()
        return call.id


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"').replace("&#34;", '"')


@pytest.fixture
def staff(client, auth, make_user, crema):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    return client


def calendar_name(response) -> str:
    return str(icalendar.Calendar.from_ical(response.get_data())["X-WR-CALNAME"])


def test_a_second_call_has_its_own_pages_and_the_short_addresses_stay(app, client, crema):
    load_next_call(app)
    with app.app_context():
        assert db.session.scalars(sa.select(Call.slug).where(Call.is_current.is_(True))).all() == [crema]
    assert "Piano di Zona 2025-2027" in text_of(client.get("/elenco"))
    own = client.get(f"/avvisi/{NEXT_SLUG}/elenco")
    assert own.status_code == 200 and "Piano di Zona 2028-2030" in text_of(own)
    assert "Piano di Zona 2028-2030" in text_of(client.get(f"/avvisi/{NEXT_SLUG}/calendario"))
    assert "Piano di Zona 2028-2030" in text_of(client.get(f"/avvisi/{NEXT_SLUG}/candidatura"))
    # the feeds of each call
    short, own = client.get("/calendario/A.ics"), client.get(f"/avvisi/{NEXT_SLUG}/calendario/A.ics")
    assert short.status_code == own.status_code == 200
    assert "2025-2027" in calendar_name(short) and "2028-2030" in calendar_name(own)
    assert "2028-2030" in calendar_name(client.get(f"/avvisi/{NEXT_SLUG}/calendario.ics"))
    # links on a call's page stay within the call
    assert f'href="/avvisi/{NEXT_SLUG}/calendario' in text_of(client.get(f"/avvisi/{NEXT_SLUG}/calendario"))
    assert client.get("/avvisi/nessun-avviso/elenco").status_code == 404
    assert client.get("/avvisi/nessun-avviso/calendario.ics").status_code == 404
    assert client.get("/avvisi/%00/elenco").status_code == 404  # PostgreSQL refuses a NUL: never a 500


def test_staff_choose_the_current_call_and_archive_the_old_one(staff, app, crema):
    next_id = load_next_call(app)
    with app.app_context():
        old_id = db.session.scalar(sa.select(Call.id).where(Call.slug == crema))
    page = text_of(staff.get("/gestione/avvisi"))
    assert "Corrente" in page and "Rendi corrente" in page and "Piano di Zona 2028-2030" in page
    csrf = csrf_from(staff, "/gestione/avvisi")
    refused = staff.post(f"/gestione/avvisi/{old_id}/archivia", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "È l'avviso corrente" in text_of(refused)
    assert staff.post(f"/gestione/avvisi/{next_id}/corrente", data={"csrf_token": csrf}).status_code == 303
    assert "Piano di Zona 2028-2030" in text_of(staff.get("/elenco"))
    assert "Piano di Zona 2025-2027" in text_of(staff.get(f"/avvisi/{crema}/elenco"))
    assert "2028-2030" in calendar_name(staff.get("/calendario.ics"))
    assert staff.post(f"/gestione/avvisi/{old_id}/archivia", data={"csrf_token": csrf}).status_code == 303
    with app.app_context():
        rows = {c.slug: c for c in db.session.scalars(sa.select(Call))}
        assert rows[NEXT_SLUG].is_current and not rows[crema].is_current
        assert rows[crema].archived_at is not None
    home = text_of(staff.get("/"))
    assert "Piano di Zona 2028-2030" in home
    assert "Avvisi conclusi" in home and f"/avvisi/{crema}" in home


def test_admitted_entities_confirm_for_the_next_call_in_one_step(staff, app, client, crema):
    admitted = make_entity(app, "Cooperativa Continuità", areas=("A", "C"))
    make_entity(app, "Associazione Esclusa", areas=("B",), status=ApplicationStatus.REJECTED)
    next_id = load_next_call(app)
    with app.app_context():
        old_id = db.session.scalar(sa.select(Call.id).where(Call.slug == crema))
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
    response = staff.post(f"/gestione/avvisi/{next_id}/invita",
                          data={"csrf_token": csrf_from(staff, "/gestione/avvisi"), "from_call": str(old_id)})
    assert response.status_code == 303
    assert "1 ente invitato a confermare la partecipazione" in text_of(staff.get("/gestione/avvisi"))
    with app.app_context():
        messages = list(db.session.scalars(sa.select(OutboxMessage)))
        assert {m.topic for m in messages} == {"call-invitation"}
        assert all(f"/area-riservata/avvisi/{NEXT_SLUG}/conferma" in m.body_text for m in messages)
        assert "Associazione Esclusa" not in " ".join(m.body_text for m in messages)
    # pressing again invites nobody twice
    staff.post(f"/gestione/avvisi/{next_id}/invita",
               data={"csrf_token": csrf_from(staff, "/gestione/avvisi"), "from_call": str(old_id)})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CallInvitation)) == 1

    entity = client.application.test_client()
    sign_in_with_link(entity, app, admitted["user"])
    assert "Conferma la partecipazione" in text_of(entity.get("/area-riservata"))
    path = f"/area-riservata/avvisi/{NEXT_SLUG}/conferma"
    page = text_of(entity.get(path))
    assert "Minori e Famiglia" in page and "Adulti" in page
    confirmed = entity.post(path, data={"csrf_token": csrf_from(entity, path)})
    assert confirmed.status_code == 303
    with app.app_context():
        application = db.session.scalar(sa.select(Application).where(Application.call_id == next_id))
        assert application.organization_id == admitted["organization"]
        assert application.status is ApplicationStatus.SUBMITTED and application.protocol
        assert sorted(a.area.code for a in application.areas) == ["A", "C"]
        assert all(a.area.call_id == next_id for a in application.areas)
        invitation = db.session.scalar(sa.select(CallInvitation))
        assert invitation.application_id == application.id
        receipt = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.topic == "application-receipt"))
        assert application.protocol in receipt.subject
    # once confirmed, the page is gone; the old call's application is untouched
    assert entity.get(path).status_code == 404
    with app.app_context():
        old = db.session.scalar(sa.select(Application).where(Application.call_id == old_id,
                                                             Application.organization_id == admitted["organization"]))
        assert old.status is ApplicationStatus.ADMITTED


def test_another_entity_cannot_confirm_an_invitation_it_did_not_get(staff, app, client, crema):
    make_entity(app, "Cooperativa Invitata", areas=("A",))
    next_id = load_next_call(app)
    with app.app_context():
        old_id = db.session.scalar(sa.select(Call.id).where(Call.slug == crema))
    staff.post(f"/gestione/avvisi/{next_id}/invita",
               data={"csrf_token": csrf_from(staff, "/gestione/avvisi"), "from_call": str(old_id)})
    stranger = make_entity(app, "Ente Estraneo", areas=("A",))  # applied to the new call only: not invited
    other = client.application.test_client()
    sign_in_with_link(other, app, stranger["user"])
    path = f"/area-riservata/avvisi/{NEXT_SLUG}/conferma"
    assert other.get(path).status_code == 404
    assert other.post(path, data={"csrf_token": csrf_from(other, "/area-riservata")}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(CallInvitation.application_id)) is None
