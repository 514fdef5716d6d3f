"""Security headers on every answer of the app, and HSTS and secure cookies in production."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.security.conftest import PROJECT_DIR, sign_in_as
from tests.security.test_route_matrix import routes, url_of

UNSAFE_SCRIPT_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


#: Framed by the app's own pages on purpose: the e-mail preview, shown in a sandboxed frame of the same origin.
FRAMED_BY_SELF = ("/anteprima",)


def header_problems(response) -> list[str]:
    """What is missing or weak in one answer's headers (and, for a page, scripts the policy would block)."""
    problems = []
    own_frame = response.status_code == 200 and response.request.path.endswith(FRAMED_BY_SELF)
    headers = response.headers
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options {headers.get('X-Content-Type-Options')!r}")
    csp = csp_directives(headers.get("Content-Security-Policy", ""))
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None:
        problems.append("no script-src nor default-src in the Content-Security-Policy")
    elif unsafe := [s for s in scripts if s in UNSAFE_SCRIPT_SOURCES]:
        problems.append(f"script-src allows {unsafe}")
    if csp.get("object-src", csp.get("default-src")) not in (["'none'"], ["'self'"]):
        problems.append("object-src is not restricted")
    if own_frame:
        if csp.get("frame-ancestors") != ["'self'"] or "sandbox" not in csp or csp.get("default-src") != ["'none'"]:
            problems.append("the preview frame is not limited to a sandboxed same-origin frame without sources")
    elif csp.get("frame-ancestors") != ["'none'"] and headers.get("X-Frame-Options") != "DENY":
        problems.append("the page may be framed (no frame-ancestors 'none' nor X-Frame-Options DENY)")
    if csp.get("base-uri") not in (["'self'"], ["'none'"]):
        problems.append("base-uri is not restricted")
    if headers.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin",
                                              "strict-origin-when-cross-origin"):
        problems.append(f"Referrer-Policy {headers.get('Referrer-Policy')!r}")
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        if INLINE_SCRIPT.search(html) or INLINE_HANDLER.search(html):
            problems.append("inline script or event handler, which the policy blocks")
    return problems


@pytest.mark.parametrize("role", ["anonymous", "entity", "facilitator", "staff"])
def test_every_answer_has_the_security_headers(app, client, world, role):
    sign_in_as(client, app, world, role)
    checked, wrong = 0, []
    urls = [url_of(app, world, endpoint) for endpoint, method in routes(app) if method == "GET"]
    urls += ["/non-esiste", "/assets/css/bootstrap-italia.min.css"]
    for url in urls:
        response = client.get(url)
        checked += 1
        wrong += [f"{url} ({response.status_code}): {problem}" for problem in header_problems(response)]
    assert checked > 40
    assert not wrong, "\n".join(wrong)


def test_refusals_and_errors_have_the_headers_too(app, client, world):
    for response in (client.get("/gestione/candidature"),  # redirect to sign in
                     client.post("/accedi", data={}),  # CSRF refusal
                     client.get("/incontri/999999"),
                     client.get("/elenco.json?area=Z")):
        assert header_problems(response) == [], response.request.path


def test_no_hsts_outside_production(client):
    """HSTS over plain HTTP on a laptop would stick in the browser for a year."""
    assert "Strict-Transport-Security" not in client.get("/health").headers


PRODUCTION_CHILD = """
import json
from scheduler import create_app
app = create_app()
client = app.test_client()
health = client.get("/health", base_url="https://tavoli.example.it")
login = client.get("/accedi", base_url="https://tavoli.example.it")
print(json.dumps({"config": app.config["CONFIG_NAME"], "status": health.status_code,
                  "hsts": health.headers.get("Strict-Transport-Security"),
                  "cookies": login.headers.getlist("Set-Cookie")}))
"""


def _run_production(database_url: str, tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("SECRET_KEY", "TAVOLI_CONFIG", "SESSION_COOKIE_SECURE")}
    environment.update({"TAVOLI_CONFIG": "production", "DATABASE_URL": database_url,
                        "TAVOLI_INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "WARNING", **env})
    return subprocess.run([sys.executable, "-c", PRODUCTION_CHILD], capture_output=True, text=True,
                          cwd=PROJECT_DIR, env=environment, timeout=60, check=False)


def test_production_sends_hsts_and_secure_cookies(database_url, _schema, tmp_path):
    child = _run_production(database_url, tmp_path, SECRET_KEY="a-long-random-production-secret-" * 2)
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["config"] == "production"
    assert result["status"] == 200
    max_age = int(re.search(r"max-age=(\d+)", result["hsts"]).group(1))
    assert max_age >= 180 * 24 * 3600
    session_cookie = next(c for c in result["cookies"] if c.startswith("session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie


def test_production_refuses_to_start_without_a_secret_key(database_url, _schema, tmp_path):
    child = _run_production(database_url, tmp_path)
    assert child.returncode != 0
    assert "SECRET_KEY must be set" in child.stderr
