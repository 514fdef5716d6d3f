"""From the register and the staff's meeting page, the printable sheets and the signed sheet are one tap away."""

from __future__ import annotations

from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.extensions import db
from tests.factories import make_meeting


def test_staff_see_every_document_link(client, app, crema, make_user, auth):
    meeting_id = make_meeting(app, area="A")
    make_user("staff@example.org")
    auth.login("staff@example.org")
    page = client.get(f"/presenze/{meeting_id}").get_data(as_text=True)
    assert f"/presenze/{meeting_id}/foglio-firme.pdf" in page
    assert f"/presenze/{meeting_id}/verbale.pdf" in page
    assert f"/gestione/presenze/{meeting_id}" in page
    edit = client.get(f"/gestione/calendario/incontri/{meeting_id}").get_data(as_text=True)
    assert f"/presenze/{meeting_id}" in edit and f"/gestione/presenze/{meeting_id}" in edit


def test_facilitator_gets_the_minutes_link_once_the_register_is_closed(client, app, crema, make_user, auth):
    meeting_id = make_meeting(app, area="A")
    user_id = make_user("facilitatore@example.org", role=Role.FACILITATOR)
    with app.app_context():
        track = db.session.get(Meeting, meeting_id).track
        track.facilitators.append(db.session.get(User, user_id))
        db.session.commit()
    auth.login("facilitatore@example.org")
    page = client.get(f"/presenze/{meeting_id}").get_data(as_text=True)
    assert f"/presenze/{meeting_id}/foglio-firme.pdf" in page
    assert f"/presenze/{meeting_id}/verbale.pdf" not in page
    assert f"/gestione/presenze/{meeting_id}" not in page
