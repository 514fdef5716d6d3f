"""Each audience resolves to the right addresses, once each, with delegates only for their area."""

from __future__ import annotations

import pytest

from scheduler.announcements.audience import Audience, AudienceError, resolve
from scheduler.attendance.models import Attendance, AttendanceMethod
from scheduler.calls.services import current_call
from scheduler.extensions import db
from scheduler.registry.models import ContactKind
from tests.announcements.conftest import add_contact


def addresses(app, **audience) -> list[str]:
    with app.app_context():
        return sorted(r.email for r in resolve(current_call(), Audience(**audience)))


def test_all_admitted_entities_only(app, cast):
    assert addresses(app, kind="admitted") == [
        "alfa@example.org", "beta@example.org", "delta@example.org", "epsilon@example.org", "gamma@example.org",
    ]


def test_areas(app, cast):
    assert addresses(app, kind="areas", areas=("B",)) == ["beta@example.org", "epsilon@example.org"]
    assert len(addresses(app, kind="areas", areas=("A", "B"))) == 5


def test_meeting_answers(app, cast):
    meeting = cast["meeting"]
    assert addresses(app, kind="meeting_yes", meeting_id=meeting) == ["alfa@example.org"]
    assert addresses(app, kind="meeting_waitlist", meeting_id=meeting) == ["beta@example.org"]
    assert addresses(app, kind="meeting_attending", meeting_id=meeting) == ["alfa@example.org", "beta@example.org"]
    # invited to an area A meeting and silent: Delta (Gamma said no, Epsilon is area B, Zeta is not admitted)
    assert addresses(app, kind="meeting_no_answer", meeting_id=meeting) == ["delta@example.org"]
    assert addresses(app, kind="meeting_invited", meeting_id=meeting) == [
        "alfa@example.org", "beta@example.org", "delta@example.org",
    ]


def test_present_and_absent(app, cast):
    with app.app_context():
        db.session.add(Attendance(meeting_id=cast["meeting"], organization_id=cast["a1"]["organization"],
                                  person_name="Referente", method=AttendanceMethod.HAND))
        db.session.commit()
    assert addresses(app, kind="meeting_present", meeting_id=cast["meeting"]) == ["alfa@example.org"]
    assert addresses(app, kind="meeting_absent", meeting_id=cast["meeting"]) == []
    with app.app_context():
        from scheduler.calendar.models import Rsvp, RsvpStatus

        db.session.query(Rsvp).filter_by(organization_id=cast["a2"]["organization"]).update(
            {"status": RsvpStatus.YES})
        db.session.commit()
    assert addresses(app, kind="meeting_absent", meeting_id=cast["meeting"]) == ["beta@example.org"]


def test_facilitators_of_a_track(app, cast):
    assert addresses(app, kind="facilitators", track_id=cast["track"]) == ["facilitatrice@example.org"]


def test_delegates_hear_only_of_their_area_and_addresses_are_not_repeated(app, cast):
    add_contact(app, cast["a2"], "delegata.b@example.org", area_code="B")
    add_contact(app, cast["a2"], "delegata.a@example.org", area_code="A")
    add_contact(app, cast["a2"], "altro@example.org", area_code=None)
    # the same person listed twice, with different capitals, and for another entity too
    add_contact(app, cast["a2"], "Beta@Example.org", kind=ContactKind.DELEGATE, area_code="B")
    add_contact(app, cast["b1"], "altro@example.org", area_code=None)
    area_b = addresses(app, kind="areas", areas=("B",))
    assert area_b == ["altro@example.org", "beta@example.org", "delegata.b@example.org", "epsilon@example.org"]
    area_a = addresses(app, kind="areas", areas=("A",))
    assert "delegata.a@example.org" in area_a and "delegata.b@example.org" not in area_a
    with app.app_context():
        shared = next(r for r in resolve(current_call(), Audience(kind="areas", areas=("B",)))
                      if r.email == "altro@example.org")
        assert shared.entity_names == "Beta ODV, Epsilon"


def test_all_contacts_adds_the_legal_representative(app, cast):
    plain = addresses(app, kind="areas", areas=("B",))
    everyone = addresses(app, kind="areas", areas=("B",), all_contacts=True)
    assert len(everyone) == len(plain) + 2
    assert all(e in everyone for e in plain)


@pytest.mark.parametrize("audience,field", [
    ({"kind": "areas"}, "areas"),
    ({"kind": "areas", "areas": ("Z",)}, "areas"),
    ({"kind": "meeting_yes"}, "meeting_id"),
    ({"kind": "meeting_yes", "meeting_id": 999999}, "meeting_id"),
    ({"kind": "facilitators"}, "track_id"),
    ({"kind": "everyone"}, "audience"),
])
def test_incomplete_audiences_are_refused(app, cast, audience, field):
    with app.app_context(), pytest.raises(AudienceError) as error:
        resolve(current_call(), Audience(**audience))
    assert error.value.field == field
