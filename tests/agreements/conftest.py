"""Fixtures of the Accordo tests: staff signed in, three admitted entities and one under review, and helpers
that act through the pages as staff and entities do."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from scheduler.agreements.models import Agreement, AgreementAdhesion, AgreementInvitation
from scheduler.auth.models import Role
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import ApplicationStatus
from scheduler.timeutil import ROME, utcnow
from tests.factories import csrf_from, make_entity, sign_in_with_link

PASSWORD = "password-di-prova-1"
STAFF_EMAIL = "staff@example.org"
#: A small, real PDF (what the content check looks at is its first bytes).
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
#: A PNG picture, whatever name it is given.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def in_days(days: int) -> date:
    return (utcnow().astimezone(ROME) + timedelta(days=days)).date()


@pytest.fixture
def cast(app, crema):
    """Three admitted entities (A, B, C) and one whose application is still under review."""
    return {
        "a": make_entity(app, "Alfa APS", areas=("A",), email="alfa@example.org"),
        "b": make_entity(app, "Beta ODV", areas=("B",), email="beta@example.org"),
        "c": make_entity(app, "Gamma Coop", areas=("C",), email="gamma@example.org"),
        "pending": make_entity(app, "Zeta in esame", areas=("A",), status=ApplicationStatus.SUBMITTED,
                               email="zeta@example.org"),
    }


@pytest.fixture
def staff(app, make_user, crema):
    """A test client signed in as staff (its own client: tests sign entities in with `client`)."""
    make_user(STAFF_EMAIL, role=Role.STAFF)
    staff_client = app.test_client()
    response = staff_client.post("/accedi", data={"email": STAFF_EMAIL, "password": PASSWORD,
                                                  "csrf_token": csrf_from(staff_client, "/accedi")})
    assert response.status_code == 302
    return staff_client


def form_for(app, organizations: list[dict], *, title: str = "Accordo di Programma per il Piano di Zona 2025-2027",
             closes_on: date | None = None, document: tuple[bytes, str] | None = (PDF, "accordo.pdf")) -> dict:
    data = {"title": title, "description": "Approvazione del Piano di Zona e indirizzi per la sua attuazione.",
            "closes_on": (closes_on or in_days(20)).isoformat(),
            "organizations": [str(o["organization"]) for o in organizations]}
    if document is not None:
        data["document"] = (io.BytesIO(document[0]), document[1], "application/pdf")
    return data


def create(staff, app, organizations: list[dict], **kwargs) -> int:
    """Create an Accordo through the staff form; returns its id."""
    data = form_for(app, organizations, **kwargs)
    data["csrf_token"] = csrf_from(staff, "/gestione/accordi/nuovo")
    response = staff.post("/gestione/accordi/nuovo", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/gestione/accordi/(\d+)$", response.headers["Location"]).group(1))


def post(client, path: str, data: dict | None = None, *, csrf_path: str = "/", **kwargs):
    return client.post(path, data={"csrf_token": csrf_from(client, csrf_path), **(data or {})}, **kwargs)


def open_agreement(staff, agreement_id: int):
    response = post(staff, f"/gestione/accordi/{agreement_id}/apri", csrf_path=f"/gestione/accordi/{agreement_id}")
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def sign_in(client, app, entity: dict) -> None:
    client.post("/esci", data={"csrf_token": csrf_from(client, "/")})
    assert sign_in_with_link(client, app, entity["user"]).status_code == 302


def adhere(client, agreement_id: int, *, name: str | None = None, role: str | None = None,
           declaration: bool = True, signed: tuple[bytes, str] | None = None, extra: dict | None = None):
    """Post the adhesion form as the signed-in entity, with what the page pre-filled unless told otherwise."""
    path = f"/area-riservata/accordi/{agreement_id}"
    page = client.get(path).get_data(as_text=True)
    prefilled = {key: re.search(rf'name="{key}"[^>]*value="([^"]*)"', page) for key in ("signatory_name",
                                                                                         "signatory_role")}
    data = {"signatory_name": name if name is not None else (prefilled["signatory_name"].group(1)
                                                              if prefilled["signatory_name"] else ""),
            "signatory_role": role if role is not None else (prefilled["signatory_role"].group(1)
                                                              if prefilled["signatory_role"] else "")}
    if declaration:
        data["declaration"] = "y"
    data.update(extra or {})
    if signed is not None:
        data["signed_copy"] = (io.BytesIO(signed[0]), signed[1], "application/pdf")
    return post(client, path, data, csrf_path=path, content_type="multipart/form-data")


def outbox(app, topic: str | None = None) -> list[tuple[str, str]]:
    """(address, subject) of every message in the outbox, optionally of one topic, in order."""
    with app.app_context():
        query = sa.select(OutboxMessage.to_address, OutboxMessage.subject).order_by(OutboxMessage.id)
        if topic is not None:
            query = query.where(OutboxMessage.topic == topic)
        return [tuple(row) for row in db.session.execute(query)]


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Agreement, AgreementInvitation, AgreementAdhesion, OutboxMessage)}
