"""The plain-text part of every kind of e-mail, as a text-only mail client shows it once received over SMTP:
one fact per line, blank lines between the blocks, nothing glued to the line before it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calendar import reminders
from scheduler.calendar.models import Meeting, Rsvp
from scheduler.calendar.services import answer, cancel, set_venue
from scheduler.calls.models import Call
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due
from scheduler.registry import notifications as registry_mail
from scheduler.registry.models import Application, ApplicationStatus, Organization
from scheduler.timeutil import utcnow
from tests.factories import make_entity, make_meeting

#: Labels that start a line of their own in the text bodies.
LABELS = ("Quando:", "Dove:", "Accessibilità:", "Mappa:", "Pagina dell'incontro:", "Persone indicate:",
          "Codice per la registrazione all'ingresso:", "L'invito allegato", "Per cambiare la risposta",
          "Protocollo:", "Ente:", "Codice fiscale:", "Aree tematiche:", "Fasi:", "Presentata il:",
          "Area riservata:", "Indica la sede:", "Se non potete")


def _glued(text: str) -> list[str]:
    """Lines in which a label follows other text instead of starting the line."""
    return [line for line in text.splitlines() for label in LABELS if label in line and not line.startswith(label)]


def _received_text(app, smtp_server, count: int = 1) -> list[str]:
    with app.app_context():
        deliver_all_due("test-worker")
    messages = smtp_server.wait_for(count)
    assert len(messages) == count
    return [m.get_body(("plain",)).get_content().replace("\r\n", "\n") for m in messages]


@pytest.fixture
def meeting_with_answer(app, crema):
    """An entity that said yes, naming two people, to a meeting with a venue and accessibility notes."""
    entity = make_entity(app, "Cooperativa Testo Semplice", areas=("A",))
    meeting_id = make_meeting(app, area="A", venue=True)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        answer(meeting, db.session.get(Organization, entity["organization"]), db.session.get(User, entity["user"]),
               True, [{"name": "Eva Rossi", "role": "Presidente"}, {"name": "Marco Bianchi", "role": ""}])
        db.session.commit()
    return entity, meeting_id


def test_invitation_lists_one_fact_per_line(smtp_app_config, smtp_server, app, meeting_with_answer):
    _entity, meeting_id = meeting_with_answer
    [text] = _received_text(app, smtp_server)
    lines = text.splitlines()

    assert _glued(text) == []
    assert "Dove: Sala Pietro da Cemmo, Piazza Duomo 25, Crema" in lines
    assert "Accessibilità: Ascensore." in lines
    assert any(line.startswith("Mappa: https://www.openstreetmap.org/search?query=Piazza+Duomo+25") for line in lines)
    assert f"Pagina dell'incontro: http://tavoli.test/incontri/{meeting_id}" in lines
    assert "Persone indicate: Eva Rossi (Presidente), Marco Bianchi" in lines
    code = next(line for line in lines if line.startswith("Codice per la registrazione all'ingresso: "))
    assert re.fullmatch(r"Codice per la registrazione all'ingresso: [A-Z0-9]{6}", code)
    # the blocks are separated by one blank line
    for first, second in (("Pagina dell'incontro:", "Persone indicate:"), ("Persone indicate:", "Codice per"),
                          ("Mostra al facilitatore", "L'invito allegato")):
        index = next(i for i, line in enumerate(lines) if line.startswith(first))
        assert lines[index + 1] == "" and lines[index + 2].startswith(second), lines[index:index + 3]


def test_venue_change_cancellation_and_reminder_read_line_by_line(smtp_app_config, smtp_server, app,
                                                                  meeting_with_answer):
    _entity, meeting_id = meeting_with_answer
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        from scheduler.calendar.models import Venue

        venue = Venue(call=db.session.scalar(sa.select(Call)), name="Sala Bottesini", address="Via Verdi 3",
                      accessibility_notes="Ingresso senza gradini.")
        db.session.add(venue)
        set_venue(meeting, venue)
        db.session.commit()
    _invitation, change = _received_text(app, smtp_server, 2)
    assert _glued(change) == []
    assert change.splitlines()[0] == ("La sede è stata cambiata: Sala Bottesini, Via Verdi 3 "
                                      "(prima: Sala Pietro da Cemmo, Piazza Duomo 25, Crema).")
    assert "Accessibilità: Ingresso senza gradini." in change.splitlines()

    with app.app_context():
        # two days before the meeting, with the answer given well before
        meeting = db.session.get(Meeting, meeting_id)
        meeting.starts_at = utcnow() + timedelta(days=1)
        meeting.ends_at = meeting.starts_at + timedelta(hours=3)
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.meeting_id == meeting_id))
        rsvp.answered_at = utcnow() - timedelta(days=10)
        db.session.commit()
        assert reminders.send_due().reminders == 1
    reminder = _received_text(app, smtp_server, 3)[2]
    assert _glued(reminder) == []
    lines = reminder.splitlines()
    index = lines.index("Persone indicate: Eva Rossi, Marco Bianchi")
    assert lines[index - 1] == "" and lines[index + 1] == "" and lines[index + 2].startswith("Se non potete")

    with app.app_context():
        cancel(db.session.get(Meeting, meeting_id))
        db.session.commit()
    cancelled = _received_text(app, smtp_server, 4)[3]
    assert _glued(cancelled) == []
    lines = cancelled.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("Pagina dell'incontro:"))
    assert lines[index + 1] == "" and lines[index + 2].startswith("L'evento allegato")


def test_staff_alert_for_a_meeting_without_venue(smtp_app_config, smtp_server, app, crema, make_user):
    make_user("ufficio@example.org", role=Role.STAFF)
    make_meeting(app, area="B", days_ahead=2)
    with app.app_context():
        assert reminders.send_due().venue_alerts == 1
    [text] = _received_text(app, smtp_server)
    lines = text.splitlines()
    assert _glued(text) == []
    title = next(i for i, line in enumerate(lines) if line.startswith("Tavolo "))
    assert lines[title + 1].startswith("Quando: ")


def test_application_receipt_and_decision(smtp_app_config, smtp_server, app, crema):
    entity = make_entity(app, "Associazione Ricevuta", areas=("A", "C"), status=ApplicationStatus.SUBMITTED)
    with app.app_context():
        application = db.session.get(Application, entity["application"])
        registry_mail.receipt(application)
        db.session.commit()
    receipts = _received_text(app, smtp_server, 2)  # the contact and the legal representative
    text = receipts[0]
    assert _glued(text) == []
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Protocollo:"))
    facts = [line.split(":", 1)[0] for line in lines[start:] if ":" in line][:8]
    assert facts == ["Protocollo", "Ente", "Codice fiscale", "Registro", "Sede legale", "Comuni in cui opera",
                     "Aree tematiche", "Fasi"]
