"""A meeting chosen for the placeholders works with every audience: an area's entities each get their own
answer link for that meeting, which opens that entity's answer form."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import sqlalchemy as sa

from scheduler.announcements.models import Announcement
from scheduler.extensions import db
from scheduler.mailing.worker import deliver_all_due
from tests.factories import csrf_from

NEW = "/gestione/comunicazioni/nuova"


def compose(client, **fields):
    data = {"csrf_token": csrf_from(client, NEW), "subject": "Oggetto", "body": "Testo"}
    data.update(fields)
    return client.post(NEW, data=data)


def announcement_id(response) -> int:
    return int(re.search(r"/gestione/comunicazioni/(\d+)$", response.headers["Location"]).group(1))


def post_action(client, ann_id: int, action: str, **data):
    data["csrf_token"] = csrf_from(client, f"/gestione/comunicazioni/{ann_id}")
    return client.post(f"/gestione/comunicazioni/{ann_id}/{action}", data=data)


def test_an_areas_audience_with_a_chosen_meeting_sends_each_entity_its_own_answer_link(
        smtp_app_config, app, staff, cast, smtp_server):
    meeting = cast["meeting"]
    response = compose(staff, audience="areas", areas=["A"], meeting_id=str(meeting),
                       subject="{percorso}: rispondete entro venerdì",
                       body="Gentile {ente},\n\nl'incontro di {data_incontro} ({sede}).\n\n"
                            "Rispondete qui: {link_adesione}\n\n[Oppure da questo link]({link_adesione})")
    assert response.status_code == 303
    ann = announcement_id(response)
    with app.app_context():
        announcement = db.session.get(Announcement, ann)
        assert announcement.audience["kind"] == "areas" and announcement.meeting_id == meeting
        track_name = announcement.meeting.track.name
    # the composer shows the meeting again, the preview fills its placeholders
    composer = staff.get(f"/gestione/comunicazioni/{ann}/modifica").get_data(as_text=True)
    assert re.search(rf'<option[^>]*selected[^>]*value="{meeting}"|<option[^>]*value="{meeting}"[^>]*selected',
                     composer)
    detail = staff.get(f"/gestione/comunicazioni/{ann}").get_data(as_text=True)
    assert f"/incontri/{meeting}/adesione" in detail and "{link_adesione}" not in re.sub(
        r'<textarea.*?</textarea>', "", detail, flags=re.S)

    assert post_action(staff, ann, "invia").status_code == 303
    with app.app_context():
        deliver_all_due("w")
    # the admitted entities of area A (gamma declined the meeting: it may change its answer with the link)
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_server.wait_for(4)}
    entities = {"alfa@example.org": "Alfa APS", "beta@example.org": "Beta ODV", "gamma@example.org": "Gamma Coop",
                "delta@example.org": "Delta Onlus"}
    assert set(received) == set(entities)
    links = {}
    for address, message in received.items():
        text = message.get_body(("plain",)).get_content()
        found = re.findall(rf"https?://\S+/incontri/{meeting}/risposta/[^\s)]+", text)
        assert len(set(found)) == 1, text  # the same link in the text and behind "Oppure da questo link"
        links[address] = found[0]
        html = message.get_body(("html",)).get_content()
        assert f'href="{found[0]}"' in html
        assert message["Subject"] == f"{track_name}: rispondete entro venerdì"
    assert len(set(links.values())) == 4  # one link per entity

    visitor = app.test_client()  # a link works without signing in, for its entity only
    for address, link in links.items():
        page = visitor.get(urlsplit(link).path)
        assert page.status_code == 200
        html = unescape(page.get_data(as_text=True))
        assert f"Risposta per l'ente {entities[address]}" in html
        assert 'name="attending"' in html
    # answering with one entity's link answers for that entity
    path = urlsplit(links["delta@example.org"]).path
    answered = visitor.post(path, data={"csrf_token": csrf_from(visitor, path), "attending": "yes",
                                       "person_name": "Dario Delta", "person_role": ""})
    assert answered.status_code == 302
    from scheduler.calendar.models import Rsvp, RsvpStatus

    with app.app_context():
        rsvp = db.session.scalar(sa.select(Rsvp).where(Rsvp.meeting_id == meeting,
                                                       Rsvp.organization_id == cast["a4"]["organization"]))
        assert rsvp is not None and rsvp.status in (RsvpStatus.YES, RsvpStatus.WAITLIST)  # the room may be full


def test_every_audience_keeps_the_chosen_meeting(app, staff, cast):
    for audience in ({"audience": "admitted"}, {"audience": "facilitators", "track_id": str(cast["track"])}):
        response = compose(staff, meeting_id=str(cast["meeting"]), body="Ci vediamo a {sede}, {link_incontro}",
                           **audience)
        assert response.status_code == 303, audience
        with app.app_context():
            assert db.session.get(Announcement, announcement_id(response)).meeting_id == cast["meeting"]


def test_without_a_chosen_meeting_the_meeting_placeholders_are_still_refused(app, staff, cast):
    response = compose(staff, audience="areas", areas=["A"], body="Rispondete: {link_adesione}")
    assert response.status_code == 400
    assert "solo in un messaggio su un incontro" in response.get_data(as_text=True)


def test_a_meeting_of_another_call_or_unknown_is_refused_whatever_the_audience(app, staff, cast):
    response = compose(staff, audience="areas", areas=["A"], meeting_id="999999", body="{sede}")
    assert response.status_code == 400
    assert re.search(r'id="meeting_id-error"[^>]*>[^<]*Scegli l&#39;incontro', response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0


def test_the_invitation_is_attached_only_for_a_meetings_audience(app, staff, cast):
    response = compose(staff, audience="areas", areas=["A"], meeting_id=str(cast["meeting"]), attach_invite="y")
    assert response.status_code == 400
    error = re.search(r'id="attach_invite-error"[^>]*>([^<]*)<', response.get_data(as_text=True))
    assert error and "solo scrivendo agli enti di un incontro" in error.group(1)
