"""Fixtures for the outbox tests: an app that delivers to the loopback SMTP server."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def smtp_app(smtp_app_config: dict, app: Flask) -> Flask:
    """The app under test, with MAIL_SERVER pointing at `smtp_server` (settings applied before creation)."""
    assert app.config["MAIL_SERVER"] == "127.0.0.1"
    return app


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    """Skip tests marked `postgres_only` unless the suite runs on PostgreSQL (TEST_DATABASE_URL)."""
    marked = request.node.get_closest_marker("postgres_only") is not None
    if marked and not request.getfixturevalue("database_url").startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
