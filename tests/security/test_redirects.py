"""No open redirect: after signing in or switching language, the browser stays on this site."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest

from scheduler.auth.models import Role
from tests.factories import csrf_from
from tests.security.conftest import PASSWORD, STAFF_EMAIL

SITE = "http://localhost/"
HOSTILE = ["//evil.example/", "/\\evil.example", "/\\/evil.example", "\\\\evil.example", "https://evil.example/",
           "http:evil.example", "/\t/evil.example", "//evil.example@localhost/", "javascript:alert(1)",
           "/%5Cevil.example", " //evil.example"]


def where_a_browser_goes(location: str) -> str:
    """The host a browser opens for this Location: browsers read a backslash as a slash and drop tabs."""
    cleaned = location.replace("\\", "/").replace("\t", "").replace("\n", "").strip()
    return urlsplit(urljoin(SITE, cleaned)).netloc


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_never_sends_to_another_site(app, client, make_user, target):
    make_user(STAFF_EMAIL, role=Role.STAFF)
    response = client.post("/accedi", data={"email": STAFF_EMAIL, "password": PASSWORD, "next": target,
                                            "csrf_token": csrf_from(client, "/accedi")})
    assert response.status_code == 302
    assert where_a_browser_goes(response.headers["Location"]) == "localhost"


@pytest.mark.parametrize("target", HOSTILE)
def test_the_language_switch_never_sends_to_another_site(client, crema, target):
    response = client.post("/lingua", data={"lang": "en", "next": target, "csrf_token": csrf_from(client, "/")})
    assert response.status_code == 302
    assert where_a_browser_goes(response.headers["Location"]) == "localhost", response.headers["Location"]


def test_the_language_switch_on_a_crafted_address_stays_on_the_site(client, crema):
    """A link to /%5Cevil.example shows the 404 page, whose language form carries the path back."""
    page = client.get("/%5Cevil.example")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    next_value = unescape(re.search(r'name="next" value="([^"]*)"', html).group(1))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/lingua", data={"lang": "en", "next": next_value, "csrf_token": token})
    assert where_a_browser_goes(response.headers["Location"]) == "localhost", response.headers["Location"]
