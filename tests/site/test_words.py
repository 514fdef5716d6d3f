"""Words a user reads: Italian labels, never internal codes."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry import services as registry
from scheduler.registry.models import Application, ApplicationStatus
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link

PASSWORD = "password-di-prova-1"


def test_the_outbox_names_each_kind_of_message_in_italian(app, client, auth, make_user, crema):
    entity = make_entity(app, "Associazione Parole")
    client.post("/accedi/link", data={"csrf_token": csrf_from(client, "/accedi"), "email": entity["email"]})
    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    auth.login("staff@example.org", PASSWORD)
    outbox = client.get("/gestione/posta").get_data(as_text=True)
    assert "Collegamento per accedere" in outbox and "login-link" not in outbox
    with app.app_context():
        message_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "login-link"))
    page = client.get(f"/gestione/posta/{message_id}").get_data(as_text=True)
    assert "Collegamento per accedere" in page and "login-link" not in page and "Processo" not in page


def test_mails_to_named_people_greet_them_by_name(app, make_user, crema):
    entity = make_entity(app, "Associazione Saluti", status=ApplicationStatus.SUBMITTED)
    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    with app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        registry.admit(db.session.get(Application, entity["application"]), staff)
        db.session.commit()
        bodies = {m.to_address: m.body_text for m in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.topic == "application-admitted"))}
    assert bodies and all("Gentile referente" not in body for body in bodies.values())
    assert any(body.startswith("Gentile Referente ") for body in bodies.values())  # the contact, by name
    assert any(body.startswith("Gentile Legale Rappresentante ") for body in bodies.values())


def test_the_english_reserved_area_explains_erasure_in_english(app, client, crema):
    entity = make_entity(app, "Associazione Inglese")
    sign_in_with_link(client, app, entity["user"])
    client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": csrf_from(client, "/")})
    page = client.get("/area-riservata").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "The people&#39;s data are erased" in page or "The people's data are erased" in page
    assert "Si conservano la denominazione" not in page


def test_the_english_composer_dates_meetings_in_english(app, client, auth, make_user, crema):
    make_meeting(app, area="A", days_ahead=9)
    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    auth.login("staff@example.org", PASSWORD)
    client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": csrf_from(client, "/")})
    page = client.get("/gestione/comunicazioni/nuova").get_data(as_text=True)
    italian_days = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
    assert not any(day in page for day in italian_days)
    assert any(day in page for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))


def test_the_participation_report_speaks_italian(app, client, auth, make_user, crema):
    make_meeting(app, area="A", days_ahead=-2)
    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    auth.login("staff@example.org", PASSWORD)
    page = client.get("/gestione/partecipazione")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Presenti senza adesione" in text and "Walk-in" not in text and "walk-in" not in text
    csv = client.get("/gestione/partecipazione/incontri.csv").get_data(as_text=True)
    assert "walk-in" not in csv.lower()
