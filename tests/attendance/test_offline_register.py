"""What the register needs to work with no connection, as the server gives it: the service worker with every
asset it keeps (all served, or the phone would keep nothing), the manifest, the list's registers to keep, and the
meeting's codes in the register page (entity, people, withdrawn), with the policy that lets the QR decoder run."""

from __future__ import annotations

import json
import re
from html import unescape

import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, Rsvp
from scheduler.calendar.services import answer
from scheduler.extensions import db
from scheduler.registry.models import Organization
from tests.conftest import AuthActions
from tests.factories import make_entity, make_meeting

PASSWORD = "password-di-prova-1"


def test_the_service_worker_lists_assets_that_are_all_served(client):
    response = client.get("/presenze/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/presenze"
    body = response.get_data(as_text=True)
    assets = json.loads(re.search(r"var ASSETS = (\[.*?\]);", body).group(1))
    assert "/static/js/register.js" in assets and "/assets/vendor/zxing_reader.wasm" in assets
    for url in assets:
        assert client.get(url).status_code == 200, url
    assert client.get("/assets/vendor/zxing_reader.wasm").mimetype == "application/wasm"
    assert client.get("/assets/vendor/package.json").status_code == 404  # only the files named, never the folder
    offline_page = json.loads(re.search(r"var OFFLINE_PAGE = (.*?);\n", body).group(1))
    assert "Questa pagina non è stata scaricata" in offline_page  # shown for a register never kept


def test_the_manifest_opens_the_registers_like_an_app(client):
    data = json.loads(client.get("/presenze/manifest.webmanifest").get_data(as_text=True))
    assert (data["start_url"], data["scope"], data["display"]) == ("/presenze", "/presenze", "standalone")
    assert data["name"] == "Registro presenze – Tavoli"


def test_the_register_carries_the_meetings_codes_and_the_list_the_registers_to_keep(app, client, crema,
                                                                                    make_user):
    meeting_id = make_meeting(app, area="A", days_ahead=0.01)
    later_id = make_meeting(app, area="A", days_ahead=6)
    faro, ponte = make_entity(app, "Cooperativa Il Faro"), make_entity(app, "Associazione Il Ponte")
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR, password=PASSWORD)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.track.facilitators.append(db.session.get(User, facilitator))
        yes = answer(meeting, db.session.get(Organization, faro["organization"]), db.session.get(User, faro["user"]),
                     True, [{"name": "Sara Galli", "role": "", "email": "sara@example.org"}])
        gone = answer(meeting, db.session.get(Organization, ponte["organization"]),
                      db.session.get(User, ponte["user"]), True, [{"name": "Anna Riva", "role": ""}])
        db.session.commit()
        assert gone.checkin_code
        answer(meeting, db.session.get(Organization, ponte["organization"]), db.session.get(User, ponte["user"]),
               False, [])
        db.session.commit()
        yes = db.session.get(Rsvp, yes.id)
        sara = yes.passes[0]
        expected = {(yes.checkin_code, None, "yes"), (sara.checkin_code, "Sara Galli", "yes")}
    AuthActions(client).login("facilitatrice@example.org", PASSWORD)
    response = client.get(f"/presenze/{meeting_id}")
    assert "'wasm-unsafe-eval'" in response.headers["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" not in client.get("/presenze").headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    codes = json.loads(unescape(re.search(r'<script type="application/json" id="register-codes">(.*?)</script>',
                                          page, re.S).group(1)))
    got = {(c["code"], c["person"], c["status"]) for c in codes}
    assert expected <= got
    withdrawn = [c for c in codes if c["entity"] == "Associazione Il Ponte"]
    assert withdrawn and all(c["status"] == "no" for c in withdrawn)
    listing = client.get("/presenze").get_data(as_text=True)
    urls = json.loads(unescape(re.search(r"data-urls='([^']*)'", listing).group(1)))
    assert urls == [f"/presenze/{meeting_id}", f"/presenze/{later_id}"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rsvp)) == 2
