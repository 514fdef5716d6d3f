"""The application factory, configuration, health check and the public home page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from scheduler import create_app


def test_test_config_is_used(app):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret-key"


def test_production_refuses_the_default_secret_key(monkeypatch, database_url):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"CONFIG_NAME": "production", "SQLALCHEMY_DATABASE_URI": database_url,
                    "SECRET_KEY": "dev-only-not-secret"})


def test_production_starts_with_a_real_secret(database_url):
    app = create_app({"CONFIG_NAME": "production", "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "a-long-random-secret-from-the-environment"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_postgres_urls_use_psycopg3():
    from scheduler import normalise_database_url

    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_health_reports_database_and_outbox(client, app):
    from scheduler.extensions import db
    from scheduler.mailing.services import enqueue

    with app.app_context():
        enqueue(to="a@example.org", subject="Prova", text="Corpo")
        db.session.commit()
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["outbox"]["backlog"] == 1


def test_home_page_shows_the_call_areas_and_meetings(client, crema, monkeypatch):
    monkeypatch.setattr("scheduler.timeutil.clock", lambda: datetime(2024, 5, 1, 10, tzinfo=UTC))  # before them all
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="it"' in page
    assert "Ambito territoriale di Crema" in page
    assert "Piano di Zona 2025-2027" in page
    for name in ("Minori e Famiglia", "Fragilità (Anziani e Persone con disabilità)",
                 "Innovazione e giovani"):
        assert name in page
    assert ("Adulti e povertà (Contrasto alla povertà e marginalità, Politiche per il lavoro, "
            "Politiche abitative)") in page
    assert "mercoledì 15 maggio 2024, 9:30-13:00" in page
    assert "mercoledì 15 maggio 2024, 14:30-18:00" in page
    assert "martedì 7 maggio 2024, 14:30-18:00" in page
    assert "venerdì 7 giugno 2024, 9:30-13:00" in page
    assert len(re.findall(r"Sede da definire", page)) == 12
    assert "2 maggio 2024" in page
    assert "Vai al contenuto principale" in page


def test_home_page_without_a_call(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Nessun avviso" in response.get_data(as_text=True)


def test_english_is_available(client, crema):
    token_page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', token_page).group(1)
    response = client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "Wednesday 15 May 2024, 9:30-13:00" in page


def test_language_switch_refuses_external_redirects(client):
    token_page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', token_page).group(1)
    response = client.post("/lingua", data={"lang": "en", "next": "https://evil.example/", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_unknown_page_is_a_404_in_italian(client):
    response = client.get("/non-esiste")
    assert response.status_code == 404
    assert "non esiste" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/lingua", data={"lang": "en"})
    assert response.status_code == 400
    assert "ricarica la pagina" in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp


def test_bootstrap_italia_is_served_by_the_app(client):
    response = client.get("/assets/css/bootstrap-italia.min.css")
    if response.status_code == 404:
        pytest.fail("Bootstrap Italia is not installed: run `make assets` (npm ci)")
    assert response.status_code == 200
    assert "text/css" in response.headers["Content-Type"]
