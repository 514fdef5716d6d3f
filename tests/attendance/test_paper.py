"""A meeting registered only on paper: staff type in who signed the sheet."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from scheduler.attendance import paper
from scheduler.attendance.models import Attendance, AttendanceMethod, RegisterEvent
from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, MeetingStatus
from scheduler.extensions import db
from scheduler.registry.models import ApplicationStatus
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link

PASSWORD = "password-di-prova-1"


@pytest.fixture
def setup(app, crema, make_user):
    """A past meeting of area A; two entities admitted to A, one to B, one of A not admitted; staff and users."""
    meeting_id = make_meeting(app, area="A", days_ahead=-3, venue=True)
    one = make_entity(app, "Cooperativa Sociale Il Girasole", areas=("A",))
    two = make_entity(app, "Associazione Genitori Attivi", areas=("A", "B"))
    other_area = make_entity(app, "Associazione Area B", areas=("B",))
    pending = make_entity(app, "Associazione In Attesa", areas=("A",), status=ApplicationStatus.SUBMITTED)
    staff = make_user("staff@example.org", role=Role.STAFF)
    make_user("fac@example.org", role=Role.FACILITATOR)
    return {"meeting": meeting_id, "one": one, "two": two, "other_area": other_area, "pending": pending,
            "staff": staff}


def rows(meeting_id: int) -> list[Attendance]:
    return list(db.session.scalars(sa.select(Attendance).where(Attendance.meeting_id == meeting_id)
                                   .order_by(Attendance.id)))


def test_the_form_lists_the_admitted_entities_of_the_area_only(client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    page = client.get(f"/gestione/presenze/{setup['meeting']}/cartaceo")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Cooperativa Sociale Il Girasole" in html and "Associazione Genitori Attivi" in html
    assert "Associazione Area B" not in html and "Associazione In Attesa" not in html
    assert f'name="ente-{setup["one"]["organization"]}"' in html
    assert f'name="persone-{setup["one"]["organization"]}"' in html


def test_staff_record_a_paper_meeting_with_people_per_entity(app, client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    meeting_id, one, two = setup["meeting"], setup["one"]["organization"], setup["two"]["organization"]
    path = f"/gestione/presenze/{meeting_id}/cartaceo"
    response = client.post(path, data={
        "csrf_token": csrf_from(client, path),
        f"ente-{one}": "1", f"persone-{one}": "Maria Rossi, Presidente\n\n  Luca   Verdi  \n",
        f"ente-{two}": "1", f"persone-{two}": "Giulia Bianchi",
        f"persone-{setup['other_area']['organization']}": "Non Spuntato",
    })
    assert response.status_code == 303
    assert "Registro cartaceo inserito: 3 presenze." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    with app.app_context():
        recorded = rows(meeting_id)
        assert [(r.organization_id, r.person_name, r.person_role) for r in recorded] == [
            (two, "Giulia Bianchi", ""), (one, "Maria Rossi", "Presidente"), (one, "Luca Verdi", "")]
        assert {r.method for r in recorded} == {AttendanceMethod.PAPER}
        assert {r.recorded_by_id for r in recorded} == {setup["staff"]}
        event = db.session.scalar(sa.select(RegisterEvent).where(RegisterEvent.action == "paper_recorded"))
        assert event.actor_id == setup["staff"]
        assert "Maria Rossi" in event.detail and "Associazione Genitori Attivi" in event.detail


def test_the_minutes_list_the_paper_register(client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    one = setup["one"]["organization"]
    path = f"/gestione/presenze/{setup['meeting']}/cartaceo"
    client.post(path, data={"csrf_token": csrf_from(client, path), f"ente-{one}": "1",
                            f"persone-{one}": "Maria Rossi, Presidente"})
    pdf = client.get(f"/presenze/{setup['meeting']}/verbale.pdf").data
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Cooperativa Sociale Il Girasole" in text and "Maria Rossi (Presidente)" in text


def test_a_ticked_entity_without_names_is_refused_and_what_was_typed_is_kept(app, client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    one, two = setup["one"]["organization"], setup["two"]["organization"]
    path = f"/gestione/presenze/{setup['meeting']}/cartaceo"
    response = client.post(path, data={"csrf_token": csrf_from(client, path), f"ente-{one}": "1",
                                       f"persone-{one}": "Maria Rossi", f"ente-{two}": "1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Scrivi almeno un nome per Associazione Genitori Attivi." in html
    assert "Maria Rossi</textarea>" in html
    assert f'id="ente-{one}" name="ente-{one}" value="1" checked' in html
    with app.app_context():
        assert rows(setup["meeting"]) == []


@pytest.mark.parametrize("which", ["other_area", "pending"])
def test_entities_not_admitted_to_the_area_are_refused(app, client, auth, setup, which):
    auth.login("staff@example.org", PASSWORD)
    org = setup[which]["organization"]
    path = f"/gestione/presenze/{setup['meeting']}/cartaceo"
    response = client.post(path, data={"csrf_token": csrf_from(client, path), f"ente-{org}": "1",
                                       f"persone-{org}": "Intruso"})
    assert response.status_code == 400
    assert "non è ammesso all" in response.get_data(as_text=True)
    with app.app_context():
        assert rows(setup["meeting"]) == []


def test_nothing_ticked_is_refused(client, auth, setup):
    auth.login("staff@example.org", PASSWORD)
    path = f"/gestione/presenze/{setup['meeting']}/cartaceo"
    response = client.post(path, data={"csrf_token": csrf_from(client, path)})
    assert response.status_code == 400
    assert "Seleziona almeno un ente presente." in response.get_data(as_text=True)


def test_people_already_present_are_not_repeated(app, setup):
    one = setup["one"]["organization"]
    with app.app_context():
        meeting = db.session.get(Meeting, setup["meeting"])
        db.session.add(Attendance(meeting=meeting, organization_id=one, person_name="Maria Rossi",
                                  method=AttendanceMethod.QR))
        db.session.flush()
        new = paper.record_paper_meeting(
            meeting, {one: [paper.Person("maria rossi"), paper.Person("Luca Verdi")]}, setup["staff"])
        db.session.commit()
        assert [r.person_name for r in new] == ["Luca Verdi"]
        assert len(rows(meeting.id)) == 2


def test_future_and_cancelled_meetings_cannot_be_recorded_on_paper(app, setup):
    future_id = make_meeting(app, area="A", days_ahead=5)
    one = setup["one"]["organization"]
    with app.app_context():
        with pytest.raises(paper.PaperError, match="non è ancora iniziato"):
            paper.record_paper_meeting(db.session.get(Meeting, future_id), {one: [paper.Person("A")]}, None)
        meeting = db.session.get(Meeting, setup["meeting"])
        meeting.status = MeetingStatus.CANCELLED
        with pytest.raises(paper.PaperError, match="annullato"):
            paper.record_paper_meeting(meeting, {one: [paper.Person("A")]}, None)
        db.session.rollback()


def test_parse_people_reads_one_person_a_line():
    assert paper.parse_people(" Maria  Rossi , Presidente \n\nLuca Verdi\n , solo ruolo\n") == [
        paper.Person("Maria Rossi", "Presidente"), paper.Person("Luca Verdi")]


def test_only_staff_record_a_paper_meeting(app, client, auth, setup):
    path = f"/gestione/presenze/{setup['meeting']}/cartaceo"
    assert client.get(path).status_code == 302
    auth.login("fac@example.org", PASSWORD)
    assert client.get(path).status_code == 403
    auth.logout()
    sign_in_with_link(client, app, setup["one"]["user"])
    assert client.get(path).status_code == 403
