"""`flask demo` (what `make run` runs) also opens a second sample Ambito on its own host name, esempio.localhost,
with its sample call and an office account: one installation, two Ambiti, each with its own pages and staff."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from scheduler.calls.models import Ambito, Call
from scheduler.demo import SAMPLE_AMBITO_STAFF
from scheduler.extensions import db

LINE = re.compile(r"Secondo Ambito di esempio: (.+), su (http://\S+) ; il suo ufficio: (\S+) / (\S+)  \((\S+)\)")
HOST = "http://esempio.localhost"


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    app.instance_path = str(tmp_path)
    for name in ("HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_demo_opens_a_second_ambito_with_its_call_and_office(app, crema, runner, instance):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    line = LINE.search(first.output)
    assert line, first.output
    assert line.group(1) == "Ambito territoriale di esempio"
    assert line.group(2) == "http://esempio.localhost:5000/"
    assert line.group(3) == SAMPLE_AMBITO_STAFF[0]
    password = line.group(4)
    again = LINE.search(runner.invoke(args=["demo"]).output)
    assert again and again.group(4) == password  # run again: the same account, nothing new
    with app.app_context():
        ambito = db.session.scalar(sa.select(Ambito).where(Ambito.slug == "esempio"))
        assert (ambito.host, ambito.is_default) == ("esempio.localhost", False)
        assert [c.slug for c in db.session.scalars(sa.select(Call).where(Call.ambito_id == ambito.id))] == [
            "esempio-2027-2029"]
    client = app.test_client()
    home = client.get("/", base_url=HOST).get_data(as_text=True)
    assert "Ambito territoriale di esempio" in home and "Piano di Zona 2027-2029" in home
    assert "Ambito territoriale di Crema" in client.get("/").get_data(as_text=True)
    signed = client.post("/accedi", base_url=HOST, data={
        "email": SAMPLE_AMBITO_STAFF[0], "password": password,
        "csrf_token": _csrf(client)})
    assert signed.status_code == 302
    assert "esempio-2027-2029" in client.get("/gestione/avvisi", base_url=HOST).get_data(as_text=True)


def _csrf(client) -> str:
    page = client.get("/accedi", base_url=HOST).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
