"""The meeting's page and its record: agenda, documents, the online room, the published minutes."""

from __future__ import annotations

import io

import icalendar
import pytest
import sqlalchemy as sa
import vobject

from scheduler.attendance.services import check_in, close_register, set_notes
from scheduler.auth.models import Role, User
from scheduler.calendar import services
from scheduler.calendar.models import Meeting, MeetingDocument, MeetingMode
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Organization
from scheduler.timeutil import ROME
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link

PASSWORD = "password-di-prova-1"
ROOM = "https://meet.example.org/tavolo-minori-42"
PDF = b"%PDF-1.4\n% materiali del tavolo\n"


@pytest.fixture
def staff(client, auth, make_user, crema):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    return client


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def edit(staff, meeting_id: int, **fields):
    path = f"/gestione/calendario/incontri/{meeting_id}"
    with staff.application.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        starts, ends = meeting.starts_at.astimezone(ROME), meeting.ends_at.astimezone(ROME)
    data = {"csrf_token": csrf_from(staff, path), "day": starts.date().isoformat(),
            "start": f"{starts:%H:%M}", "end": f"{ends:%H:%M}", "venue": "", **fields}
    return staff.post(path, data=data)


def answer(app, meeting_id: int, name: str) -> dict:
    entity = make_entity(app, name, areas=("A",))
    with app.app_context():
        services.answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                        db.session.get(User, entity["user"]), True, [{"name": f"Referente di {name}", "role": ""}])
        db.session.commit()
    return entity


def messages_to(app, email: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == email)
                                       .order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def test_the_agenda_is_markdown_without_raw_html(staff, app, client):
    meeting_id = make_meeting(app, area="A")
    assert edit(staff, meeting_id, agenda="1. Saluti\n2. **Bisogni** del territorio\n<script>alert(1)</script>"
                ).status_code == 303
    page = client.application.test_client().get(f"/incontri/{meeting_id}").get_data(as_text=True)
    assert "<h2 class=\"h4\" id=\"agenda-title\">Ordine del giorno</h2>" in page
    assert "<strong>Bisogni</strong>" in page and "<li>Saluti</li>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_online_room_reaches_confirmed_entities_only(staff, app):
    meeting_id = make_meeting(app, area="A", capacity=1)
    confirmed = answer(app, meeting_id, "Ente Confermato")
    waiting = answer(app, meeting_id, "Ente In Attesa")
    refused = edit(staff, meeting_id, mode="hybrid", online_url="", capacity="1")
    assert refused.status_code == 400 and "Indica il collegamento per partecipare online." in text_of(refused)
    assert edit(staff, meeting_id, mode="hybrid", online_url=ROOM, capacity="1").status_code == 303

    (update,) = messages_to(app, confirmed["email"])[-1:]
    assert ROOM in update.body_text and ROOM in update.body_html
    event = next(iter(icalendar.Calendar.from_ical(update.ics).walk("VEVENT")))
    assert event.errors == []
    assert str(event["CONFERENCE"]) == ROOM and event["CONFERENCE"].params["FEATURE"] == "VIDEO"
    assert str(event["URL"]) == ROOM
    card = vobject.readOne(update.ics)
    assert card.vevent.conference.value == ROOM and card.vevent.url.value == ROOM
    # the waiting list is told, without the room
    (told,) = messages_to(app, waiting["email"])[-1:]
    assert ROOM not in told.body_text and ROOM not in told.ics and "posto confermato" in told.body_text
    # public feeds and the public page never show it
    visitor = app.test_client()
    for path in ("/calendario.ics", "/calendario/A.ics", f"/incontri/{meeting_id}.ics", f"/incontri/{meeting_id}"):
        body = visitor.get(path).get_data(as_text=True)
        assert ROOM not in body, path
    assert "il collegamento è per gli enti con il posto confermato" in text_of(visitor.get(f"/incontri/{meeting_id}"))
    seat = app.test_client()
    sign_in_with_link(seat, app, confirmed["user"])
    assert ROOM in seat.get(f"/incontri/{meeting_id}").get_data(as_text=True)


def test_documents_public_and_reserved(staff, app):
    meeting_id = make_meeting(app, area="A")
    path = f"/gestione/calendario/incontri/{meeting_id}/documenti"
    csrf = csrf_from(staff, f"/gestione/calendario/incontri/{meeting_id}")
    for title, visibility in (("Presentazione del tavolo", "public"), ("Bozza delle schede", "admitted")):
        response = staff.post(path, data={"csrf_token": csrf, "title": title, "visibility": visibility,
                                          "document": (io.BytesIO(PDF), "materiali.pdf")},
                              content_type="multipart/form-data")
        assert response.status_code == 303
    fake = staff.post(path, data={"csrf_token": csrf, "title": "Falso PDF", "visibility": "public",
                                  "document": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "falso.pdf")},
                      content_type="multipart/form-data")
    assert fake.status_code == 400
    page = text_of(fake)
    assert "Il file non è un PDF, un PNG o un JPEG" in page and 'value="Falso PDF"' in page
    with app.app_context():
        rows = {d.title: d.id for d in db.session.scalars(sa.select(MeetingDocument))}
    assert set(rows) == {"Presentazione del tavolo", "Bozza delle schede"}

    visitor = app.test_client()
    page = text_of(visitor.get(f"/incontri/{meeting_id}"))
    assert "Presentazione del tavolo" in page and "Bozza delle schede" not in page
    public = visitor.get(f"/incontri/{meeting_id}/documenti/{rows['Presentazione del tavolo']}")
    assert public.status_code == 200 and public.data == PDF
    assert public.headers["Content-Disposition"].startswith("attachment;")
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert visitor.get(f"/incontri/{meeting_id}/documenti/{rows['Bozza delle schede']}").status_code == 404

    entity = make_entity(app, "Ente Ammesso", areas=("B",))
    admitted = app.test_client()
    sign_in_with_link(admitted, app, entity["user"])
    assert "Bozza delle schede" in text_of(admitted.get(f"/incontri/{meeting_id}"))
    reserved = admitted.get(f"/incontri/{meeting_id}/documenti/{rows['Bozza delle schede']}")
    assert reserved.status_code == 200 and "no-store" in reserved.headers["Cache-Control"]
    # a document id of another meeting is not found through this one
    other_id = make_meeting(app, area="B")
    assert visitor.get(f"/incontri/{other_id}/documenti/{rows['Presentazione del tavolo']}").status_code == 404


def test_minutes_are_published_after_the_register_closes(staff, app):
    meeting_id = make_meeting(app, area="A", days_ahead=-1)
    entity = answer_past(app, meeting_id)
    path = f"/gestione/presenze/{meeting_id}/verbale-pubblico"
    csrf = csrf_from(staff, f"/gestione/presenze/{meeting_id}")
    early = staff.post(path, data={"csrf_token": csrf, "minutes": "Verbale."})
    assert early.status_code == 409 and "Il registro presenze non è ancora chiuso" in text_of(early)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        staff_user = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        set_notes(meeting, staff_user, "Si è discusso dei centri estivi.")
        close_register(meeting, staff_user)
        db.session.commit()
    page = text_of(staff.get(f"/gestione/presenze/{meeting_id}"))
    assert f"Enti presenti: {entity}." in page and "Persone presenti: 1." in page
    assert "Mario Bianchi" not in page.split("verbale-pubblico")[1].split("</form>")[0]
    response = staff.post(path, data={"csrf_token": csrf, "minutes": "Enti presenti: " + entity +
                                      ".\n\nSi è discusso dei **centri estivi**."})
    assert response.status_code == 303
    public = text_of(app.test_client().get(f"/incontri/{meeting_id}"))
    assert "Verbale dell'incontro" in public and "<strong>centri estivi</strong>" in public
    staff.post(path, data={"csrf_token": csrf, "minutes": "x", "azione": "ritira"})
    assert "Verbale dell'incontro" not in text_of(app.test_client().get(f"/incontri/{meeting_id}"))


def answer_past(app, meeting_id: int) -> str:
    entity = make_entity(app, "Cooperativa Presente", areas=("A",))
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        staff_user = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        check_in(meeting, staff_user, organization=db.session.get(Organization, entity["organization"]),
                 person_name="Mario Bianchi")
        db.session.commit()
    return "Cooperativa Presente"


def test_a_visitor_is_asked_to_sign_in_to_answer(app, crema):
    meeting_id = make_meeting(app, area="A")
    page = text_of(app.test_client().get(f"/incontri/{meeting_id}"))
    assert "Accedi per rispondere" in page and f"next=/incontri/{meeting_id}/adesione" in page.replace("%2F", "/")


def test_an_online_meeting_has_no_venue_to_wait_for(staff, app):
    meeting_id = make_meeting(app, area="A", days_ahead=3)
    assert edit(staff, meeting_id, mode="online", online_url=ROOM).status_code == 303
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).mode is MeetingMode.ONLINE
    feed = app.test_client().get(f"/incontri/{meeting_id}.ics").get_data()
    event = next(iter(icalendar.Calendar.from_ical(feed).walk("VEVENT")))
    assert str(event["LOCATION"]) == "Online" and "CONFERENCE" not in event
