"""The facilitator's register: who may open it, check-in per person, walk-ins, undo, notes, closing, QR codes."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from scheduler.attendance.models import Attendance, AttendanceMethod, RegisterEvent
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, Rsvp
from scheduler.extensions import db
from scheduler.registry.models import Organization
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link

PASSWORD = "password-di-prova-1"


@pytest.fixture
def setup(app, crema, make_user):
    """A meeting of area A with a facilitator, two entities that said yes, one waiting, one admitted without RSVP."""
    from scheduler.calendar.services import answer

    meeting_id = make_meeting(app, area="A", venue=True, capacity=3)  # people: Il Faro brings two, Il Ponte one
    faro = make_entity(app, "Cooperativa Il Faro")
    ponte = make_entity(app, "Associazione Il Ponte")
    attesa = make_entity(app, "Fondazione In Attesa")
    libero = make_entity(app, "ODV Senza Risposta")
    altro_meeting = make_meeting(app, area="A", days_ahead=20)
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR)
    other_facilitator = make_user("altro@example.org", role=Role.FACILITATOR)
    staff = make_user("staff@example.org", role=Role.STAFF)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.track.facilitators.append(db.session.get(User, facilitator))
        rsvps = {}
        for key, entity, people in (
            ("faro", faro, [{"name": "Sara Galli", "role": "Coordinatrice"}, {"name": "Luca Neri", "role": ""}]),
            ("ponte", ponte, [{"name": "Anna Riva", "role": "Presidente"}]),
            ("attesa", attesa, [{"name": "Marco Bianchi", "role": ""}]),
        ):
            org = db.session.get(Organization, entity["organization"])
            rsvps[key] = answer(meeting, org, db.session.get(User, entity["user"]), True, people).id
        other = answer(db.session.get(Meeting, altro_meeting), db.session.get(Organization, faro["organization"]),
                       db.session.get(User, faro["user"]), True, [{"name": "Sara Galli", "role": ""}])
        db.session.commit()
        codes = {key: db.session.get(Rsvp, rid).checkin_code for key, rid in rsvps.items()}
        return {
            "meeting": meeting_id, "other_meeting": altro_meeting, "rsvps": rsvps, "codes": codes,
            "other_code": other.checkin_code, "faro": faro, "ponte": ponte, "attesa": attesa, "libero": libero,
            "facilitator": facilitator, "other_facilitator": other_facilitator, "staff": staff,
        }


def _attendances(app, meeting_id):
    with app.app_context():
        return list(db.session.scalars(
            sa.select(Attendance).where(Attendance.meeting_id == meeting_id).order_by(Attendance.id)))


def _events(app, meeting_id):
    with app.app_context():
        return [(e.action, e.actor_id) for e in db.session.scalars(
            sa.select(RegisterEvent).where(RegisterEvent.meeting_id == meeting_id).order_by(RegisterEvent.id))]


def _post(client, path, data, token, json=True):
    headers = {"Accept": "application/json", "X-CSRFToken": token} if json else {}
    if not json:
        data = {**data, "csrf_token": token}
    return client.post(path, data=data, headers=headers)


def test_the_register_lists_confirmed_and_waiting_entities_with_their_people(client, auth, setup):
    auth.login("facilitatrice@example.org", PASSWORD)
    page = client.get(f"/presenze/{setup['meeting']}")
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    for text in ("Cooperativa Il Faro", "Sara Galli", "Luca Neri", "Associazione Il Ponte", "Anna Riva",
                 "Lista d'attesa", "Fondazione In Attesa", "Marco Bianchi"):
        assert text in html
    # the admitted entity without an answer is offered as a walk-in
    assert re.search(r'<option value="\d+">ODV Senza Risposta</option>', html)
    assert "register.js" in html
    assert page.headers["Cache-Control"] == "no-store"


def test_check_in_per_person_records_method_time_and_recorder(app, client, auth, setup):
    auth.login("facilitatrice@example.org", PASSWORD)
    token = csrf_from(client, f"/presenze/{setup['meeting']}")
    response = _post(client, f"/presenze/{setup['meeting']}/segna", {
        "kind": "rsvp", "rsvp_id": setup["rsvps"]["faro"], "person_name": "Sara Galli",
        "person_role": "Coordinatrice", "method": "hand", "client_ref": "ref-1"}, token)
    assert response.status_code == 200
    assert response.get_json()["ok"] is True
    [row] = _attendances(app, setup["meeting"])
    assert (row.person_name, row.method, row.recorded_by_id) == ("Sara Galli", AttendanceMethod.HAND,
                                                                 setup["facilitator"])
    assert row.organization_id == setup["faro"]["organization"] and row.rsvp_id == setup["rsvps"]["faro"]
    assert row.checked_in_at is not None
    html = client.get(f"/presenze/{setup['meeting']}").get_data(as_text=True)
    assert 'aria-pressed="true"' in html
    assert ("checked_in", setup["facilitator"]) in _events(app, setup["meeting"])


def test_the_same_mark_sent_twice_is_stored_once(app, client, auth, setup):
    auth.login("facilitatrice@example.org", PASSWORD)
    token = csrf_from(client, f"/presenze/{setup['meeting']}")
    data = {"kind": "rsvp", "rsvp_id": setup["rsvps"]["ponte"], "person_name": "Anna Riva", "client_ref": "same"}
    first = _post(client, f"/presenze/{setup['meeting']}/segna", data, token).get_json()
    second = _post(client, f"/presenze/{setup['meeting']}/segna", data, token).get_json()
    assert first["attendances"][0]["id"] == second["attendances"][0]["id"]
    # another device marks the same person: still one row
    _post(client, f"/presenze/{setup['meeting']}/segna", {**data, "client_ref": "other-device"}, token)
    assert len(_attendances(app, setup["meeting"])) == 1


def test_another_person_of_an_entity_and_a_form_post_without_javascript(app, client, auth, setup):
    auth.login("facilitatrice@example.org", PASSWORD)
    token = csrf_from(client, f"/presenze/{setup['meeting']}")
    response = _post(client, f"/presenze/{setup['meeting']}/segna", {
        "kind": "rsvp", "rsvp_id": setup["rsvps"]["faro"], "person_name": "Giulia Nuova"}, token, json=False)
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Presente: Giulia Nuova." in html
    [row] = _attendances(app, setup["meeting"])
    assert row.rsvp_id == setup["rsvps"]["faro"] and row.method is AttendanceMethod.HAND


def test_walk_ins_of_the_three_kinds(app, client, auth, setup):
    auth.login("facilitatrice@example.org", PASSWORD)
    path = f"/presenze/{setup['meeting']}/segna"
    token = csrf_from(client, f"/presenze/{setup['meeting']}")
    assert _post(client, path, {"kind": "entity", "organization_id": setup["libero"]["organization"],
                                "person_name": "Paolo Verdi", "method": "walk_in"}, token).status_code == 200
    assert _post(client, path, {"kind": "guest", "person_name": "Elena Rossi", "guest_organization": "Comitato X",
                                "guest_email": "elena@example.org", "method": "walk_in"}, token).status_code == 200
    assert _post(client, path, {"kind": "individual", "person_name": "Mario Solo", "method": "walk_in"},
                 token).status_code == 200
    entity, guest, individual = _attendances(app, setup["meeting"])
    assert entity.organization_id == setup["libero"]["organization"] and entity.rsvp_id is None
    assert entity.method is AttendanceMethod.WALK_IN and not entity.needs_follow_up
    assert (guest.organization_id, guest.guest_organization, guest.guest_email) == (None, "Comitato X",
                                                                                      "elena@example.org")
    assert guest.needs_follow_up is True
    assert individual.organization_id is None and individual.guest_organization is None
    assert not individual.needs_follow_up
    html = client.get(f"/presenze/{setup['meeting']}").get_data(as_text=True)
    assert "da ricontattare" in html and "a titolo personale" in html
    # a guest needs an organisation; a bad e-mail is refused with a message
    refused = _post(client, path, {"kind": "guest", "person_name": "X", "guest_organization": "Y",
                                   "guest_email": "non-una-mail"}, token)
    assert refused.status_code == 400 and "e-mail" in refused.get_json()["error"]
    # as the application form: an address whose domain has no dot is not an address
    no_dot = _post(client, path, {"kind": "guest", "person_name": "X", "guest_organization": "Y",
                                  "guest_email": "x@caritascrema"}, token)
    assert no_dot.status_code == 400 and "e-mail" in no_dot.get_json()["error"]


def test_undo_and_notes(app, client, auth, setup):
    auth.login("facilitatrice@example.org", PASSWORD)
    token = csrf_from(client, f"/presenze/{setup['meeting']}")
    mark = _post(client, f"/presenze/{setup['meeting']}/segna", {
        "kind": "rsvp", "rsvp_id": setup["rsvps"]["faro"], "person_name": "Luca Neri", "client_ref": "u1"}, token)
    attendance_id = mark.get_json()["attendances"][0]["id"]
    assert _post(client, f"/presenze/{setup['meeting']}/annulla", {"attendance_id": attendance_id},
                 token).status_code == 200
    # undo by the device's reference works too and is idempotent
    assert _post(client, f"/presenze/{setup['meeting']}/annulla", {"client_ref": "u1"}, token).status_code == 200
    [row] = _attendances(app, setup["meeting"])
    assert row.undone_at is not None
    html = client.get(f"/presenze/{setup['meeting']}").get_data(as_text=True)
    assert 'aria-pressed="true"' not in html
    # marked again after the undo: a new row
    _post(client, f"/presenze/{setup['meeting']}/segna", {
        "kind": "rsvp", "rsvp_id": setup["rsvps"]["faro"], "person_name": "Luca Neri", "client_ref": "u2"}, token)
    assert len([a for a in _attendances(app, setup["meeting"]) if a.undone_at is None]) == 1

    assert _post(client, f"/presenze/{setup['meeting']}/note", {"notes": "Sala piena, iniziato alle 9:45."},
                 token).status_code == 200
    with app.app_context():
        assert db.session.get(Meeting, setup["meeting"]).register_notes == "Sala piena, iniziato alle 9:45."
    assert [a for a, _ in _events(app, setup["meeting"])] == ["checked_in", "undone", "checked_in", "notes"]


def test_after_closing_only_staff_change_the_register_and_every_change_is_logged(app, client, auth, setup):
    auth.login("facilitatrice@example.org", PASSWORD)
    base = f"/presenze/{setup['meeting']}"
    token = csrf_from(client, base)
    _post(client, base + "/segna", {"kind": "rsvp", "rsvp_id": setup["rsvps"]["faro"], "person_name": "Sara Galli"},
          token)
    closed = _post(client, base + "/chiudi", {}, token, json=False)
    assert closed.status_code == 303
    html = client.get(base).get_data(as_text=True)
    assert "Registro chiuso" in html and "Chiudi il registro" not in html
    refused = _post(client, base + "/segna", {"kind": "rsvp", "rsvp_id": setup["rsvps"]["ponte"],
                                              "person_name": "Anna Riva"}, token)
    assert refused.status_code == 409 and "solo l'Ufficio di Piano" in refused.get_json()["error"]
    [attendance] = _attendances(app, setup["meeting"])
    assert _post(client, base + "/annulla", {"attendance_id": attendance.id}, token).status_code == 409
    assert _post(client, base + "/note", {"notes": "tardi"}, token).status_code == 409
    assert _post(client, base + "/riapri", {}, token).status_code == 403
    auth.logout()

    auth.login("staff@example.org", PASSWORD)
    token = csrf_from(client, base)
    assert _post(client, base + "/segna", {"kind": "rsvp", "rsvp_id": setup["rsvps"]["ponte"],
                                           "person_name": "Anna Riva"}, token).status_code == 200
    assert _post(client, base + "/annulla", {"attendance_id": attendance.id}, token).status_code == 200
    events = _events(app, setup["meeting"])
    assert events[1] == ("closed", setup["facilitator"])
    assert events[2:] == [("checked_in", setup["staff"]), ("undone", setup["staff"])]
    assert _post(client, base + "/riapri", {}, token).status_code == 200
    assert _events(app, setup["meeting"])[-1] == ("reopened", setup["staff"])


REGISTER_GETS = ["/presenze/{m}", "/presenze"]
REGISTER_POSTS = ["/presenze/{m}/segna", "/presenze/{m}/annulla", "/presenze/{m}/note", "/presenze/{m}/chiudi",
                  "/presenze/{m}/riapri", "/presenze/{m}/codice", "/presenze/{m}/codice/{code}"]


@pytest.mark.parametrize("who", ["anonymous", "entity", "other_facilitator"])
def test_only_staff_and_the_tracks_facilitators_reach_the_register(app, client, auth, setup, who):
    if who == "entity":
        sign_in_with_link(client, app, setup["faro"]["user"])
    elif who == "other_facilitator":
        auth.login("altro@example.org", PASSWORD)
    token = csrf_from(client, "/")
    m, code = setup["meeting"], setup["codes"]["faro"]
    expected = {"anonymous": 302, "entity": 403, "other_facilitator": 403}[who]
    for path in REGISTER_GETS:
        status = client.get(path.format(m=m)).status_code
        if path == "/presenze" and who == "other_facilitator":
            assert status == 200  # their own (empty) list
        else:
            assert status == expected, path
    for path in REGISTER_POSTS:
        response = client.post(path.format(m=m, code=code), data={
            "csrf_token": token, "kind": "individual", "person_name": "Intruso", "attendance_id": 1, "code": code})
        assert response.status_code == expected, path
    assert _attendances(app, m) == []
    with app.app_context():
        assert db.session.get(Meeting, m).register_closed_at is None


def test_the_qr_url_highlights_the_entity_for_the_facilitator_and_one_tap_confirms(app, client, auth, setup):
    auth.login("facilitatrice@example.org", PASSWORD)
    url = f"/presenze/{setup['meeting']}/codice/{setup['codes']['faro']}"
    page = client.get(url)
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    assert 'id="qr-confirm"' in html and "Conferma presenza" in html
    assert f'id="rsvp-{setup["rsvps"]["faro"]}"' in html and "border-primary" in html
    token = csrf_from(client, url)
    response = client.post(url, data={"csrf_token": token, "person_name": ["Sara Galli", "Luca Neri", ""]})
    assert response.status_code == 303
    rows = _attendances(app, setup["meeting"])
    assert [(r.person_name, r.method) for r in rows] == [("Sara Galli", AttendanceMethod.QR),
                                                         ("Luca Neri", AttendanceMethod.QR)]
    # scanned twice: nobody is checked in twice
    client.post(url, data={"csrf_token": token, "person_name": ["Sara Galli"]})
    assert len(_attendances(app, setup["meeting"])) == 2


@pytest.mark.parametrize("who", ["anonymous", "entity", "other_facilitator"])
def test_anyone_else_opening_the_qr_url_sees_only_the_code(app, client, auth, setup, who):
    if who == "entity":
        sign_in_with_link(client, app, setup["faro"]["user"])
    elif who == "other_facilitator":
        auth.login("altro@example.org", PASSWORD)
    page = client.get(f"/presenze/{setup['meeting']}/codice/{setup['codes']['faro']}")
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    assert "Mostra questo codice al facilitatore" in html
    with app.app_context():
        short = db.session.get(Rsvp, setup["rsvps"]["faro"]).short_code
    assert short and short in html
    for name in ("Il Faro", "Il Ponte", "In Attesa", "Sara Galli", "Anna Riva", "Conferma presenza"):
        assert name not in html
    assert "<svg" in html  # the QR, to show again
    assert ("Accedi per registrare la presenza" in html) is (who == "anonymous")


def test_a_facilitator_not_signed_in_signs_in_from_the_qr_page_and_lands_on_the_entity(app, client, auth, setup):
    url = f"/presenze/{setup['meeting']}/codice/{setup['codes']['faro']}"
    assert "next=" in client.get(url).get_data(as_text=True)
    token = auth.csrf_token("/accedi?next=" + url)
    response = client.post("/accedi?next=" + url, data={"email": "facilitatrice@example.org",
                                                         "password": PASSWORD, "csrf_token": token, "next": url})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert 'id="qr-confirm"' in client.get(url).get_data(as_text=True)


def test_codes_of_another_meeting_withdrawn_or_waiting_are_refused(app, client, auth, setup):
    from scheduler.calendar.services import answer

    auth.login("facilitatrice@example.org", PASSWORD)
    base = f"/presenze/{setup['meeting']}/codice/"
    other = client.get(base + setup["other_code"])
    assert other.status_code == 409
    assert "Questo codice è di un altro incontro" in other.get_data(as_text=True)
    with app.app_context():  # a waiting entity has no seat, so no check-in code at all
        waiting = db.session.get(Rsvp, setup["rsvps"]["attesa"])
        assert waiting.checkin_code is None and waiting.short_code is None
    with app.app_context():
        answer(db.session.get(Meeting, setup["meeting"]), db.session.get(Organization, setup["ponte"]["organization"]),
               db.session.get(User, setup["ponte"]["user"]), False)
        db.session.commit()
    withdrawn = client.get(base + setup["codes"]["ponte"])
    assert withdrawn.status_code == 409
    assert "Questa adesione è stata ritirata" in withdrawn.get_data(as_text=True)
    token = csrf_from(client, f"/presenze/{setup['meeting']}")
    refused = client.post(base + setup["codes"]["ponte"], data={"csrf_token": token},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 409
    assert client.get(base + "NONESISTE").status_code == 404
    assert _attendances(app, setup["meeting"]) == []


def test_the_short_code_read_aloud_finds_the_entity_case_insensitively(app, client, auth, setup):
    from scheduler.calendar.services import SHORT_CODE_ALPHABET

    with app.app_context():  # made when the seat was confirmed, never on display
        short = db.session.get(Rsvp, setup["rsvps"]["ponte"]).short_code
        assert len(short) == 6 and set(short) <= set(SHORT_CODE_ALPHABET)
    auth.login("facilitatrice@example.org", PASSWORD)
    token = csrf_from(client, f"/presenze/{setup['meeting']}")
    response = client.post(f"/presenze/{setup['meeting']}/codice", data={"csrf_token": token,
                                                                        "code": short.lower()})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "Associazione Il Ponte" in page.get_data(as_text=True)
    assert 'id="qr-confirm"' in page.get_data(as_text=True)


def test_short_codes_are_unique_within_a_meeting(app, setup):
    with app.app_context():  # two confirmed seats, two codes; the waiting entity has none yet
        codes = {db.session.get(Rsvp, rid).short_code for rid in setup["rsvps"].values()}
        assert len(codes - {None}) == 2 and None in codes


def test_the_invite_carries_the_short_code_and_the_check_in_link(app, setup):
    from scheduler.mailing.models import OutboxMessage

    with app.app_context():
        rsvp = db.session.get(Rsvp, setup["rsvps"]["faro"])
        messages = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        text = next(m.body_text for m in messages if "Cooperativa Il Faro" in m.body_text
                    and rsvp.short_code in m.body_text)
        assert f"http://tavoli.test/presenze/{setup['meeting']}/codice/{rsvp.checkin_code}" in text
        html = next(m.body_html for m in messages if rsvp.short_code in m.body_text)
        assert rsvp.short_code in html and f"/codice/{rsvp.checkin_code}" in html
        waiting = next(m for m in messages if "Fondazione In Attesa" in m.body_text)
        assert "/codice/" not in waiting.body_text


def test_the_entity_area_shows_a_qr_code_and_the_short_code(app, client, setup):
    sign_in_with_link(client, app, setup["faro"]["user"])
    html = client.get("/area-riservata").get_data(as_text=True)
    assert "<svg" in html and 'class="checkin-pass' in html
    with app.app_context():
        short = db.session.get(Rsvp, setup["rsvps"]["faro"]).short_code
    assert short in html
