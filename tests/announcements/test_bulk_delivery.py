"""300 recipients: written in one transaction, delivered by the worker through an SMTP server that dies halfway."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from scheduler import timeutil
from scheduler.announcements import services
from scheduler.announcements.audience import Audience
from scheduler.announcements.models import Announcement, AnnouncementStatus
from scheduler.auth.models import Role, User
from scheduler.calls.ambiti import default_ambito
from scheduler.calls.models import Area
from scheduler.calls.services import current_call
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.mailing.worker import deliver_all_due
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationStatus,
    Contact,
    ContactKind,
    LegalForm,
    Organization,
)
from tests.factories import codice_fiscale

COUNT = 300


def many_entities(app, count: int) -> None:
    with app.app_context():
        call = current_call()
        area = db.session.scalar(sa.select(Area).where(Area.call_id == call.id, Area.code == "A"))
        for n in range(count):
            org = Organization(name=f"Ente {n:03d}", legal_form=LegalForm.APS, codice_fiscale=codice_fiscale(),
                               register="runts-b", register_number=str(n), registered_office="Crema",
                               email=f"ente{n:03d}@example.org")
            org.contacts = [Contact(kind=ContactKind.CONTACT, full_name=f"Referente {n:03d}",
                                    email=f"ente{n:03d}@example.org")]
            db.session.add(Application(call=call, organization=org, status=ApplicationStatus.ADMITTED,
                                       wants_implementation=True, areas=[ApplicationArea(area=area)]))
        db.session.add(User(email="staff@example.org", role=Role.STAFF, full_name="Staff", ambito=default_ambito()))
        db.session.commit()


def draft(app) -> int:
    with app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        announcement = services.create_draft(current_call(), services.Draft(
            subject="Avviso per {ente}", body="Gentile {destinatario},\n\nun avviso.",
            audience=Audience(kind="areas", areas=("A",))), staff)
        db.session.commit()
        return announcement.id


def test_all_or_nothing(app, crema, monkeypatch):
    many_entities(app, 40)
    ann = draft(app)
    original = services.Renderer.render
    calls = []

    def failing(self, recipient):
        calls.append(recipient)
        if len(calls) == 20:
            raise RuntimeError("disk full")
        return original(self, recipient)

    monkeypatch.setattr(services.Renderer, "render", failing)
    with app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        with pytest.raises(RuntimeError):
            services.send_now(db.session.get(Announcement, ann), staff)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
        assert db.session.get(Announcement, ann).status is AnnouncementStatus.DRAFT


class DyingSink:
    """Wraps the test SMTP server: after `limit` messages it refuses the rest, then goes away."""

    def __init__(self, sink, limit: int) -> None:
        self.sink, self.limit, self.stopped = sink, limit, threading.Event()
        self.original = sink.handle_DATA

    async def handle_DATA(self, server, session, envelope):
        if len(self.sink.messages) >= self.limit:
            if not self.stopped.is_set():
                self.stopped.set()
                # stop from outside the server's loop, once this answer has gone out
                threading.Thread(target=lambda: (time.sleep(0.3), self.sink.stop()), daemon=True).start()
            return "421 4.3.2 Service shutting down"
        return await self.original(server, session, envelope)


def test_300_recipients_each_get_exactly_one_message_when_the_server_dies_halfway(
        smtp_app_config, app, crema, smtp_server, monkeypatch):
    many_entities(app, COUNT)
    ann = draft(app)
    with app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        queued = services.send_now(db.session.get(Announcement, ann), staff)
        db.session.commit()
        assert queued == COUNT
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.announcement_id == ann)) == COUNT

    dying = DyingSink(smtp_server, COUNT // 2)
    monkeypatch.setattr(smtp_server, "handle_DATA", dying.handle_DATA)
    with app.app_context():
        deliver_all_due("w1")
    assert dying.stopped.wait(5)
    time.sleep(0.5)
    assert len(smtp_server.messages) == COUNT // 2
    with app.app_context():
        counts = Counter(db.session.scalars(sa.select(OutboxMessage.status)))
        assert counts[OutboxStatus.SENT] == COUNT // 2 and counts[OutboxStatus.PENDING] == COUNT // 2
        deliver_all_due("w1")  # the server is down: nothing new is due yet (backoff), nothing is lost
        assert Counter(db.session.scalars(sa.select(OutboxMessage.status)))[OutboxStatus.FAILED] == 0

    monkeypatch.setattr(smtp_server, "handle_DATA", dying.original)
    smtp_server.start()  # the server comes back on the same port
    later = timeutil.utcnow() + timedelta(hours=2)
    monkeypatch.setattr(timeutil, "clock", lambda: later)
    with app.app_context():
        deliver_all_due("w2")
        assert Counter(db.session.scalars(sa.select(OutboxMessage.status))) == {OutboxStatus.SENT: COUNT}
    received = smtp_server.wait_for(COUNT)
    per_address = Counter(m["To"].addresses[0].addr_spec for m in received)
    assert len(per_address) == COUNT and set(per_address.values()) == {1}
    assert len({m["Message-ID"] for m in received}) == COUNT
    sample = next(m for m in received if m["To"].addresses[0].addr_spec == "ente123@example.org")
    assert sample["Subject"] == "Avviso per Ente 123"
