"""An address the SMTP server refuses at send time is recorded, shown to staff the next time, and cleared once
a message gets through."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.announcements import services
from scheduler.announcements.audience import Audience
from scheduler.auth.models import Role, User
from scheduler.calls.services import current_call
from scheduler.extensions import db
from scheduler.mailing.models import MailBounce, OutboxMessage, OutboxStatus
from scheduler.mailing.worker import deliver_all_due
from tests.factories import make_entity


def test_a_refused_address_is_recorded_and_flagged(smtp_app_config, app, staff, smtp_server, monkeypatch):
    make_entity(app, "Ente Chiuso", areas=("C",), email="chiuso@example.org")
    make_entity(app, "Ente Aperto", areas=("C",), email="aperto@example.org")

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address == "chiuso@example.org":
            return "550 5.1.1 <chiuso@example.org>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    monkeypatch.setattr(smtp_server, "handle_RCPT", handle_RCPT, raising=False)
    smtp_server.stop()
    smtp_server.start()
    with app.app_context():
        author = db.session.scalar(sa.select(User).where(User.role == Role.STAFF))
        announcement = services.create_draft(current_call(), services.Draft(
            "Avviso", "Testo", Audience(kind="areas", areas=("C",))), author)
        services.send_now(announcement, author)
        db.session.commit()
        ann_id = announcement.id
        deliver_all_due("w")
        statuses = dict(db.session.execute(sa.select(OutboxMessage.to_address, OutboxMessage.status)).all())
        assert statuses == {"chiuso@example.org": OutboxStatus.FAILED, "aperto@example.org": OutboxStatus.SENT}
        bounce = db.session.scalar(sa.select(MailBounce))
        assert bounce.email == "chiuso@example.org" and bounce.error.startswith("550 5.1.1")
    log = staff.get(f"/gestione/comunicazioni/{ann_id}").get_data(as_text=True)
    assert "Non recapitato" in log and "User unknown" in log

    with app.app_context():
        author = db.session.scalar(sa.select(User).where(User.role == Role.STAFF))
        again = services.create_draft(current_call(), services.Draft(
            "Secondo avviso", "Testo", Audience(kind="areas", areas=("C",))), author)
        db.session.commit()
        again_id = again.id
    page = staff.get(f"/gestione/comunicazioni/{again_id}").get_data(as_text=True)
    assert "Non recapitato l&#39;ultima volta" in page or "Non recapitato l'ultima volta" in page

    monkeypatch.delattr(smtp_server, "handle_RCPT")
    smtp_server.stop()
    smtp_server.start()
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.PENDING))
        db.session.commit()
        deliver_all_due("w")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailBounce)) == 0
