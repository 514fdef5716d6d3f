"""The register page runs the same number of queries for 2 or 12 entities (no N+1 on a phone at the door)."""

from __future__ import annotations

from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.calendar.services import answer
from scheduler.extensions import db
from scheduler.registry.models import Organization
from tests.factories import csrf_from, make_entity, make_meeting
from tests.queries import count_queries


def _add_entities(app, meeting_id: int, count: int, start: int) -> None:
    for n in range(start, start + count):
        entity = make_entity(app, f"Ente numero {n:02d}")
        with app.app_context():
            meeting = db.session.get(Meeting, meeting_id)
            answer(meeting, db.session.get(Organization, entity["organization"]),
                   db.session.get(User, entity["user"]), True, [{"name": f"Persona {n}", "role": ""}])
            db.session.commit()


def test_the_register_runs_the_same_queries_for_2_or_12_entities(app, client, auth, crema, make_user):
    meeting_id = make_meeting(app, area="A", capacity=8)  # some entities wait in line
    make_user("staff@example.org", role=Role.STAFF)
    auth.login()
    token = csrf_from(client, "/")
    counts = []
    for start, added in ((0, 2), (2, 10)):
        _add_entities(app, meeting_id, added, start)
        # one person of each entity is present, plus a guest
        with app.app_context():
            rsvp_ids = [r.id for r in db.session.get(Meeting, meeting_id).rsvps]
        for rsvp_id in rsvp_ids:
            client.post(f"/presenze/{meeting_id}/segna", data={"kind": "rsvp", "rsvp_id": rsvp_id,
                                                               "person_name": "Ospite dell'ente"},
                        headers={"X-CSRFToken": token, "Accept": "application/json"})
        client.post(f"/presenze/{meeting_id}/segna", data={"kind": "guest", "person_name": f"Ospite {start}",
                                                           "guest_organization": "Comitato"},
                    headers={"X-CSRFToken": token, "Accept": "application/json"})
        assert client.get(f"/presenze/{meeting_id}").status_code == 200  # warm-up
        with count_queries(app) as statements:
            response = client.get(f"/presenze/{meeting_id}")
        assert response.status_code == 200
        counts.append(len(statements))
    assert "Ente numero 11" in response.get_data(as_text=True)
    assert counts[0] == counts[1], f"{counts[0]} queries with 2 entities, {counts[1]} with 12"
