"""Amendments that keep the admission: an admitted entity adds an area (it waits for staff while what was admitted
stays: public list, answers), removes one (its answers to that area's meetings to come are withdrawn, with the
CANCEL), cannot remove the last; staff accept or refuse only the change, and the entity is told."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from icalendar import Calendar

from scheduler.auth.models import User
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calendar.services import answer
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Application, ApplicationStatus, Organization
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link, text_of
from tests.registry.test_application_form import form_data

EDIT = "/area-riservata/modifica"


def edit_areas(client, app, ids: dict, areas: list[str], **extra):
    data = form_data(app, name="Ente Che Cambia", areas=areas, contact_email=ids["email"], privacy=None,
                     truthful=None, **{f"competence_{code}": f"Competenze in {code}." for code in areas}, **extra)
    data["csrf_token"] = csrf_from(client, EDIT)
    return client.post(EDIT, data=data, follow_redirects=True)


@dataclass
class Seen:
    status: ApplicationStatus
    codes: list[str]
    pending_scope: dict | None


def application_of(app, ids: dict) -> Seen:
    with app.app_context():
        application = db.session.get(Application, ids["application"])
        return Seen(application.status, sorted(a.area.code for a in application.areas), application.pending_scope)


def test_an_addition_waits_for_staff_and_the_admission_stays(client, app, staff, crema):
    ids = make_entity(app, "Ente Che Cambia", areas=("A",))
    meeting_a = make_meeting(app, area="A")
    entity = app.test_client()
    sign_in_with_link(entity, app, ids["user"])
    page = text_of(edit_areas(entity, app, ids, ["A", "D"]))
    assert "intanto l'ente resta ammesso per quelle di prima" in page
    application = application_of(app, ids)
    assert application.status is ApplicationStatus.ADMITTED and application.codes == ["A"]
    # still on the public list for A, still answering A's meetings
    assert "Ente Che Cambia" in text_of(entity.get("/elenco?area=A"))
    assert "Ente Che Cambia" not in text_of(entity.get("/elenco?area=D"))
    with app.app_context():
        rsvp = answer(db.session.get(Meeting, meeting_a), db.session.get(Organization, ids["organization"]),
                      db.session.get(User, ids["user"]), True, [{"name": "Anna", "role": ""}])
        db.session.commit()
        assert rsvp.status is RsvpStatus.YES
    # the form shows what was asked: saving again keeps the request
    assert 'value="D" checked' in text_of(entity.get(EDIT)).replace('checked value="D"', 'value="D" checked')

    # staff find it under "Da esaminare", with only the change to decide
    queue = text_of(staff.get("/gestione/candidature"))
    assert "Ente Che Cambia" in queue and "Modifica da esaminare" in queue
    detail = text_of(staff.get(f"/gestione/candidature/{ids['application']}"))
    assert "L'ente ammesso chiede di aggiungere" in detail and "D) Innovazione" in detail
    path = f"/gestione/candidature/{ids['application']}/modifica-aree"
    refused = staff.post(path, data={"csrf_token": csrf_from(staff, f"/gestione/candidature/{ids['application']}"),
                                     "action": "refuse"})
    assert refused.status_code == 400 and "Indica il motivo" in text_of(refused)
    accepted = staff.post(path, data={"csrf_token": csrf_from(staff, f"/gestione/candidature/{ids['application']}"),
                                      "action": "accept"})
    assert accepted.status_code == 303
    application = application_of(app, ids)
    assert application.codes == ["A", "D"] and application.pending_scope is None
    assert "Ente Che Cambia" in text_of(entity.get("/elenco?area=D"))
    with app.app_context():
        told = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.topic == "application-amendment")).all()
        assert told and "ha accolto la modifica" in told[0].body_text and "D) Innovazione" in told[0].body_text


def test_staff_refuse_an_addition_with_a_reason(client, app, staff, crema):
    ids = make_entity(app, "Ente Che Cambia", areas=("A",))
    entity = app.test_client()
    sign_in_with_link(entity, app, ids["user"])
    edit_areas(entity, app, ids, ["A", "B"])
    path = f"/gestione/candidature/{ids['application']}/modifica-aree"
    response = staff.post(path, data={"csrf_token": csrf_from(staff, f"/gestione/candidature/{ids['application']}"),
                                      "action": "refuse", "reason": "L'ente non opera nell'area B."})
    assert response.status_code == 303
    application = application_of(app, ids)
    assert application.codes == ["A"] and application.pending_scope is None
    assert application.status is ApplicationStatus.ADMITTED
    with app.app_context():
        told = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.topic == "application-amendment"))
        assert "non ha accolto" in told.body_text and "L'ente non opera nell'area B." in told.body_text
    history = text_of(staff.get(f"/gestione/candidature/{ids['application']}"))
    assert "Modifica chiesta dall'ente" in history and "Modifica non accolta" in history


def test_removing_an_area_withdraws_its_answers_with_a_cancel(client, app, crema):
    ids = make_entity(app, "Ente Che Cambia", areas=("A", "B"))
    meeting_a, meeting_b = make_meeting(app, area="A"), make_meeting(app, area="B", days_ahead=12)
    with app.app_context():
        for meeting_id in (meeting_a, meeting_b):
            answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, ids["organization"]),
                   db.session.get(User, ids["user"]), True, [{"name": "Anna", "role": ""}])
        db.session.commit()
    sign_in_with_link(client, app, ids["user"])
    page = text_of(edit_areas(client, app, ids, ["A"]))
    assert "le adesioni agli incontri che non le riguardano più sono state ritirate" in page
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Rsvp.meeting_id, Rsvp.status)).all())
        assert statuses == {meeting_a: RsvpStatus.YES, meeting_b: RsvpStatus.NO}
        cancel = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == "invite-withdrawn")
                                    .order_by(OutboxMessage.id)).all()[-1]
        assert cancel.ics_method == "CANCEL"
        event = Calendar.from_ical(cancel.ics).walk("VEVENT")[0]
        assert str(event["UID"]) == db.session.get(Meeting, meeting_b).uid
    assert application_of(app, ids).codes == ["A"]


def test_the_last_admitted_area_is_not_removed(client, app, crema):
    ids = make_entity(app, "Ente Che Cambia", areas=("A",))
    sign_in_with_link(client, app, ids["user"])
    response = edit_areas(client, app, ids, ["B"])
    assert response.status_code == 400
    assert "Resta almeno una delle aree per cui l'ente è ammesso" in text_of(response)
    application = application_of(app, ids)
    assert application.codes == ["A"] and application.pending_scope is None
