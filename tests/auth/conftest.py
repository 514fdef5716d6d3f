"""Fixtures for the sign-in tests."""

from __future__ import annotations

import pytest
from auth_helpers import ENTITY_EMAIL, set_active
from flask import Flask

from scheduler.auth.models import Role
from scheduler.extensions import db


@pytest.fixture
def make_entity_user(app: Flask, make_user):
    """An entity (ODV) and its representative's user account, which signs in by link."""
    from scheduler.registry.models import LegalForm, Organization

    counter = {"n": 0}

    def _make(email: str = ENTITY_EMAIL, *, active: bool = True) -> int:
        counter["n"] += 1
        with app.app_context():
            org = Organization(
                name=f"Associazione di prova {counter['n']}",
                legal_form=LegalForm.ODV,
                codice_fiscale=f"9100000000{counter['n']}",
                register="RUNTS - Organizzazioni di volontariato",
                register_number=f"R-{counter['n']}",
                registered_office="Via Roma 1, Crema",
                email=f"ente{counter['n']}@ente-esempio.it",
            )
            db.session.add(org)
            db.session.commit()
            org_id = org.id
        user_id = make_user(email, role=Role.ENTITY, password=None, organization_id=org_id)
        if not active:
            set_active(app, user_id, False)
        return user_id

    return _make
