"""Staff manage the venues of the call: list, create, edit; a venue's change reaches the entities."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus, Venue
from scheduler.calls.models import Comune
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Organization
from tests.factories import csrf_from, make_entity, make_meeting

PASSWORD = "password-di-prova-1"
NEW = "/gestione/calendario/sedi/nuova"


@pytest.fixture
def staff(client, auth, make_user, crema):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    return client


def page_text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def comune_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Comune.id).where(Comune.name == name))


def venue_form(**values) -> dict:
    data = {"name": "Sala Pietro da Cemmo", "address": "Piazza Duomo 25", "comune": "", "room": "Sala A",
            "accessibility_notes": "Ingresso senza gradini, ascensore.", "map_url": "https://www.openstreetmap.org/#map=19/45.36/9.68",
            "capacity": "40"}
    data.update(values)
    return data


def post(client, path: str, data: dict, **kwargs):
    data = dict(data)
    data["csrf_token"] = csrf_from(client, path)
    return client.post(path, data=data, **kwargs)


def only_venue(app) -> Venue:
    with app.app_context():
        venue = db.session.scalars(sa.select(Venue)).one()
        db.session.expunge(venue)
        return venue


def test_create_venue_and_see_it_listed(staff, app):
    crema_id = comune_id(app, "Crema")
    response = post(staff, NEW, venue_form(comune=str(crema_id)))
    assert response.status_code == 303
    venue = only_venue(app)
    assert (venue.name, venue.address, venue.room, venue.comune_id, venue.capacity) == (
        "Sala Pietro da Cemmo", "Piazza Duomo 25", "Sala A", crema_id, 40)
    html = page_text(staff.get(response.headers["Location"]))
    assert "Sede aggiunta: Sala Pietro da Cemmo, Sala A, Piazza Duomo 25, Crema." in html
    assert 'href="https://www.openstreetmap.org/#map=19/45.36/9.68"' in html
    assert "Ingresso senza gradini, ascensore." in html


def test_new_venue_offers_the_comuni_of_the_call(staff):
    html = page_text(staff.get(NEW))
    assert ">Crema</option>" in html and ">Vailate</option>" in html


@pytest.mark.parametrize("bad_url", ["javascript:alert(1)", "www.example.org senza schema", "ftp://example.org/x",
                                     "https://" + "a" * 600])
def test_bad_map_url_is_refused_and_the_rest_is_kept(staff, app, bad_url):
    response = post(staff, NEW, venue_form(map_url=bad_url, name="Oratorio San Luigi"))
    assert response.status_code == 400
    html = page_text(response)
    assert 'id="map_url-error"' in html
    assert 'value="Oratorio San Luigi"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Venue)) == 0


@pytest.mark.parametrize("values", [{"name": ""}, {"address": "  "}, {"capacity": "0"}, {"capacity": "tanti"},
                                    {"comune": "999999"}, {"name": "x" * 201}])
def test_other_bad_venue_input_is_a_400(staff, values):
    response = post(staff, NEW, venue_form(**values))
    assert response.status_code == 400
    assert "invalid-feedback d-block" in response.get_data(as_text=True)


def test_html_in_venue_fields_is_stored_as_text_and_shown_escaped(staff, app):
    response = post(staff, NEW, venue_form(name="<script>alert('x')</script>", accessibility_notes="<b>rampa</b>",
                                           room='"><img src=x>'))
    assert response.status_code == 303
    venue = only_venue(app)
    assert venue.name == "<script>alert('x')</script>" and venue.accessibility_notes == "<b>rampa</b>"
    html = staff.get("/gestione/calendario/sedi").get_data(as_text=True)
    assert "<script>alert(" not in html and "<b>rampa</b>" not in html and '"><img' not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;rampa&lt;/b&gt;" in html


def test_edit_venue(staff, app):
    post(staff, NEW, venue_form())
    venue = only_venue(app)
    path = f"/gestione/calendario/sedi/{venue.id}"
    html = page_text(staff.get(path))
    assert 'value="Sala Pietro da Cemmo"' in html and 'value="40"' in html
    response = post(staff, path, venue_form(room="", capacity="", map_url="", accessibility_notes=""))
    assert response.status_code == 303
    venue = only_venue(app)
    assert venue.room is None and venue.capacity is None and venue.map_url is None
    assert venue.accessibility_notes == ""
    assert post(staff, path, venue_form(map_url="mappa")).status_code == 400


def _meeting_at_venue_with_answers(app, venue_id: int, names: list[str], capacity_on_venue: bool = False) -> int:
    meeting_id = make_meeting(app, area="A")
    with app.app_context():
        db.session.get(Meeting, meeting_id).venue_id = venue_id
        db.session.commit()
    for name in names:
        entity = make_entity(app, name, areas=("A",))
        with app.app_context():
            services.answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                            db.session.get(User, entity["user"]), True, [{"name": "Anna", "role": ""}])
            db.session.commit()
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
    return meeting_id


def test_moving_a_venue_elsewhere_updates_the_invitations_of_its_meetings(staff, app):
    post(staff, NEW, venue_form(capacity=""))
    venue = only_venue(app)
    meeting_id = _meeting_at_venue_with_answers(app, venue.id, ["Ente Uno", "Ente Due"])
    response = post(staff, f"/gestione/calendario/sedi/{venue.id}", venue_form(address="Via Civerchi 9", capacity=""),
                    follow_redirects=True)
    assert "Sede aggiornata: 2 destinatari riceveranno l'invito aggiornato." in page_text(response)
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).sequence == 1
        messages = db.session.scalars(sa.select(OutboxMessage)).all()
        assert len(messages) == 2 and all("Via Civerchi 9" in m.ics for m in messages)
        assert {m.ics_method for m in messages} == {"REQUEST"}


def test_more_seats_in_the_room_promote_the_waiting_list(staff, app):
    post(staff, NEW, venue_form(capacity="1"))
    venue = only_venue(app)
    meeting_id = _meeting_at_venue_with_answers(app, venue.id, ["Primo", "Secondo"])
    with app.app_context():
        assert sorted(s.value for s in db.session.scalars(sa.select(Rsvp.status))) == ["waitlist", "yes"]
    response = post(staff, f"/gestione/calendario/sedi/{venue.id}", venue_form(capacity="5"), follow_redirects=True)
    html = page_text(response)
    assert "Sede aggiornata." in html and "1 ente passa dalla lista d'attesa" in html
    with app.app_context():
        assert set(db.session.scalars(sa.select(Rsvp.status))) == {RsvpStatus.YES}
        assert db.session.get(Meeting, meeting_id).sequence == 0


def test_the_meeting_form_offers_the_venues(staff, app):
    post(staff, NEW, venue_form())
    venue = only_venue(app)
    meeting_id = make_meeting(app, area="A")
    html = page_text(staff.get(f"/gestione/calendario/incontri/{meeting_id}"))
    assert f'<option value="{venue.id}">Sala Pietro da Cemmo, Sala A, Piazza Duomo 25</option>' in html
    assert '<option selected value="">Sede da definire</option>' in html
