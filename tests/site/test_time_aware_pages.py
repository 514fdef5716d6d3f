"""The home page and the public calendar read in time: what is coming first, what has ended folded away, the
deadline in the past tense once it has passed, and no promise of a venue for a meeting that is over."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from scheduler.calendar.models import Meeting, MeetingStatus, Venue
from scheduler.calls.models import Call
from scheduler.extensions import db
from tests.factories import make_entity, make_meeting, sign_in_with_link

pytestmark = pytest.mark.usefixtures("crema")


def at(monkeypatch, *args: int) -> None:
    """Move the application's clock (UTC)."""
    monkeypatch.setattr("scheduler.timeutil.clock", lambda: datetime(*args, tzinfo=UTC))


def main_text(response) -> str:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html[html.index("<main"):html.index("</main>")]


def track_blocks(html: str) -> list[str]:
    """Each track's part of the page, in the order shown."""
    return re.split(r'<(?:section|div) class="mb-4 track-timeline"', html)[1:]


def track_name(block: str) -> str:
    return re.search(r'id="track-\d+">.*?</span>\s*([^<]+)</h', block, flags=re.S).group(1).strip()


def dates(fragment: str) -> list[str]:
    """The dates of the meeting lines in a fragment, in order ("15 maggio", ...)."""
    return re.findall(r'class="meeting-when[^"]*"[^>]*>\w+ (\d+ \w+) 2024', fragment)


def split(block: str) -> tuple[str, str]:
    """(what comes before the folded part, the folded part)."""
    if "<details" not in block:
        return block, ""
    head, tail = block.split("<details", 1)
    return head, tail[: tail.index("</details>")]


@pytest.mark.parametrize("path", ["/", "/calendario"])
def test_upcoming_meetings_come_first_and_concluded_ones_are_folded(client, monkeypatch, path):
    at(monkeypatch, 2024, 5, 20, 10)  # after A1, B1, B2, C1, D1, D2
    blocks = track_blocks(main_text(client.get(path)))
    # tracks with a next meeting first, by that meeting: C2 (22 May), A2 (29 May, morning), B3 (29 May,
    # afternoon), D3 (7 June)
    assert [track_name(b).split()[1] for b in blocks] == ["Adulti", "Minori", "Fragilità", "Innovazione"]
    expected = {
        "Adulti": (["22 maggio", "5 giugno"], ["8 maggio"]),
        "Minori": (["29 maggio", "5 giugno"], ["15 maggio"]),
        "Fragilità": (["29 maggio"], ["15 maggio", "7 maggio"]),  # most recent first
        "Innovazione": (["7 giugno"], ["17 maggio", "10 maggio"]),
    }
    for block in blocks:
        upcoming, concluded = split(block)
        want_upcoming, want_concluded = expected[track_name(block).split()[1]]
        assert dates(upcoming) == want_upcoming
        assert dates(concluded) == want_concluded
        assert f"<summary>Incontri conclusi ({len(want_concluded)})</summary>" in concluded
        assert "Concluso" not in upcoming and concluded.count("Concluso") == len(want_concluded)
        assert "Nessun incontro in programma" not in block


def test_before_any_meeting_nothing_is_folded(client, monkeypatch):
    at(monkeypatch, 2024, 5, 1, 10)
    html = main_text(client.get("/calendario"))
    assert "<details class=\"concluded-meetings" not in html
    assert "Incontri conclusi" not in html
    blocks = track_blocks(html)
    assert [track_name(b).split()[1] for b in blocks] == ["Fragilità", "Adulti", "Innovazione", "Minori"]
    assert sum(len(dates(b)) for b in blocks) == 12


def test_a_track_with_nothing_in_programme_says_so(client, monkeypatch):
    at(monkeypatch, 2024, 7, 1, 10)  # after every meeting
    for path in ("/", "/calendario"):
        blocks = track_blocks(main_text(client.get(path)))
        # no next meeting anywhere: the call's order
        assert [track_name(b).split()[1] for b in blocks] == ["Minori", "Fragilità", "Adulti", "Innovazione"]
        for block in blocks:
            upcoming, concluded = split(block)
            assert "Nessun incontro in programma." in upcoming
            assert dates(upcoming) == []
            assert "<summary>Incontri conclusi (3)</summary>" in concluded
            assert len(dates(concluded)) == 3


def test_a_cancelled_next_meeting_is_not_in_programme(app, client, monkeypatch):
    at(monkeypatch, 2024, 6, 1, 10)  # Innovazione has only D3 (7 June) to come
    with app.app_context():
        db.session.execute(sa.update(Meeting).where(Meeting.key == "D3").values(status=MeetingStatus.CANCELLED))
        db.session.commit()
    blocks = track_blocks(main_text(client.get("/calendario")))
    assert track_name(blocks[-1]).startswith("Percorso Innovazione")
    upcoming, concluded = split(blocks[-1])
    assert dates(upcoming) == ["7 giugno"] and "Annullato" in upcoming
    assert "Nessun incontro in programma." in upcoming
    assert len(dates(concluded)) == 2


def test_the_area_filter_keeps_the_order(client, monkeypatch):
    at(monkeypatch, 2024, 5, 20, 10)
    blocks = track_blocks(main_text(client.get("/calendario?area=B")))
    assert len(blocks) == 1
    upcoming, concluded = split(blocks[0])
    assert dates(upcoming) == ["29 maggio"]
    assert dates(concluded) == ["15 maggio", "7 maggio"]


# --- the deadline ------------------------------------------------------------------------------------------------


def deadline_boxes(client) -> str:
    html = main_text(client.get("/"))
    return html[html.index('id="deadline"'):html.index('id="areas-title"')]


def test_before_the_deadline_applications_are_due_by_it(client, monkeypatch):
    at(monkeypatch, 2024, 5, 2, 21, 30)  # 23:30 in Rome: the deadline's day is still running
    boxes = deadline_boxes(client)
    assert "Le manifestazioni di interesse per la fase di stesura si presentano entro il 2 maggio 2024." in boxes
    assert "si sono chiuse" not in boxes
    assert "Si può ancora presentare" not in boxes
    assert "Le manifestazioni di interesse presentate dopo il 2 maggio 2024 sono accolte" in boxes


def test_after_the_deadline_the_box_speaks_in_the_past(client, monkeypatch):
    at(monkeypatch, 2024, 5, 2, 22, 30)  # 00:30 of 3 May in Rome
    boxes = deadline_boxes(client)
    assert "Le candidature per la fase di stesura si sono chiuse il 2 maggio 2024." in boxes
    assert "si presentano entro" not in boxes
    assert "Si può ancora presentare la candidatura per la sola fase di attuazione." in boxes
    assert "I tavoli di attuazione partono dal 1 gennaio 2025." in boxes
    # the avviso's own words stay
    assert "Le manifestazioni di interesse presentate dopo il 2 maggio 2024 sono accolte" in boxes
    assert 'href="/candidatura"' in main_text(client.get("/"))


def test_once_implementation_has_begun_the_box_says_so(client, monkeypatch):
    at(monkeypatch, 2026, 12, 2, 10)
    boxes = deadline_boxes(client)
    assert "si sono chiuse il 2 maggio 2024" in boxes
    assert "I tavoli di attuazione sono attivi dal 1 gennaio 2025." in boxes
    assert "partono dal" not in boxes


def test_the_deadline_is_the_calls(app, client, monkeypatch):
    with app.app_context():
        db.session.scalar(sa.select(Call)).deadline = datetime(2027, 3, 31).date()
        db.session.commit()
    at(monkeypatch, 2026, 12, 2, 10)
    boxes = deadline_boxes(client)
    assert "si presentano entro il 31 marzo 2027" in boxes
    assert "si sono chiuse" not in boxes


# --- the venue of a meeting that is over -------------------------------------------------------------------------


def meeting_id(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Meeting.id).where(Meeting.key == key))


def where(html: str) -> str:
    """The "Dove" of a meeting's page."""
    return re.search(r"<dt[^>]*>Dove</dt>\s*<dd[^>]*>(.*?)</dd>", html, flags=re.S).group(1)


def test_a_concluded_meeting_without_venue_says_so_plainly(app, client, monkeypatch):
    mid = meeting_id(app, "A1")  # 15 May 2024
    at(monkeypatch, 2024, 5, 1, 10)
    before = where(main_text(client.get(f"/incontri/{mid}")))
    assert "Sede da definire" in before and "sarà comunicata appena disponibile" in before

    at(monkeypatch, 2024, 5, 20, 10)
    html = main_text(client.get(f"/incontri/{mid}"))
    assert "Concluso" in html
    assert "Sede non indicata" in where(html)
    assert "Sede da definire" not in html and "sarà comunicata" not in html


def test_a_cancelled_meeting_keeps_its_wording_and_promises_no_venue(app, client, monkeypatch):
    mid = meeting_id(app, "D3")
    with app.app_context():
        db.session.execute(sa.update(Meeting).where(Meeting.id == mid).values(status=MeetingStatus.CANCELLED))
        db.session.commit()
    at(monkeypatch, 2024, 5, 1, 10)  # before it
    html = main_text(client.get(f"/incontri/{mid}"))
    assert "Annullato" in html and "Questo incontro è stato annullato." in html
    assert "Sede non indicata" in where(html) and "sarà comunicata" not in html


def test_a_concluded_meeting_with_a_venue_still_shows_it(app, client, monkeypatch):
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        venue = Venue(call=call, name="Sala Pietro da Cemmo", address="Piazza Duomo 25, Crema")
        db.session.add(venue)
        db.session.flush()
        db.session.execute(sa.update(Meeting).where(Meeting.key == "A1").values(venue_id=venue.id))
        db.session.commit()
    at(monkeypatch, 2024, 5, 20, 10)
    html = main_text(client.get(f"/incontri/{meeting_id(app, 'A1')}"))
    assert "Sala Pietro da Cemmo" in where(html) and "Sede non indicata" not in html
    calendar = main_text(client.get("/calendario?area=A"))
    assert "Sala Pietro da Cemmo, Piazza Duomo 25, Crema" in split(track_blocks(calendar)[0])[1]


@pytest.mark.parametrize("path", ["/", "/calendario"])
def test_lists_say_no_venue_for_concluded_meetings(client, monkeypatch, path):
    at(monkeypatch, 2024, 5, 20, 10)
    html = main_text(client.get(path))
    upcoming = "".join(split(b)[0] for b in track_blocks(html))
    concluded = "".join(split(b)[1] for b in track_blocks(html))
    assert upcoming.count("Sede da definire") == 6 and "Sede non indicata" not in upcoming
    assert concluded.count("Sede non indicata") == 6 and "Sede da definire" not in concluded


def test_the_entity_area_says_no_venue_for_its_concluded_meetings(app, client):
    past = make_meeting(app, area="A", days_ahead=-3)
    coming = make_meeting(app, area="A", days_ahead=5)
    entity = make_entity(app, "Cooperativa Sociale Tempo", areas=("A",))
    sign_in_with_link(client, app, entity["user"])
    html = main_text(client.get("/area-riservata"))
    items = re.findall(r'<li class="list-group-item[^"]*">.*?</li>', html, flags=re.S)
    assert len(items) == 2
    past_item = next(item for item in items if "meeting-past" in item)
    coming_item = next(item for item in items if f"/incontri/{coming}/adesione" in item)
    assert f"/incontri/{past}/adesione" not in past_item
    assert "Sede non indicata" in past_item and "Sede da definire" not in past_item
    assert "Sede da definire" in coming_item and "Sede non indicata" not in coming_item
