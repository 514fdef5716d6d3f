"""Participation reports at /gestione/partecipazione: the numbers against a fixture of known attendance, the
filters (the comune + area question), CSV and XLSX exports, the certificate, writing to the absent, access."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from scheduler import timeutil
from scheduler.attendance.models import Attendance, AttendanceMethod
from scheduler.auth.models import Role
from scheduler.calendar.models import Meeting, MeetingStatus, Rsvp, RsvpStatus
from scheduler.calls.models import Comune
from scheduler.extensions import db
from scheduler.mailing.models import MailCategory, OutboxMessage
from scheduler.registry.models import Organization
from scheduler.reports import services
from scheduler.timeutil import local_instant
from tests.factories import make_entity, make_meeting, sign_in_with_link
from tests.queries import count_queries

STAFF = "ufficio@comune.crema.example.org"
PAGE = "/gestione/partecipazione"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
YES, NO = RsvpStatus.YES, RsvpStatus.NO


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """The suite's "today": 25 November 2026, so "this year" is 2026 whatever the machine's date."""
    monkeypatch.setattr(timeutil, "clock", lambda: NOW)


@pytest.fixture
def staff(app, crema, make_user, auth) -> int:
    user_id = make_user(STAFF)
    auth.login(STAFF)
    return user_id


def past_meeting(app, area: str, day: date, at: time = time(9, 30), *,
                 status: MeetingStatus = MeetingStatus.SCHEDULED) -> int:
    """A meeting of the area's implementation track on `day` (local time), three and a half hours long."""
    meeting_id = make_meeting(app, area=area)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        starts = local_instant(day, at)
        meeting.starts_at, meeting.ends_at, meeting.status = starts, starts + timedelta(hours=3.5), status
        db.session.commit()
    return meeting_id


def rsvp(meeting_id: int, org_id: int, status: RsvpStatus = YES) -> None:
    db.session.add(Rsvp(meeting_id=meeting_id, organization_id=org_id, status=status))


def present(meeting_id: int, org_id: int | None, method: AttendanceMethod = AttendanceMethod.HAND, *,
            name: str = "Persona", undone: bool = False, guest: str | None = None) -> None:
    db.session.add(Attendance(meeting_id=meeting_id, organization_id=org_id, person_name=name, method=method,
                              guest_organization=guest, undone_at=NOW if undone else None))


@pytest.fixture
def known(app, crema) -> dict:
    """Four entities, three meetings in 2026 (A in March, B in May and October), one in 2025, one cancelled,
    one still to come; the expected numbers are written in the tests next to the rows that make them."""
    e = {
        "uno": make_entity(app, "Ente Uno", areas=("A", "B"), comuni=("Crema",)),
        "due": make_entity(app, "Ente Due", areas=("B",), comuni=("Crema", "Offanengo")),
        "tre": make_entity(app, "Ente Tre", areas=("A",), comuni=("Offanengo",)),
        "quattro": make_entity(app, "Ente Quattro", areas=("B",), comuni=("Izano",)),
    }
    ids = {key: value["organization"] for key, value in e.items()}
    m = {
        "m1": past_meeting(app, "A", date(2026, 3, 10)),
        "m2": past_meeting(app, "B", date(2026, 5, 12)),
        "m3": past_meeting(app, "B", date(2026, 10, 6), time(14, 30)),
        "m0": past_meeting(app, "A", date(2025, 6, 10)),
        "cancelled": past_meeting(app, "B", date(2026, 4, 1), status=MeetingStatus.CANCELLED),
        "future": past_meeting(app, "B", date(2026, 12, 15)),
    }
    with app.app_context():
        # m1 (A): confirmed uno, tre; uno present with two people; tre's mark undone -> absent; one guest
        rsvp(m["m1"], ids["uno"])
        rsvp(m["m1"], ids["tre"])
        present(m["m1"], ids["uno"], AttendanceMethod.QR, name="Anna")
        present(m["m1"], ids["uno"], AttendanceMethod.HAND, name="Bruno")
        present(m["m1"], ids["tre"], AttendanceMethod.HAND, undone=True)
        present(m["m1"], None, AttendanceMethod.WALK_IN, name="Ospite", guest="Parrocchia")
        # m2 (B): confirmed uno, due, quattro; tre comes without answering (walk-in); quattro absent
        rsvp(m["m2"], ids["uno"])
        rsvp(m["m2"], ids["due"])
        rsvp(m["m2"], ids["quattro"])
        present(m["m2"], ids["uno"], AttendanceMethod.QR)
        present(m["m2"], ids["due"], AttendanceMethod.HAND)
        present(m["m2"], ids["tre"], AttendanceMethod.WALK_IN)
        # m3 (B): confirmed due, quattro; uno said no; two guests of unlisted bodies
        rsvp(m["m3"], ids["due"])
        rsvp(m["m3"], ids["quattro"])
        rsvp(m["m3"], ids["uno"], NO)
        present(m["m3"], ids["due"], AttendanceMethod.PAPER)
        present(m["m3"], None, AttendanceMethod.HAND, name="Ospite 1", guest="Comitato")
        present(m["m3"], None, AttendanceMethod.HAND, name="Ospite 2", guest="Comitato")
        # last year, cancelled and future meetings: never in 2026's numbers
        for key in ("m0", "cancelled", "future"):
            rsvp(m[key], ids["uno"])
            present(m[key], ids["uno"])
        db.session.commit()
        comuni = {c.name: c.id for c in db.session.scalars(sa.select(Comune))}
    return {"orgs": ids, "meetings": m, "entities": e, "comuni": comuni}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The cells' text of a table's body rows."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


# --- the numbers -----------------------------------------------------------------------------------------------


def test_the_service_counts_the_known_attendance(app, known):
    o = known["orgs"]
    with app.app_context():
        call = db.session.scalar(sa.select(services.Call))
        report = services.participation(call, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
        meetings = [(m.area_code, m.starts_at.date(), m.confirmed, m.present, m.absent, m.walk_ins)
                    for m in report.meetings]
        assert meetings == [
            ("A", date(2026, 3, 10), 2, 1, 1, 1),
            ("B", date(2026, 5, 12), 3, 3, 1, 1),
            ("B", date(2026, 10, 6), 2, 1, 1, 2),
        ]
        entities = {e.organization_id: e for e in report.entities}
        assert [e.name for e in report.entities] == ["Ente Due", "Ente Uno", "Ente Tre", "Ente Quattro"]
        uno, due, tre, quattro = (entities[o[k]] for k in ("uno", "due", "tre", "quattro"))
        assert (uno.attended, uno.confirmed, uno.absent, uno.possible, uno.attended_possible) == (2, 2, 0, 3, 2)
        assert round(uno.rate, 3) == 0.667
        assert uno.last_presence.date() == date(2026, 5, 12)
        assert sorted(uno.by_track.values()) == [1, 1]
        assert (due.attended, due.confirmed, due.absent, due.possible, due.rate) == (2, 2, 0, 2, 1.0)
        assert due.last_presence.date() == date(2026, 10, 6)
        # tre came to a B meeting, but is admitted in A only: its rate counts the A meeting it missed
        assert (tre.attended, tre.confirmed, tre.absent, tre.possible, tre.rate) == (1, 1, 1, 1, 0.0)
        assert (quattro.attended, quattro.absent, quattro.possible, quattro.rate, quattro.last_presence) == (
            0, 2, 2, 0.0, None)
        areas = {a.code: (a.meetings, a.confirmed, a.present, a.entities, a.absent, a.walk_ins) for a in report.areas}
        assert areas == {"A": (1, 2, 1, 1, 1, 1), "B": (2, 5, 4, 3, 2, 3), "C": (0,) * 6, "D": (0,) * 6}
        comuni = {c.name: (c.entities, c.presences, c.confirmed, c.absent) for c in report.comuni}
        assert comuni["Crema"] == (2, 4, 4, 0)
        assert comuni["Offanengo"] == (2, 3, 3, 1)
        assert comuni["Izano"] == (0, 0, 2, 2)
        assert comuni["Ripalta Cremasca"] == (0, 0, 0, 0)
        assert report.entities_present == 3


def test_the_page_shows_the_numbers_of_this_year_by_default(client, staff, known):
    response = client.get(PAGE)
    assert response.status_code == 200
    page = text(response)
    assert "3 incontri conclusi" in page and "3 enti presenti almeno una volta" in page
    meetings = table_rows(page, "table-incontri")
    assert [row[2:6] for row in meetings] == [["2", "1", "1", "1"], ["3", "3", "1", "1"], ["2", "1", "1", "2"]]
    assert meetings[0][0].startswith("martedì 10 marzo 2026")
    assert all("Scrivi agli assenti" in row[6] for row in meetings)
    entities = {row[0]: row for row in table_rows(page, "table-enti")}
    assert list(entities) == ["Ente Due", "Ente Uno", "Ente Tre", "Ente Quattro"]
    # columns: name, comuni, A track, B track, attended, absent, rate, last presence, certificate
    assert entities["Ente Uno"][2:8] == ["1", "1", "2", "0", "67% (2/3)", "martedì 12 maggio 2026"]
    assert entities["Ente Due"][1:8] == ["Crema, Offanengo", "0", "2", "2", "0", "100% (2/2)",
                                         "martedì 6 ottobre 2026"]
    assert entities["Ente Tre"][2:8] == ["0", "1", "1", "1", "0% (0/1)", "martedì 12 maggio 2026"]
    assert entities["Ente Quattro"][2:8] == ["0", "0", "0", "2", "0% (0/2)", "–"]
    assert "Attestato (PDF)" in entities["Ente Uno"][8] and "Attestato" not in entities["Ente Quattro"][8]
    areas = {row[0]: row[1:] for row in table_rows(page, "table-aree")}
    assert areas["A) Minori e Famiglia"] == ["1", "2", "1", "1", "1", "1"]
    assert [v for k, v in areas.items() if k.startswith("B)")] == [["2", "5", "4", "3", "2", "3"]]
    comuni = {row[0]: row[1:] for row in table_rows(page, "table-comuni")}
    assert comuni["Crema"] == ["2", "4", "4", "0"]
    assert comuni["Offanengo"] == ["2", "3", "3", "1"]
    assert comuni["Izano"] == ["0", "0", "2", "2"]
    # the charts are images with a title, and the same numbers are in the tables
    assert page.count('role="img"') == 3
    assert "<title id=\"chart-meetings-title\">" in page


def test_period_quick_links(client, staff, known):
    page = text(client.get(PAGE))
    last_year = re.search(r'href="([^"]+)">Anno scorso<', page).group(1)
    everything = re.search(r'href="([^"]+)">Tutto<', page).group(1)
    assert "dal=2025-01-01" in last_year and "al=2025-12-31" in last_year
    old = text(client.get(html.unescape(last_year)))
    assert [row[2:6] for row in table_rows(old, "table-incontri")] == [["1", "1", "0", "0"]]
    assert [row[0] for row in table_rows(old, "table-enti")] == ["Ente Uno", "Ente Tre"]
    all_time = text(client.get(html.unescape(everything)))
    # the call's twelve meetings of 2024 and the four of the fixture; never the cancelled nor the future one
    assert len(table_rows(all_time, "table-incontri")) == 12 + 4
    assert "mercoledì 1 aprile 2026" not in all_time and "15 dicembre 2026" not in all_time
    assert "Tutto il periodo" in all_time
    # a hand-typed date that cannot be read is ignored, never an error
    response = client.get(PAGE + "?dal=31-02-2026&area=Z")
    assert response.status_code == 200
    assert "sono stati ignorati" in text(response)


def test_which_entities_of_a_comune_took_part_in_an_area_this_year_in_two_clicks(client, staff, known):
    page = client.get(PAGE).get_data(as_text=True)
    first = re.search(r'<tr data-comune="\d+">\s*<th[^>]*><a href="([^"]+)">Offanengo</a>', page).group(1)
    page = client.get(html.unescape(first)).get_data(as_text=True)
    second = re.search(r'<tr data-area="B">\s*<th[^>]*><a href="([^"]+)">', page).group(1)
    assert f"comune={known['comuni']['Offanengo']}" in second and "area=B" in second
    page = text(client.get(html.unescape(second)))
    assert "enti del comune di Offanengo" in page
    entities = [(row[0], row[3]) for row in table_rows(page, "table-enti")]
    # columns with one track (B): name, comuni, B, attended...
    assert entities == [("Ente Due", "2"), ("Ente Tre", "1")]
    # the meetings count only Offanengo's entities: guests have no comune
    assert [row[2:6] for row in table_rows(page, "table-incontri")] == [["1", "2", "0", "1"], ["1", "1", "0", "0"]]


# --- exports ---------------------------------------------------------------------------------------------------


def test_csv_exports_have_the_page_numbers(client, staff, known):
    response = client.get(PAGE + "/enti.csv?dal=2026-01-01&al=2026-12-31")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Ente" and rows[0][-2:] == ["Tasso di partecipazione (%)", "Ultima presenza"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Ente Uno"][1:] == ["Crema", "1", "1", "2", "2", "0", "3", "66,7", "12/05/2026"]
    assert by_name["Ente Quattro"][-5:] == ["2", "2", "2", "0,0", ""]

    rows = list(csv.reader(io.StringIO(client.get(PAGE + "/incontri.csv").get_data().decode("utf-8-sig")),
                           delimiter=";"))
    assert [row[0:3] + row[5:] for row in rows[1:]] == [
        ["10/03/2026", "09:30", "A", "2", "1", "1", "1"],
        ["12/05/2026", "09:30", "B", "3", "3", "1", "1"],
        ["06/10/2026", "14:30", "B", "2", "1", "1", "2"],
    ]
    rows = list(csv.reader(io.StringIO(client.get(PAGE + "/aree.csv").get_data().decode("utf-8-sig")),
                           delimiter=";"))
    assert rows[1] == ["A", "Minori e Famiglia", "1", "2", "1", "1", "1", "1"]
    rows = list(csv.reader(io.StringIO(client.get(PAGE + "/comuni.csv?comune=" + str(known["comuni"]["Izano"]))
                                       .get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[1:] == [["Izano", "0", "0", "2", "2"]]
    assert client.get(PAGE + "/altro.csv").status_code == 404


def test_csv_neutralises_formulas(client, staff, known, app):
    with app.app_context():
        db.session.get(Organization, known["orgs"]["uno"]).name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    body = client.get(PAGE + "/enti.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in body
    assert "\n=HYPERLINK" not in body


def test_xlsx_exports_have_the_page_numbers(client, staff, known):
    from openpyxl import load_workbook

    response = client.get(PAGE + "/incontri.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.title == "Incontri"
    rows = list(sheet.values)
    assert rows[0][0] == "Data" and all(cell.font.bold for cell in sheet[1])
    assert rows[1][0] == datetime(2026, 3, 10)  # a real date, not text
    assert sheet.cell(2, 1).is_date
    assert [row[5:] for row in rows[1:]] == [(2, 1, 1, 1), (3, 3, 1, 1), (2, 1, 1, 2)]

    sheet = load_workbook(io.BytesIO(client.get(PAGE + "/enti.xlsx").get_data())).active
    by_name = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert by_name["Ente Due"][1:] == ("Crema, Offanengo", 0, 2, 2, 2, 0, 2, 100, datetime(2026, 10, 6))
    sheet = load_workbook(io.BytesIO(client.get(PAGE + "/comuni.xlsx").get_data())).active
    assert ("Offanengo", 2, 3, 3, 1) in list(sheet.values)

    workbook = load_workbook(io.BytesIO(client.get(PAGE + "/tutto.xlsx?area=A").get_data()))
    assert workbook.sheetnames == ["Incontri", "Enti", "Aree", "Comuni"]
    assert list(workbook["Aree"].values)[1:] == [("A", "Minori e Famiglia", 1, 2, 1, 1, 1, 1)]
    assert [row[0] for row in workbook["Enti"].iter_rows(min_row=2, values_only=True)] == ["Ente Uno", "Ente Tre"]
    assert client.get(PAGE + "/tutto.csv").status_code == 404


# --- certificate -----------------------------------------------------------------------------------------------


def test_certificate_lists_the_meetings_attended_in_the_period(client, staff, known):
    from pypdf import PdfReader

    response = client.get(f"{PAGE}/enti/{known['orgs']['uno']}/attestato.pdf?dal=2026-01-01&al=2026-12-31")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 1
    content = " ".join(reader.pages[0].extract_text().split())
    assert "Attestato di partecipazione" in content
    assert "Ente Uno" in content and "Comune di Crema" in content
    assert "dal 1 gennaio 2026 al 31 dicembre 2026" in content
    assert "martedì 10 marzo 2026" in content and "martedì 12 maggio 2026" in content
    assert "2025" not in content.split("Percorso", 1)[1].split("Crema, ")[0]  # not last year's meeting
    assert "a 2 incontri" in content
    assert "Crema, 25 novembre 2026" in content


def test_certificate_of_an_unknown_entity_is_404(client, staff, known):
    assert client.get(f"{PAGE}/enti/99999/attestato.pdf").status_code == 404
    assert client.get(f"{PAGE}/enti/{known['orgs']['uno']}/attestato.pdf?dal=ieri").status_code == 400


# --- writing to the absent -------------------------------------------------------------------------------------


def outbox(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(m.to_address, m.topic, m.category) for m in db.session.scalars(
            sa.select(OutboxMessage).order_by(OutboxMessage.to_address))]


def test_staff_write_to_the_entities_absent_without_notice(client, staff, known, app):
    meeting = known["meetings"]["m1"]
    url = f"{PAGE}/incontri/{meeting}/assenti"
    page = client.get(url)
    assert page.status_code == 200
    form = text(page)
    assert "Ente Tre" in form and "Ente Uno" not in form  # uno was present
    assert "martedì 10 marzo 2026" in form
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    subject = re.search(r'id="subject"[^>]*value="([^"]+)"', form).group(1)
    assert "10 marzo 2026" in html.unescape(subject)
    # without CSRF nothing is queued
    assert client.post(url, data={"subject": "x", "text": "y"}).status_code == 400
    assert outbox(app) == []
    # an empty text is refused with a message
    response = client.post(url, data={"csrf_token": csrf, "subject": "Assenza", "text": ""})
    assert response.status_code == 400 and "Scrivi il testo del messaggio." in text(response)
    response = client.post(url, data={"csrf_token": csrf, "subject": "Assenza", "text": "Vi aspettiamo."},
                           follow_redirects=True)
    assert "Messaggio in coda per 1 enti" in text(response)
    assert outbox(app) == [(known["entities"]["tre"]["email"], "absent-notice", MailCategory.OPTIONAL)]
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage))
        assert message.subject == "Assenza" and message.to_name == "Ente Tre"
        assert message.body_text.startswith("Vi aspettiamo.\n")
        assert "Disiscriviti: " in message.body_text and "List-Unsubscribe" in message.headers  # optional mail
        assert "<p>Vi aspettiamo.</p>" in message.body_html and "Comune di Crema" in message.body_html
    # sending again writes to nobody twice
    form = text(client.get(url))
    assert "Hanno già ricevuto un messaggio" in form and 'id="recipients"' not in form
    response = client.post(url, data={"csrf_token": csrf, "subject": "Assenza", "text": "Di nuovo."},
                           follow_redirects=True)
    assert "Messaggio in coda per 0 enti" in text(response)
    assert len(outbox(app)) == 1


def test_the_absent_get_one_message_each_and_shared_addresses_one(client, staff, known, app):
    meeting = known["meetings"]["m2"]
    with app.app_context():  # a fifth entity, absent, with the same address as quattro
        extra = make_entity(app, "Ente Cinque", areas=("B",), comuni=("Crema",),
                            email=known["entities"]["quattro"]["email"].upper())
    with app.app_context():
        rsvp(meeting, extra["organization"])
        db.session.commit()
    url = f"{PAGE}/incontri/{meeting}/assenti"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
    response = client.post(url, data={"csrf_token": csrf, "subject": "Assenza", "text": "Testo"})
    assert response.status_code == 303
    assert [to.lower() for to, _, _ in outbox(app)] == [known["entities"]["quattro"]["email"]]


def test_writing_to_the_absent_of_an_unknown_or_future_meeting_is_404(client, staff, known):
    assert client.get(f"{PAGE}/incontri/99999/assenti").status_code == 404
    assert client.get(f"{PAGE}/incontri/{known['meetings']['future']}/assenti").status_code == 404


# --- access ----------------------------------------------------------------------------------------------------


def urls(known) -> list[str]:
    return [PAGE, PAGE + "/enti.csv", PAGE + "/aree.xlsx", f"{PAGE}/enti/{known['orgs']['uno']}/attestato.pdf",
            f"{PAGE}/incontri/{known['meetings']['m1']}/assenti"]


def test_anonymous_visitors_are_sent_to_sign_in(client, known):
    for url in urls(known):
        response = client.get(url)
        assert response.status_code == 302 and "/accedi" in response.headers["Location"], url
    assert client.post(f"{PAGE}/incontri/{known['meetings']['m1']}/assenti").status_code in (302, 400)


@pytest.mark.parametrize("who", ["entity", "facilitator"])
def test_entities_and_facilitators_are_refused(client, app, known, make_user, auth, who):
    if who == "entity":
        sign_in_with_link(client, app, known["entities"]["uno"]["user"])
    else:
        make_user("facilitatore@example.org", role=Role.FACILITATOR)
        auth.login("facilitatore@example.org")
    for url in urls(known):
        assert client.get(url).status_code == 403, url


# --- speed -----------------------------------------------------------------------------------------------------




def test_the_report_runs_a_constant_number_of_queries(client, staff, known, app):
    def measure() -> int:
        client.get(PAGE)
        with count_queries(app) as statements:
            response = client.get(PAGE + "?periodo=tutto")
        assert response.status_code == 200
        return len(statements)

    few = measure()
    for n in range(6):
        meeting = past_meeting(app, "ABCD"[n % 4], date(2026, 2, 1) + timedelta(days=7 * n))
        org = make_entity(app, f"Ente Aggiunto {n}", areas=("A", "B", "C", "D"), comuni=("Crema", "Izano"))
        with app.app_context():
            rsvp(meeting, org["organization"])
            rsvp(meeting, known["orgs"]["due"])
            present(meeting, org["organization"])
            present(meeting, None, AttendanceMethod.WALK_IN)
            db.session.commit()
    many = measure()
    assert many == few, f"{few} queries before, {many} with six more meetings and entities"
    with app.app_context():
        call = db.session.scalar(sa.select(services.Call))
        with count_queries(app) as statements:
            services.participation(call, date_from=None, date_to=None)
        assert len(statements) == 8
