"""Reminders two days before, once; staff warned three days before a meeting that has no venue."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from scheduler.auth.models import User
from scheduler.calendar.models import Meeting, Rsvp
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Organization
from scheduler.timeutil import utcnow
from tests.factories import make_entity, make_meeting


def _answer_yes(app, meeting_id, entity, days_before_answer=10):
    from scheduler.calendar.services import answer

    with app.app_context():
        rsvp = answer(db.session.get(Meeting, meeting_id), db.session.get(Organization, entity["organization"]),
                      db.session.get(User, entity["user"]), True, [{"name": "Anna", "role": ""}])
        rsvp.answered_at = utcnow() - timedelta(days=days_before_answer)
        db.session.commit()


def _topic(app, topic):
    with app.app_context():
        return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == topic)).all()


def test_confirmed_entities_are_reminded_once_with_the_venue(app, crema, runner):
    meeting_id = make_meeting(app, area="A", days_ahead=1.5, venue=True)
    far_id = make_meeting(app, area="A", days_ahead=6, venue=True)
    entity = make_entity(app, "Ente Promemoria", areas=("A",))
    _answer_yes(app, meeting_id, entity)
    _answer_yes(app, far_id, entity)
    result = runner.invoke(args=["reminders"])
    assert result.exit_code == 0 and "Promemoria: 1" in result.output
    [reminder] = _topic(app, "reminder")
    assert reminder.to_address == entity["email"]
    assert "Sala Pietro da Cemmo" in reminder.body_text
    assert reminder.category.value == "optional"
    assert "Promemoria: 0" in runner.invoke(args=["reminders"]).output
    assert len(_topic(app, "reminder")) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(Rsvp.reminded_at).where(Rsvp.meeting_id == meeting_id))


def test_staff_are_warned_of_a_meeting_without_venue(app, crema, runner, make_user):
    make_user("staff@example.org")
    make_meeting(app, area="B", days_ahead=2.5)
    make_meeting(app, area="C", days_ahead=2.5, venue=True)
    make_meeting(app, area="D", days_ahead=5)
    result = runner.invoke(args=["reminders"])
    assert "sede mancante: 1" in result.output
    [alert] = _topic(app, "venue-alert")
    assert alert.to_address == "staff@example.org"
    assert "non ha ancora una sede" in alert.body_text
    runner.invoke(args=["reminders"])
    assert len(_topic(app, "venue-alert")) == 1


def test_the_worker_runs_the_reminders(app, crema):
    from scheduler.mailing.worker import run_periodic

    meeting_id = make_meeting(app, area="A", days_ahead=1, venue=True)
    entity = make_entity(app, areas=("A",))
    _answer_yes(app, meeting_id, entity)
    with app.app_context():
        run_periodic(app)
    assert len(_topic(app, "reminder")) == 1
    assert _topic(app, "venue-alert") == []


def test_periodic_tasks_run_on_the_first_loop_even_just_after_boot(monkeypatch):
    """The monotonic clock counts from boot: a worker started in the first ten minutes still runs them."""
    from scheduler.calendar import reminders

    clock = [5.0]
    monkeypatch.setattr(reminders.clock_time, "monotonic", lambda: clock[0])
    runs = []
    hook = reminders.every(600, lambda: runs.append(clock[0]))
    hook()
    clock[0] = 300.0
    hook()
    clock[0] = 606.0
    hook()
    assert runs == [5.0, 606.0]
