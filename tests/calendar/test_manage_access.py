"""Only the Ufficio di Piano's staff plan the calendar: every page and every action, GET and POST."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, MeetingStatus, Venue
from scheduler.calls.models import Call, Track
from scheduler.extensions import db
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link

PASSWORD = "password-di-prova-1"

PAGES = [
    "/gestione/calendario",
    "/gestione/calendario/percorsi/{track}/incontri/nuovo",
    "/gestione/calendario/incontri/{meeting}",
    "/gestione/calendario/sedi",
    "/gestione/calendario/sedi/nuova",
    "/gestione/calendario/sedi/{venue}",
    "/gestione/calendario/percorsi/{track}/facilitatori",
]
ACTIONS = [
    "/gestione/calendario/percorsi/{track}/incontri/nuovo",
    "/gestione/calendario/incontri/{meeting}",
    "/gestione/calendario/incontri/{meeting}/annulla",
    "/gestione/calendario/sedi/nuova",
    "/gestione/calendario/sedi/{venue}",
    "/gestione/calendario/percorsi/{track}/facilitatori",
]


@pytest.fixture
def ids(app, crema) -> dict:
    meeting_id = make_meeting(app, area="A", venue=True)
    with app.app_context():
        return {
            "meeting": meeting_id,
            "track": db.session.scalar(sa.select(Track.id).where(Track.key == "A-stesura")),
            "venue": db.session.scalar(sa.select(Venue.id)),
        }


def untouched(app, meeting_id: int) -> None:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.status is MeetingStatus.SCHEDULED and meeting.sequence == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 13
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Venue)) == 1


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, ids, path):
    response = client.get(path.format(**ids))
    assert response.status_code == 302
    assert "/accedi" in response.headers["Location"]


@pytest.mark.parametrize("path", ACTIONS)
def test_anonymous_posts_change_nothing(client, app, ids, path):
    response = client.post(path.format(**ids), data={"csrf_token": csrf_from(client, "/"), "name": "X",
                                                     "address": "Y", "day": "2099-01-01", "start": "09:00",
                                                     "end": "10:00"})
    assert response.status_code == 302 and "/accedi" in response.headers["Location"]
    untouched(app, ids["meeting"])


def _as_entity(client, app):
    entity = make_entity(app, areas=("A",))
    sign_in_with_link(client, app, entity["user"])


def _as_facilitator(client, app, make_user, auth, ids):
    user_id = make_user("facilitatore@example.org", role=Role.FACILITATOR)
    with app.app_context():
        from scheduler.auth.models import User

        track = db.session.get(Track, ids["track"])
        track.facilitators.append(db.session.get(User, user_id))
        db.session.commit()
    auth.login("facilitatore@example.org", PASSWORD)


@pytest.mark.parametrize("who", ["entity", "facilitator"])
def test_entities_and_facilitators_are_forbidden(client, app, auth, make_user, ids, who):
    if who == "entity":
        _as_entity(client, app)
    else:
        _as_facilitator(client, app, make_user, auth, ids)
    for path in PAGES:
        assert client.get(path.format(**ids)).status_code == 403, path
    csrf = csrf_from(client, "/")
    for path in ACTIONS:
        response = client.post(path.format(**ids), data={
            "csrf_token": csrf, "name": "X", "address": "Y", "day": "2099-01-01", "start": "09:00", "end": "10:00",
            "azione": "crea", "email": "nuovo@example.org", "full_name": "Nuovo",
        })
        assert response.status_code == 403, path
    untouched(app, ids["meeting"])


@pytest.mark.parametrize("path", ACTIONS)
def test_posts_without_csrf_are_refused(client, app, auth, make_user, ids, path):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    response = client.post(path.format(**ids), data={"name": "X", "address": "Y", "day": "2099-01-01",
                                                     "start": "09:00", "end": "10:00"})
    assert response.status_code == 400
    untouched(app, ids["meeting"])


def test_without_a_call_the_planning_page_is_404(client, app, make_user, auth):
    make_user("staff@example.org", role=Role.STAFF)
    auth.login("staff@example.org", PASSWORD)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Call)) == 0
    assert client.get("/gestione/calendario").status_code == 404
