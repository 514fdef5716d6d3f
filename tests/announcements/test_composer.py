"""Staff write an announcement, see it exactly as received, test it, send it now or later; entities receive it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from scheduler import timeutil
from scheduler.announcements.models import Announcement, AnnouncementStatus
from scheduler.announcements.services import send_due
from scheduler.extensions import db
from scheduler.mailing import preferences
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.mailing.worker import deliver_all_due
from scheduler.registry.models import Organization
from tests.factories import csrf_from

NEW = "/gestione/comunicazioni/nuova"


def compose(client, **fields):
    data = {"csrf_token": csrf_from(client, NEW), "audience": "admitted", "subject": "Oggetto", "body": "Testo"}
    data.update(fields)
    return client.post(NEW, data=data)


def announcement_id(response) -> int:
    return int(re.search(r"/gestione/comunicazioni/(\d+)$", response.headers["Location"]).group(1))


def post_action(client, ann_id: int, action: str, **data):
    data["csrf_token"] = csrf_from(client, f"/gestione/comunicazioni/{ann_id}")
    return client.post(f"/gestione/comunicazioni/{ann_id}/{action}", data=data)


def html_part(message) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()


def text_part(message) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()


def test_draft_shows_recipients_and_the_message_as_received(app, staff, cast):
    response = compose(staff, audience="areas", areas=["B"], subject="Per {ente}",
                       body="Gentile **{destinatario}**,\n\nci vediamo presto.")
    assert response.status_code == 303
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 destinatari" in page
    assert "beta@example.org" in page and "epsilon@example.org" in page and "alfa@example.org" not in page
    assert "Per Beta ODV" in page  # the first recipient's subject, placeholders filled
    frame = staff.get(f"/gestione/comunicazioni/{announcement_id(response)}/anteprima?destinatario=1")
    assert frame.status_code == 200
    assert "<strong>Referente" in frame.get_data(as_text=True)
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0  # nothing sent


@pytest.mark.parametrize("fields,field_id,message", [
    ({"body": "Ciao {nome_ente}"}, "body", "Segnaposto sconosciuto: {nome_ente}"),
    ({"subject": "Per {Ente}"}, "subject", "Segnaposto sconosciuto: {Ente}"),
    ({"body": "Ci vediamo a {sede}"}, "body", "solo in un messaggio su un incontro"),
    ({"audience": "areas"}, "areas", "Scegli almeno un&#39;area"),
    ({"audience": "meeting_yes", "meeting_id": "999999"}, "meeting_id", "Scegli l&#39;incontro"),
    ({"subject": ""}, "subject", "Campo obbligatorio"),
])
def test_mistakes_are_shown_next_to_the_field_and_the_text_is_kept(app, staff, cast, fields, field_id, message):
    typed = {"subject": "Oggetto scritto", "body": "Testo scritto a mano"}
    typed.update(fields)
    response = compose(staff, **typed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(rf'id="{field_id}-error"[^>]*>([^<]*)<', page)
    assert error and message in error.group(1)
    assert (typed["body"] or "") in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0


def test_literal_braces_are_written_doubled(app, staff, cast):
    response = compose(staff, body="Il simbolo {{ente}} resta scritto così")
    assert response.status_code == 303


def test_send_now_reaches_each_recipient_with_their_own_values(smtp_app_config, app, staff, cast, smtp_server):
    response = compose(staff, audience="areas", areas=["B"], subject="Notizie per {ente}",
                       body="Gentile {destinatario} di {ente},\n\nun saluto.")
    ann = announcement_id(response)
    sent = post_action(staff, ann, "invia")
    assert sent.status_code == 303
    assert "2 messaggi in consegna" in staff.get(sent.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        deliver_all_due("w")
    messages = {m["To"].addresses[0].addr_spec: m for m in smtp_server.wait_for(2)}
    assert set(messages) == {"beta@example.org", "epsilon@example.org"}
    beta = messages["beta@example.org"]
    assert beta["Subject"] == "Notizie per Beta ODV"
    assert "di Beta ODV" in text_part(beta) and "{" not in text_part(beta)
    # optional mail: an unsubscribe link in the headers (one-click) and at the foot of both bodies
    assert beta["List-Unsubscribe"].startswith("<http") and "/email/disiscrizione/" in beta["List-Unsubscribe"]
    assert beta["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Disiscriviti" in html_part(beta)
    log = staff.get(f"/gestione/comunicazioni/{ann}").get_data(as_text=True)
    assert "Registro degli invii" in log and "Inviati: 2" in log
    assert log.count(">Inviato<") == 2


def test_html_typed_by_staff_or_in_a_name_stays_text(smtp_app_config, app, staff, cast, smtp_server):
    with app.app_context():
        org = db.session.get(Organization, cast["b1"]["organization"])
        org.name = '<b onmouseover="x()">Epsilon</b>'
        db.session.commit()
    response = compose(staff, audience="areas", areas=["B"], subject="<script>alert(1)</script> {ente}",
                       body='<img src=x onerror="alert(1)"> **ok** [link](javascript:alert(1)) {ente}')
    post_action(staff, announcement_id(response), "invia")
    with app.app_context():
        deliver_all_due("w")
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_server.wait_for(2)}
    html = html_part(received["epsilon@example.org"])
    assert "<img" not in html and "<script" not in html and 'href="javascript' not in html
    assert "&lt;img src=x" in html and "<strong>ok</strong>" in html
    assert "&lt;b onmouseover=" in html and "<b onmouseover" not in html
    assert received["epsilon@example.org"]["Subject"].startswith("<script>alert(1)</script>")  # a header is text


def test_test_send_goes_to_the_staff_member_only(smtp_app_config, app, staff, cast, smtp_server):
    ann = announcement_id(compose(staff, audience="meeting_attending", meeting_id=str(cast["meeting"]),
                                  subject="Incontro {data_incontro}", body="Rispondi qui: {link_adesione}"))
    response = post_action(staff, ann, "prova")
    assert response.status_code == 303
    with app.app_context():
        deliver_all_due("w")
        announcement = db.session.get(Announcement, ann)
        assert announcement.status is AnnouncementStatus.DRAFT
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.announcement_id == ann)) == 0
    [message] = smtp_server.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "staff@example.org"
    assert message["Subject"].startswith("[PROVA] Incontro ")
    assert "/accedi/link/" not in text_part(message)  # never an entity's working sign-in link
    assert f"/incontri/{cast['meeting']}/adesione" in text_part(message)
    # the unsubscribe line shows as the recipient will see it, but trying it only touches the tester
    token = re.search(r"Disiscriviti: \S+/email/disiscrizione/(\S+)", text_part(message)).group(1)
    with app.app_context():
        assert preferences.read_unsubscribe_token(token) == ("staff@example.org", "announcements")
    assert text_part(message).count("Disiscriviti") == 1


def test_attached_invite_follows_each_answer(smtp_app_config, app, staff, cast, smtp_server):
    ann = announcement_id(compose(staff, audience="meeting_invited", meeting_id=str(cast["meeting"]),
                                  attach_invite="y", subject="Promemoria", body="A presto a {sede}."))
    post_action(staff, ann, "invia")
    with app.app_context():
        deliver_all_due("w")
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_server.wait_for(3)}
    assert set(received) == {"alfa@example.org", "beta@example.org", "delta@example.org"}  # gamma said no
    partstats = {}
    for address, message in received.items():
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        assert part.get_param("method") == "REQUEST"
        calendar = Calendar.from_ical(part.get_content())
        event = calendar.walk("VEVENT")[0]
        assert not event.errors
        partstats[address] = event["ATTENDEE"].params["PARTSTAT"]
        assert "Sede da definire" in text_part(message)
    assert partstats == {"alfa@example.org": "ACCEPTED", "beta@example.org": "TENTATIVE",
                         "delta@example.org": "NEEDS-ACTION"}


def test_scheduled_announcement_goes_out_when_due(app, staff, cast, monkeypatch):
    ann = announcement_id(compose(staff, audience="admitted", subject="Più tardi", body="Testo"))
    later = timeutil.utcnow().astimezone(timeutil.ROME) + timedelta(days=2)
    response = post_action(staff, ann, "programma", day=later.date().isoformat(), time=later.strftime("%H:%M"))
    assert response.status_code == 303
    assert "Programmata" in staff.get(f"/gestione/comunicazioni/{ann}").get_data(as_text=True)
    with app.app_context():
        assert send_due() == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    future = timeutil.utcnow() + timedelta(days=3)
    monkeypatch.setattr(timeutil, "clock", lambda: future)
    with app.app_context():
        assert send_due() == 1
        assert send_due() == 0  # never twice
        announcement = db.session.get(Announcement, ann)
        assert announcement.status is AnnouncementStatus.SENT and announcement.recipient_count == 5
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.announcement_id == ann)) == 5


def test_a_past_time_cannot_be_scheduled(app, staff, cast):
    ann = announcement_id(compose(staff))
    response = post_action(staff, ann, "programma", day="2020-01-10", time="10:00")
    assert response.status_code == 400
    assert "Scegli un momento futuro" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Announcement, ann).status is AnnouncementStatus.DRAFT


def test_a_sent_announcement_cannot_be_sent_or_edited_again(app, staff, cast):
    ann = announcement_id(compose(staff))
    post_action(staff, ann, "invia")
    again = staff.post(f"/gestione/comunicazioni/{ann}/invia",
                       data={"csrf_token": csrf_from(staff, "/gestione/comunicazioni")})
    assert again.status_code == 409
    assert staff.get(f"/gestione/comunicazioni/{ann}/modifica").status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 5


def test_failed_messages_are_shown_with_the_server_error_and_can_be_retried(app, staff, cast):
    ann = announcement_id(compose(staff, audience="areas", areas=["B"]))
    post_action(staff, ann, "invia")
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_address == "epsilon@example.org"))
        message.status, message.attempts = OutboxStatus.FAILED, 1
        message.last_error = "550 5.1.1 <epsilon@example.org>: mailbox unavailable"
        db.session.commit()
    page = staff.get(f"/gestione/comunicazioni/{ann}").get_data(as_text=True)
    assert "550 5.1.1" in page and "Non recapitati: 1" in page
    assert post_action(staff, ann, "ritenta").status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMessage.status).where(
            OutboxMessage.to_address == "epsilon@example.org")) is OutboxStatus.PENDING
