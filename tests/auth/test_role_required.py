"""role_required / staff_required on a test-only blueprint."""

from __future__ import annotations

import pytest
from auth_helpers import csrf_from
from flask import Blueprint

from scheduler.auth.decorators import role_required, staff_required
from scheduler.auth.models import Role

guarded = Blueprint("guarded_test", __name__)


@guarded.get("/_test/staff")
@staff_required
def staff_page() -> str:
    return "pagina del personale"


@guarded.get("/_test/registri")
@role_required(Role.STAFF, Role.FACILITATOR)
def register_page() -> str:
    return "registri"


@pytest.fixture
def app(app):
    app.register_blueprint(guarded)
    return app


def test_anonymous_is_sent_to_sign_in_with_next(client):
    response = client.get("/_test/staff?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accedi?next=")
    assert "%2F_test%2Fstaff%3Fx%3D1" in response.headers["Location"]


def test_after_signing_in_the_person_comes_back(client, auth, make_user):
    make_user()
    location = client.get("/_test/staff").headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert 'value="/_test/staff"' in page

    response = client.post(
        "/accedi",
        data={
            "email": "staff@example.org",
            "password": "password-di-prova-1",
            "next": "/_test/staff",
            "csrf_token": csrf_from(page),
        },
    )
    assert response.headers["Location"] == "/_test/staff"


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.STAFF, "/_test/staff", 200),
        (Role.FACILITATOR, "/_test/staff", 403),
        (Role.ENTITY, "/_test/staff", 403),
        (Role.STAFF, "/_test/registri", 200),
        (Role.FACILITATOR, "/_test/registri", 200),
        (Role.ENTITY, "/_test/registri", 403),
    ],
)
def test_roles(app, client, make_user, make_entity_user, role, url, status):
    user_id = make_entity_user() if role is Role.ENTITY else make_user(role=role)
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:1"
        session["_fresh"] = True
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"


def test_role_required_needs_roles():
    with pytest.raises(TypeError):
        role_required()
    with pytest.raises(TypeError):
        role_required("staff")  # type: ignore[arg-type]
