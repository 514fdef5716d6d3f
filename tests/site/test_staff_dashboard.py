"""The staff dashboard (/gestione): what needs the office's action, how many, the first few, and where to act."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, MeetingMode, MeetingStatus, Venue
from scheduler.calls.ambiti import default_ambito
from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.mailing.models import OutboxStatus
from scheduler.mailing.services import enqueue
from scheduler.registry.models import ApplicationStatus
from tests.factories import csrf_from, make_entity, sign_in_with_link
from tests.queries import count_queries

PASSWORD = "password-di-prova-1"

pytestmark = pytest.mark.usefixtures("crema")


def at(monkeypatch, *args: int) -> None:
    monkeypatch.setattr("scheduler.timeutil.clock", lambda: datetime(*args, tzinfo=UTC))


@pytest.fixture
def staff(auth, make_user):
    make_user("staff@example.org", role=Role.STAFF, password=PASSWORD)
    assert auth.login("staff@example.org", PASSWORD).status_code == 302


def main_text(response) -> str:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html[html.index("<main"):html.index("</main>")]


def section(html: str, anchor: str) -> str:
    """One section of the dashboard, by its id."""
    start = html.index(f'id="{anchor}"')
    end = html.find("</section>", start)
    return html[start:end]


def count_in(part: str) -> int:
    """The number the section's heading shows (in the badge and, for screen readers, as text)."""
    badge = int(re.search(r'<span class="badge bg-primary" aria-hidden="true">(\d+)</span>', part).group(1))
    spoken = int(re.search(r'<span class="visually-hidden">: (\d+)</span>', part).group(1))
    assert badge == spoken
    return badge


def key_ids(app, *keys: str) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(sa.select(Meeting.key, Meeting.id).where(Meeting.key.in_(keys))).all())


def failed_message(app, subject: str, to: str = "ente@example.org") -> int:
    with app.app_context():
        message = enqueue(to=to, subject=subject, text="Corpo", ambito=default_ambito())
        db.session.flush()
        message.status = OutboxStatus.FAILED
        message.last_error = "550 5.1.1 mailbox unavailable"
        db.session.commit()
        return message.id


def test_nothing_to_do_is_said_plainly(client, staff, monkeypatch):
    at(monkeypatch, 2024, 4, 1, 10)  # a month before the first meeting, nothing applied, no mail
    html = main_text(client.get("/gestione"))
    assert "<h1" in html and "Cruscotto" in html
    for anchor, sentence in [("da-esaminare", "Nessuna candidatura da esaminare."),
                             ("senza-sede", "Nessun incontro dei prossimi 7 giorni è senza sede."),
                             ("posta-non-recapitata", "Nessuna e-mail non recapitata."),
                             ("registri-aperti", "Nessun registro da chiudere.")]:
        part = section(html, anchor)
        assert count_in(part) == 0
        assert sentence in part
        assert "<li" not in part


def test_applications_to_review_link_to_the_review(app, client, staff):
    submitted = make_entity(app, "Associazione In Esame", status=ApplicationStatus.SUBMITTED)
    asked = make_entity(app, "Cooperativa Integrazioni", status=ApplicationStatus.NEEDS_INFO)
    make_entity(app, "Associazione Ammessa", status=ApplicationStatus.ADMITTED)
    make_entity(app, "Associazione Non Ammessa", status=ApplicationStatus.REJECTED)
    make_entity(app, "Associazione Da Confermare", status=ApplicationStatus.UNCONFIRMED)
    part = section(main_text(client.get("/gestione")), "da-esaminare")
    assert count_in(part) == 1  # what waits for the office: an application waiting for the entity does not
    assert "1 candidatura attende la vostra decisione." in part
    assert f'href="/gestione/candidature/{submitted["application"]}">Associazione In Esame</a>' in part
    assert "Cooperativa Integrazioni" not in part and asked["application"]
    # the link opens the tab that lists the same applications
    review = main_text(client.get("/gestione/candidature"))
    assert "Associazione In Esame" in review and "Cooperativa Integrazioni" not in review
    for other in ("Ammessa", "Non Ammessa", "Da Confermare"):
        assert f"Associazione {other}" not in part
    assert 'href="/gestione/candidature"' in part
    assert "Nessuna candidatura" not in part


def test_a_long_queue_lists_the_oldest_few_and_says_how_many_more(app, client, staff):
    for n in range(7):
        make_entity(app, f"Ente in coda {n}", status=ApplicationStatus.SUBMITTED)
    part = section(main_text(client.get("/gestione")), "da-esaminare")
    assert count_in(part) == 7
    assert part.count("<li") == 5
    assert "Ente in coda 0" in part and "Ente in coda 4" in part and "Ente in coda 5" not in part
    assert "(altre 2)" in part


def test_meetings_of_the_next_seven_days_without_venue_link_to_their_edit_page(app, client, staff, monkeypatch):
    at(monkeypatch, 2024, 5, 10, 12)  # 14:00 in Rome: within a week A1, B2 (15 May), D2 (17 May, 9:30)
    ids = key_ids(app, "A1", "B2", "C2", "D2")
    with app.app_context():
        venue = Venue(call=db.session.scalar(sa.select(Call)), name="Sala Pietro da Cemmo", address="Piazza Duomo 25")
        db.session.add(venue)
        db.session.flush()
        db.session.get(Meeting, ids["A1"]).venue_id = venue.id  # has a venue
        db.session.get(Meeting, ids["B2"]).status = MeetingStatus.CANCELLED  # cancelled: nothing to do
        db.session.commit()
    part = section(main_text(client.get("/gestione")), "senza-sede")
    assert count_in(part) == 1
    assert f'href="/gestione/calendario/incontri/{ids["D2"]}">venerdì 17 maggio 2024, 9:30-13:00</a>' in part
    assert "Percorso Innovazione &amp; Giovani" in part
    for key in ("A1", "B2", "C2"):  # C2 (22 May) is beyond the week
        assert f'/gestione/calendario/incontri/{ids[key]}"' not in part
    assert "1 incontro in programma entro il" in part


def test_failed_mail_links_to_the_message_and_the_outbox(app, client, staff):
    first = failed_message(app, "Invito all'incontro", to="sbagliato@example.org")
    second = failed_message(app, "Ricevuta della candidatura")
    with app.app_context():
        enqueue(to="giusto@example.org", subject="Messaggio in coda", text="Corpo",
                ambito=default_ambito())  # pending: not a failure
        db.session.commit()
    part = section(main_text(client.get("/gestione")), "posta-non-recapitata")
    assert count_in(part) == 2
    assert f'href="/gestione/posta/{first}"' in part and f'href="/gestione/posta/{second}"' in part
    assert part.index(f"/gestione/posta/{second}") < part.index(f"/gestione/posta/{first}")  # newest first
    assert "sbagliato@example.org" in part and "550 5.1.1 mailbox unavailable" in part
    assert "Messaggio in coda" not in part
    assert 'href="/gestione/posta?stato=failed"' in part


def test_open_registers_of_ended_meetings_link_to_the_register(app, client, staff, monkeypatch):
    at(monkeypatch, 2024, 5, 10, 12)  # B1 (7 May), C1 (8 May) and D1 (10 May, morning) have ended
    ids = key_ids(app, "B1", "C1", "D1", "A1")
    with app.app_context():
        db.session.get(Meeting, ids["B1"]).register_closed_at = datetime(2024, 5, 7, 17, tzinfo=UTC)  # closed
        db.session.commit()
    part = section(main_text(client.get("/gestione")), "registri-aperti")
    assert count_in(part) == 2
    assert f'href="/presenze/{ids["D1"]}">venerdì 10 maggio 2024, 9:30-13:00</a>' in part
    assert f'href="/presenze/{ids["C1"]}">' in part
    assert part.index(f"/presenze/{ids['D1']}") < part.index(f"/presenze/{ids['C1']}")  # most recent first
    assert f'/presenze/{ids["B1"]}"' not in part and f'/presenze/{ids["A1"]}"' not in part

    with app.app_context():
        db.session.get(Meeting, ids["C1"]).status = MeetingStatus.CANCELLED  # no register to keep
        db.session.commit()
    assert count_in(section(main_text(client.get("/gestione")), "registri-aperti")) == 1


def test_the_dashboard_costs_the_same_queries_with_one_or_many_rows(app, client, staff, monkeypatch):
    def queries() -> int:
        with count_queries(app) as statements:
            response = client.get("/gestione")
        assert response.status_code == 200
        return len(statements)

    # one row in each section: B1 has ended (19:00 in Rome), C1 is the only meeting of the week without venue
    at(monkeypatch, 2024, 5, 7, 17)
    with app.app_context():
        venue = Venue(call=db.session.scalar(sa.select(Call)), name="Sala Pietro da Cemmo", address="Piazza Duomo 25")
        db.session.add(venue)
        db.session.flush()
        db.session.execute(sa.update(Meeting).where(Meeting.key != "C1").values(venue_id=venue.id))
        db.session.commit()
    make_entity(app, "Primo ente", status=ApplicationStatus.SUBMITTED)
    failed_message(app, "Primo messaggio")
    html = main_text(client.get("/gestione"))
    assert [count_in(section(html, anchor)) for anchor in
            ("da-esaminare", "senza-sede", "posta-non-recapitata", "registri-aperti")] == [1, 1, 1, 1]
    few = queries()

    # many: nine applications and failed messages, three meetings of the week without venue, three open registers
    at(monkeypatch, 2024, 5, 10, 12)
    for n in range(8):
        make_entity(app, f"Altro ente {n}", status=ApplicationStatus.SUBMITTED)
        failed_message(app, f"Altro messaggio {n}")
    with app.app_context():
        db.session.execute(sa.update(Meeting).values(venue_id=None))
        db.session.commit()
    html = main_text(client.get("/gestione"))
    assert [count_in(section(html, anchor)) for anchor in
            ("da-esaminare", "senza-sede", "posta-non-recapitata", "registri-aperti")] == [9, 3, 9, 3]
    many = queries()
    assert few == many, f"{few} queries with one row per section, {many} with many"


def test_the_staff_navigation_links_the_dashboard(client, staff):
    html = client.get("/gestione/candidature").get_data(as_text=True)
    assert 'href="/gestione"><span>Cruscotto</span>' in html
    assert 'aria-current="page"><span>Cruscotto</span>' in client.get("/gestione").get_data(as_text=True)


def test_only_staff_reach_the_dashboard(app, client, make_user):
    anonymous = client.get("/gestione")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/accedi?next=")

    entity = make_entity(app, "Associazione Curiosa")
    sign_in_with_link(client, app, entity["user"])
    assert client.get("/gestione").status_code == 403
    assert 'href="/gestione"' not in client.get("/area-riservata").get_data(as_text=True)

    facilitator = app.test_client()
    make_user("facilitatrice@example.org", role=Role.FACILITATOR, password=PASSWORD)
    facilitator.post("/accedi", data={"email": "facilitatrice@example.org", "password": PASSWORD,
                                      "csrf_token": csrf_from(facilitator, "/accedi")})
    assert facilitator.get("/gestione").status_code == 403
    assert 'href="/gestione"' not in facilitator.get("/presenze").get_data(as_text=True)


def test_online_meetings_need_no_venue_but_hybrid_ones_do(app, client, staff, monkeypatch):
    at(monkeypatch, 2024, 5, 10, 12)  # within a week A1, B2 (15 May), D2 (17 May), none with a venue
    ids = key_ids(app, "A1", "B2", "D2")
    with app.app_context():
        online = db.session.get(Meeting, ids["A1"])
        online.mode, online.online_url = MeetingMode.ONLINE, "https://meet.example.org/a1"
        hybrid = db.session.get(Meeting, ids["B2"])
        hybrid.mode, hybrid.online_url = MeetingMode.HYBRID, "https://meet.example.org/b2"
        db.session.commit()
    part = section(main_text(client.get("/gestione")), "senza-sede")
    assert count_in(part) == 2
    assert f'/gestione/calendario/incontri/{ids["A1"]}"' not in part  # online: nothing to do
    assert f'/gestione/calendario/incontri/{ids["B2"]}"' in part  # hybrid: a room is still needed
    assert f'/gestione/calendario/incontri/{ids["D2"]}"' in part
    assert "2 incontri in programma entro il" in part

    with count_queries(app) as statements:
        assert client.get("/gestione").status_code == 200
    with app.app_context():
        db.session.execute(sa.update(Meeting).values(mode=MeetingMode.ONLINE, online_url="https://meet.example.org/x"))
        db.session.commit()
    with count_queries(app) as all_online:
        html = main_text(client.get("/gestione"))
    assert count_in(section(html, "senza-sede")) == 0
    assert "Nessun incontro dei prossimi 7 giorni è senza sede." in section(html, "senza-sede")
    assert len(all_online) == len(statements)
