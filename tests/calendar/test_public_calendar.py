"""The public calendar and a meeting's page, as a visitor reads them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from scheduler.calendar.models import Meeting, MeetingStatus, Venue
from scheduler.calls.models import Call, Comune
from scheduler.extensions import db
from tests.factories import make_entity, make_meeting, sign_in_with_link

pytestmark = pytest.mark.usefixtures("crema")


def at(monkeypatch, *args: int) -> None:
    """Move the application's clock."""
    monkeypatch.setattr("scheduler.timeutil.clock", lambda: datetime(*args, tzinfo=UTC))


def main_text(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index("<main"):html.index("</main>")]


def meeting_items(html: str) -> list[str]:
    return re.findall(r'<li class="list-group-item[^"]*">.*?</li>', html, flags=re.S)


def meeting_id(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Meeting.id).where(Meeting.key == key))


def test_calendar_shows_the_seed_meetings_in_italian(client, monkeypatch):
    at(monkeypatch, 2024, 5, 1, 10)
    response = client.get("/calendario")
    assert response.status_code == 200
    html = main_text(response)

    items = meeting_items(html)
    assert len(items) == 12
    assert len(set(re.findall(r'href="/incontri/(\d+)"', html))) == 12
    assert "mercoledì 15 maggio 2024, 9:30-13:00" in html
    assert "martedì 7 maggio 2024, 14:30-18:00" in html
    assert "venerdì 7 giugno 2024, 9:30-13:00" in html
    assert html.count("Sede da definire") == 12
    assert "Concluso" not in html
    assert "Annullato" not in html
    for title in ("Percorso Minori e Famiglia", "Percorso Fragilità (Anziani e Persone con disabilità)",
                  "Percorso Innovazione &amp; Giovani"):
        assert title in html
    assert "Fase di stesura" in html


def test_past_meetings_are_marked_concluded(client, monkeypatch):
    at(monkeypatch, 2024, 5, 20, 10)
    items = meeting_items(main_text(client.get("/calendario")))
    concluded = [item for item in items if "Concluso" in item]
    # before 20 May: B1 (7), C1 (8), D1 (10), A1 and B2 (15), D2 (17)
    assert len(concluded) == 6
    assert any("martedì 7 maggio 2024" in item for item in concluded)
    assert not any("29 maggio 2024" in item for item in concluded)


def test_cancelled_meeting_is_marked(app, client, monkeypatch):
    at(monkeypatch, 2024, 5, 1, 10)
    with app.app_context():
        db.session.execute(sa.update(Meeting).where(Meeting.key == "C2").values(status=MeetingStatus.CANCELLED))
        db.session.commit()
    items = meeting_items(main_text(client.get("/calendario")))
    cancelled = [item for item in items if "Annullato" in item]
    assert len(cancelled) == 1
    assert "mercoledì 22 maggio 2024" in cancelled[0]
    assert "meeting-cancelled" in cancelled[0]


def test_venue_shown_when_set(app, client, monkeypatch):
    at(monkeypatch, 2024, 5, 1, 10)
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        crema = db.session.scalar(sa.select(Comune).where(Comune.name == "Crema"))
        venue = Venue(call=call, name="Sala Pietro da Cemmo", address="Piazza Duomo 25", comune=crema,
                      room="Primo piano")
        db.session.add(venue)
        db.session.flush()
        db.session.execute(sa.update(Meeting).where(Meeting.key == "A1").values(venue_id=venue.id))
        db.session.commit()
    html = main_text(client.get("/calendario"))
    assert "Sala Pietro da Cemmo, Primo piano, Piazza Duomo 25, Crema" in html
    assert html.count("Sede da definire") == 11


def test_filter_by_area(client):
    html = main_text(client.get("/calendario?area=B"))
    assert len(meeting_items(html)) == 3
    assert "Percorso Fragilità" in html
    assert "Percorso Minori e Famiglia" not in html

    wrong = client.get("/calendario?area=Z")
    assert wrong.status_code == 400
    html = main_text(wrong)
    assert "L&#39;area «Z» non esiste" in html
    assert len(meeting_items(html)) == 12


def test_subscribe_and_download_links(client):
    html = main_text(client.get("/calendario"))
    assert 'href="webcal://tavoli.test/calendario.ics"' in html
    for code in "ABCD":
        assert f'href="webcal://tavoli.test/calendario/{code}.ics"' in html
        assert f'href="/calendario/{code}.ics"' in html
    assert 'href="/calendario.ics"' in html
    assert "Abbonati al calendario" in html
    assert "Scarica .ics" in html


def test_https_base_url_gives_webcal(app, client):
    app.config["BASE_URL"] = "https://tavoli.comune.crema.cr.it/"
    html = main_text(client.get("/calendario"))
    assert 'href="webcal://tavoli.comune.crema.cr.it/calendario.ics"' in html


def test_navigation_links_the_calendar(client):
    assert 'href="/calendario"' in client.get("/").get_data(as_text=True)


def test_meeting_page_without_venue(app, client, monkeypatch):
    at(monkeypatch, 2024, 5, 1, 10)
    mid = meeting_id(app, "A2")
    response = client.get(f"/incontri/{mid}")
    assert response.status_code == 200
    html = main_text(response)
    assert "Percorso Minori e Famiglia – Incontro 2" in html
    assert "A) Minori e Famiglia" in html
    assert "mercoledì 29 maggio 2024, 9:30-13:00" in html
    assert "Sede da definire" in html
    assert "openstreetmap" not in html
    assert f'href="/incontri/{mid}.ics"' in html
    assert "Aggiungi al calendario" in html
    assert 'href="webcal://tavoli.test/calendario/A.ics"' in html


def test_meeting_page_with_venue_links_a_map(app, client):
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        crema = db.session.scalar(sa.select(Comune).where(Comune.name == "Crema"))
        venue = Venue(call=call, name="Sala Pietro da Cemmo", address="Piazza Duomo 25", comune=crema,
                      room="Sala consiliare", accessibility_notes="Ascensore dal cortile; bagno accessibile.")
        db.session.add(venue)
        db.session.flush()
        db.session.execute(sa.update(Meeting).where(Meeting.key == "B3").values(venue_id=venue.id))
        db.session.commit()
        venue_id = venue.id
    mid = meeting_id(app, "B3")
    html = main_text(client.get(f"/incontri/{mid}"))
    assert "Sala Pietro da Cemmo" in html
    assert "Sala consiliare" in html
    assert "Piazza Duomo 25, Crema" in html
    assert "Ascensore dal cortile; bagno accessibile." in html
    link = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener noreferrer" aria-label="([^"]+)"', html)
    assert link, html
    assert link.group(1) == "https://www.openstreetmap.org/search?query=Piazza+Duomo+25%2C+Crema"
    assert "Sala Pietro da Cemmo" in link.group(2)
    assert "nuova finestra" in link.group(2)

    with app.app_context():
        db.session.get(Venue, venue_id).map_url = "https://maps.example.org/sala"
        db.session.commit()
    assert 'href="https://maps.example.org/sala" target="_blank"' in main_text(client.get(f"/incontri/{mid}"))


def test_meeting_page_status(app, client, monkeypatch):
    mid = meeting_id(app, "D3")
    at(monkeypatch, 2024, 5, 1, 10)
    assert "In programma" in main_text(client.get(f"/incontri/{mid}"))
    at(monkeypatch, 2024, 7, 1, 10)
    assert "Concluso" in main_text(client.get(f"/incontri/{mid}"))
    with app.app_context():
        db.session.execute(sa.update(Meeting).where(Meeting.id == mid).values(status=MeetingStatus.CANCELLED))
        db.session.commit()
    assert "Annullato" in main_text(client.get(f"/incontri/{mid}"))


def test_unknown_meeting_is_404(client):
    assert client.get("/incontri/999999").status_code == 404


def test_signed_in_entity_gets_the_answer_link(app, client):
    mid = make_meeting(app, area="A", days_ahead=10)
    assert "Rispondi (partecipo / non partecipo)" not in main_text(client.get(f"/incontri/{mid}"))

    entity = make_entity(app, "Cooperativa Sociale Aurora", areas=("A",))
    sign_in_with_link(client, app, entity["user"])
    html = main_text(client.get(f"/incontri/{mid}"))
    assert "Rispondi (partecipo / non partecipo)" in html
    assert f'href="/incontri/{mid}/adesione"' in html
