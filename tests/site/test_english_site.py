"""The English site: each role's main pages, read in English, show neither an outbox topic code (the
`OutboxMessage.topic` of a message, such as "login-link") nor a date in Italian words ("lunedì 3 giugno 2024").

Italian that is content is not looked at: the call's own texts (from its file, e.g. its late rule "dopo il 2
maggio 2024") and the mail, which is written in Italian whatever language the screen is in (the subjects and
bodies of the outbox).
"""

from __future__ import annotations

import html
import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from scheduler.agreements import services as agreements
from scheduler.announcements import services as announcements
from scheduler.announcements.audience import Audience
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, Rsvp, RsvpStatus
from scheduler.calls.ambiti import default_ambito
from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.mailing.labels import TOPIC_LABELS
from scheduler.mailing.models import OutboxMessage
from scheduler.mailing.services import enqueue
from scheduler.registry import services as registry
from scheduler.registry.models import Application, ApplicationStatus
from scheduler.timeutil import ROME, utcnow
from tests.factories import csrf_from, make_entity, make_meeting, sign_in_with_link

PASSWORD = "password-di-prova-1"
STAFF_EMAIL = "staff@example.org"
FACILITATOR_EMAIL = "facilitatrice@example.org"
PROJECT_DIR = Path(__file__).resolve().parents[2]
CALL_FILE = PROJECT_DIR / "scheduler" / "calls" / "crema-2025-2027.toml"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

#: Every topic the app gives an outbox message: the labelled ones and the Accordo's (which `agreements.
#: notifications` passes by position).
TOPICS = sorted({*TOPIC_LABELS, "agreement-request", "agreement-reminder", "agreement-receipt",
                 "agreement-annulled"})

WEEKDAYS = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
          "ottobre", "novembre", "dicembre")
_WEEKDAY = "|".join(WEEKDAYS)
_MONTH = "|".join(MONTHS)
_SHORT_MONTH = "gen|feb|mar|apr|mag|giu|lug|ago|set|ott|nov|dic"
#: A date in Italian words: "lunedì 3 giugno 2024", "lun 3 giu", "3 giugno 2024", "giugno 2024".
ITALIAN_DATES = re.compile(
    rf"\b(?:(?:{_WEEKDAY})\s+\d{{1,2}}(?:\s+\w+)?"
    rf"|(?:lun|mar|mer|gio|ven|sab|dom)\.?\s+\d{{1,2}}\s+(?:{_MONTH}|{_SHORT_MONTH})\b"
    rf"|\d{{1,2}}\s+(?:{_MONTH})(?:\s+\d{{4}})?"
    rf"|(?:{_MONTH})\s+\d{{4}})",
    re.IGNORECASE,
)
#: The attributes people read (tooltips, screen readers, placeholders) besides the text.
READ_ATTRIBUTES = re.compile(r'\b(?:title|aria-label|alt|placeholder)="([^"]*)"')


def visible_text(page: str) -> str:
    """What a person reads: the text without tags, scripts and styles, the attributes read aloud and what the
    boxes of a form hold."""
    page = re.sub(r"(?is)<(script|style|template)\b.*?</\1>", " ", page)
    attributes = " ".join(READ_ATTRIBUTES.findall(page) + [
        html.unescape(value) for tag in re.findall(r"(?is)<input\b[^>]*>", page) if 'type="hidden"' not in tag
        for value in re.findall(r'\bvalue="([^"]*)"', tag)])
    text = re.sub(r"(?s)<!--.*?-->", " ", page)
    text = re.sub(r"(?s)<[^>]+>", "\n", text)
    return html.unescape(text + "\n" + attributes)


def text_nodes(page: str) -> list[str]:
    """Each piece of text between two tags, trimmed: a code shown as it is fills one."""
    page = re.sub(r"(?is)<(script|style|template)\b.*?</\1>", " ", page)
    return [html.unescape(t).strip() for t in re.split(r"<[^>]+>", page) if t.strip()]


def topic_codes_in(page: str) -> list[str]:
    """Topic codes shown: a hyphenated one anywhere in the text, a one-word one ("invite") as a whole text."""
    text, nodes = visible_text(page), set(text_nodes(page))
    found = []
    for topic in TOPICS:
        if "-" in topic:
            if re.search(rf"(?<![\w/-]){re.escape(topic)}(?![\w/-])", text):
                found.append(topic)
        elif topic in nodes:
            found.append(topic)
    return found


def italian_dates_in(page: str, content: list[str]) -> list[str]:
    """Dates in Italian words, once the Italian content (the call's file, the mail) is taken out."""
    text = " ".join(visible_text(page).split())
    for piece in sorted(content, key=len, reverse=True):
        text = text.replace(piece, " ")
    return [m.group(0) for m in ITALIAN_DATES.finditer(text)]


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _content_pieces(app) -> list[str]:
    """The Italian content pages may quote: each text of the call's file, each line of the mail."""
    with CALL_FILE.open("rb") as file:
        pieces = [" ".join(line.split()) for text in _strings(tomllib.load(file)) for line in text.splitlines()]
    with app.app_context():
        rows = db.session.execute(sa.select(OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html))
        for subject, body, body_html in rows:
            pieces.extend([" ".join(subject.split()), " ".join((body or "").split())])
            pieces.extend(" ".join(line.split()) for line in (body or "").splitlines())
            pieces.extend(" ".join(node.split()) for node in text_nodes(body_html or ""))
    return [p.strip('" ') for p in pieces if len(p.strip('" ')) > 3]


def to_english(client) -> None:
    response = client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": csrf_from(client, "/")})
    assert response.status_code in (302, 303)


def password_client(app, email: str):
    client = app.test_client()
    response = client.post("/accedi", data={"email": email, "password": PASSWORD,
                                            "csrf_token": csrf_from(client, "/accedi")})
    assert response.status_code == 302, response.get_data(as_text=True)
    to_english(client)
    return client


@pytest.fixture
def world(app, crema, make_user):
    """An admitted entity and one under review, a facilitator's table with a past and a coming meeting (with
    a venue and an answer), an Accordo, an announcement, and outbox messages of every topic."""
    admitted = make_entity(app, "Associazione Alfa", areas=("A",), email="alfa@example.org")
    pending = make_entity(app, "Cooperativa Beta", areas=("A", "B"), status=ApplicationStatus.SUBMITTED,
                          email="beta@example.org")
    coming = make_meeting(app, area="A", days_ahead=9, venue=True)
    past = make_meeting(app, area="A", days_ahead=-3)
    staff_id = make_user(STAFF_EMAIL, role=Role.STAFF, password=PASSWORD)
    facilitator_id = make_user(FACILITATOR_EMAIL, role=Role.FACILITATOR, password=PASSWORD)
    with app.app_context():
        staff = db.session.get(User, staff_id)
        meeting = db.session.get(Meeting, coming)
        facilitator = db.session.get(User, facilitator_id)
        facilitator.tracks.append(meeting.track)
        for meeting_id in (coming, past):  # the past one without coming: a follow-up is offered
            db.session.add(Rsvp(meeting_id=meeting_id, organization_id=admitted["organization"],
                                status=RsvpStatus.YES, answered_by_id=admitted["user"]))
        call = db.session.scalar(sa.select(Call))
        registry.ask_for_information(db.session.get(Application, pending["application"]), staff,
                                     "Manca il numero di iscrizione.")
        announcement = announcements.create_draft(call, announcements.Draft(
            subject="Avviso agli enti", body="Gentile {ente}, vi aspettiamo.",
            audience=Audience(kind="meeting_yes", meeting_id=coming)), staff)
        announcements.send_test(announcement, staff)
        agreement = agreements.create_agreement(call, agreements.AgreementData(
            title="Accordo di Programma", description="Approvazione del Piano di Zona.",
            closes_on=(utcnow().astimezone(ROME) + timedelta(days=20)).date(),
            organization_ids=[admitted["organization"]]), ("accordo.pdf", PDF), staff)
        agreements.open_for_adhesion(agreement, staff)
        for topic in TOPICS:
            enqueue(to="alfa@example.org", subject=f"Messaggio di prova ({len(topic)})",
                    text="Testo di prova.", topic=topic, ambito=default_ambito())
        db.session.commit()
        messages = list(db.session.scalars(sa.select(OutboxMessage.id).where(OutboxMessage.topic.in_(TOPICS))))
        ids = {"agreement": agreement.id, "announcement": announcement.id, "track": meeting.track_id}
    return {"admitted": admitted, "pending": pending, "coming": coming, "past": past, "messages": messages,
            **ids}


def pages_by_role(world) -> dict[str, list[str]]:
    public = ["/", "/calendario", "/elenco", f"/incontri/{world['coming']}"]
    return {
        "entity": [*public, "/area-riservata", "/area-riservata/contatti", "/area-riservata/preferenze-email",
                   f"/area-riservata/accordi/{world['agreement']}"],
        "facilitator": [*public, "/presenze", f"/presenze/{world['coming']}", f"/presenze/{world['past']}"],
        "staff": [
            *public, "/gestione", "/gestione/candidature", "/gestione/candidature?stato=tutte",
            f"/gestione/candidature/{world['pending']['application']}", "/gestione/calendario",
            f"/gestione/calendario/incontri/{world['coming']}", "/gestione/posta",
            "/gestione/comunicazioni", "/gestione/comunicazioni/nuova",
            f"/gestione/comunicazioni/{world['announcement']}", "/gestione/partecipazione", "/gestione/avvisi",
            "/gestione/accordi", f"/gestione/accordi/{world['agreement']}", f"/gestione/presenze/{world['past']}",
            f"/gestione/presenze/{world['past']}/cartaceo", f"/gestione/calendario/percorsi/{world['track']}",
            f"/gestione/calendario/percorsi/{world['track']}/serie",
            f"/gestione/calendario/percorsi/{world['track']}/facilitatori", "/gestione/calendario/sedi",
            *[f"/gestione/posta/{message}" for message in world["messages"]],  # a message of each topic
        ],
    }


def signed_in(app, role: str, world):
    if role == "entity":
        client = app.test_client()
        sign_in_with_link(client, app, world["admitted"]["user"])
        to_english(client)
        return client
    return password_client(app, STAFF_EMAIL if role == "staff" else FACILITATOR_EMAIL)


@pytest.mark.parametrize("role", ["entity", "facilitator", "staff"])
def test_english_pages_show_no_topic_code_and_no_italian_date(app, world, role):
    client = signed_in(app, role, world)
    content = _content_pieces(app)
    findings = {}
    for path in pages_by_role(world)[role]:
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert '<html lang="en"' in page, path
        codes, dates = topic_codes_in(page), italian_dates_in(page, content)
        if codes or dates:
            findings[path] = {"codes": codes, "dates": dates}
    assert findings == {}


#: Found by this test in files of other features; each mark goes when its page is fixed (strict: a fixed page
#: fails here until then, so the mark is not forgotten).
OUTSIDE = "reported, in a file this change does not touch"


def test_the_english_follow_up_to_the_absent_dates_the_meeting_in_english(app, world):
    client = signed_in(app, "staff", world)
    page = client.get(f"/gestione/partecipazione/incontri/{world['past']}/assenti").get_data(as_text=True)
    assert "Associazione Alfa" in page  # the entity confirmed and did not come: the form is there
    assert italian_dates_in(page, _content_pieces(app)) == []


def test_the_english_flash_of_a_new_meeting_dates_it_in_english(app, world):
    client = signed_in(app, "staff", world)
    path = f"/gestione/calendario/percorsi/{world['track']}/incontri/nuovo"
    day = (utcnow().astimezone(ROME) + timedelta(days=30)).date()
    response = client.post(path, data={"csrf_token": csrf_from(client, path), "day": day.isoformat(),
                                       "start": "10:00", "end": "12:00", "mode": "in_person", "venue": ""},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Meeting created" in page
    assert italian_dates_in(page, _content_pieces(app)) == []


def test_every_topic_written_in_the_code_is_looked_for():
    """A topic given as `topic="..."` or a TOPIC constant anywhere in the app is one of TOPICS."""
    written = set()
    for source in (PROJECT_DIR / "scheduler").rglob("*.py"):
        code = source.read_text(encoding="utf-8")
        written.update(re.findall(r'\btopic\s*=\s*"([a-z][a-z-]*)"', code))
        written.update(re.findall(r'\b\w*TOPIC\s*=\s*"([a-z][a-z-]*)"', code))
        written.update(re.findall(r'"(agreement-[a-z-]+)"', code))
    assert written and written <= set(TOPICS), written - set(TOPICS)


def test_the_checks_see_what_they_look_for():
    page = ('<p title="giovedì 6 giugno">x</p><td>invite</td><p>Sent: login-link, <b>lunedì 3 giugno 2024</b></p>'
            '<p>Cancel the invite</p><input type="text" name="s" value="Incontro del 4 giugno 2024">'
            '<input type="hidden" name="t" value="5 giugno 2024">')
    assert topic_codes_in(page) == ["invite", "login-link"]
    assert italian_dates_in(page, []) == ["lunedì 3 giugno", "giovedì 6 giugno", "4 giugno 2024"]
    assert italian_dates_in("<p>Saturday 3 June 2024, 12 May, Mar 2024</p>", []) == []
    assert italian_dates_in("<p>Entro il 2 maggio 2024.</p>", ["Entro il 2 maggio 2024."]) == []
