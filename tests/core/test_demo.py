"""`flask demo`: sample entities clearly marked, future meetings to answer today, safe to run twice."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.calendar.models import Meeting
from scheduler.calls.models import Call, Track
from scheduler.extensions import db
from scheduler.registry.models import Application, ApplicationStatus, Organization
from scheduler.timeutil import utcnow


def test_demo_needs_a_call(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1 and "Nessun avviso" in result.output


def test_demo_adds_marked_samples_and_future_meetings_once(runner, app, crema, client):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and "6 enti e 8 incontri" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "0 enti e 0 incontri" in second.output
    with app.app_context():
        organizations = db.session.scalars(sa.select(Organization)).all()
        assert len(organizations) == 6
        assert all(o.is_sample and "(esempio)" in o.name for o in organizations)
        assert all(a.status is ApplicationStatus.ADMITTED for a in db.session.scalars(sa.select(Application)))
        future = db.session.scalars(sa.select(Meeting).join(Track).join(Call).where(
            Meeting.starts_at > utcnow(), Call.slug == crema)).all()
        assert len(future) == 8  # the second sample Ambito's call has its own (tests/core/test_demo_second_ambito.py)
    page = client.get("/elenco").get_data(as_text=True)
    assert "Esempio" in page
    assert "Nessuna modifica" in runner.invoke(args=["calls", "load", "scheduler/calls/crema-2025-2027.toml"]).output
