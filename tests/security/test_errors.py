"""An unexpected error shows a plain Italian page: no traceback, no exception text, no SQL."""

from __future__ import annotations

import pytest

from tests.security.test_headers import header_problems

SECRET = "segreto interno: SELECT * FROM users WHERE email='mario.rossi@example.org'"


@pytest.fixture
def failing_app(app):
    def explode():
        raise RuntimeError(SECRET)

    app.add_url_rule("/prova-errore", "explode", explode)
    app.add_url_rule("/prova-errore.json", "explode_json", explode)
    return app


def test_an_unexpected_error_is_a_plain_500_page(failing_app, crema):
    response = failing_app.test_client().get("/prova-errore")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Si è verificato un errore imprevisto. Riprova più tardi." in page
    for leak in ("Traceback", "RuntimeError", "segreto", "SELECT", "mario.rossi"):
        assert leak not in page
    assert header_problems(response) == []


def test_an_unexpected_error_answers_json_to_json_clients(failing_app, crema):
    response = failing_app.test_client().get("/prova-errore.json")
    assert response.status_code == 500
    assert response.get_json() == {"error": "Si è verificato un errore imprevisto. Riprova più tardi.",
                                   "status": 500}


def test_the_request_after_an_error_works(failing_app, crema):
    client = failing_app.test_client()
    assert client.get("/prova-errore").status_code == 500
    assert client.get("/elenco").status_code == 200
