"""Hostile input to every form, for every role: never a server error, never a script echoed back, and never a
change to another entity's data.

Each role's pages are listed in PAGES (staff pages are also found by following the links of the staff's pages,
so a new page under /gestione is covered without an entry). The forms of each page are read from its HTML (the
CSRF token kept, as a browser would) and posted with values a careless or malicious person could send: very
long text, right-to-left text and emoji, control characters and NUL, SQL and script payloads, spreadsheet
formulas, wrong types in number and date fields, and the ids of another entity's objects.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import openpyxl
import pytest
import sqlalchemy as sa

from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting
from scheduler.extensions import db, limiter
from scheduler.mailing.models import OutboxMessage
from scheduler.registry.models import Organization
from tests.factories import codice_fiscale, make_entity, make_meeting, sign_in_with_link

PASSWORD = "password-di-prova-1"
SCRIPT = "<script>alert('tavoli')</script>"
HOSTILE = {
    "long": "Associazione " + "A" * 20_000,
    "long-unicode": "Cooperativa “Il Ponte” – àèìòù € " * 400,
    "rtl-emoji": "\u202eجمعية الأمل\u202c 👩‍👩‍👧 🏳️‍🌈 \u200f עמותה",
    "control": "Ente\x00con\x01caratteri\x08di\x1bcontrollo\x7f\r\n\ttab",
    "nul-only": "\x00",
    "sql": "'; DROP TABLE organizations; -- \" OR 1=1 --",
    "script": SCRIPT,
    "attribute": '" onmouseover="alert(1)" x="',
    "formula": "=cmd|' /C calc'!A0",
    "formula-plus": "+SUM(1+1)*cmd|' /C calc'!A0",
    "path": "../../../../etc/passwd",
    "huge-number": "99999999999999999999999999999",
    "negative": "-1",
    "float": "1e309",
    "nan": "NaN",
    "abc": "abc",
    "empty": "",
    "spaces": "   ",
    "bad-date": "2024-02-30",
    "bad-time": "25:61",
    "format": "%s%s%n{0}{{7*7}}",
}
#: Values posted in every field at once (types and sizes), and in the text fields only, the others plausible.
EVERY_FIELD = ["long", "rtl-emoji", "control", "nul-only", "script", "abc", "huge-number", "negative", "float",
               "nan", "empty", "bad-date", "bad-time"]
TEXT_FIELDS = ["long", "long-unicode", "rtl-emoji", "control", "nul-only", "sql", "attribute", "formula",
               "formula-plus", "path", "spaces", "script", "format"]
#: How a cell starts when a spreadsheet would run it (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "@")
#: Hostile values looked for in the database afterwards.
MARKERS = [SCRIPT, HOSTILE["sql"], HOSTILE["formula"], HOSTILE["format"]]
#: Plausible values, so that the hostile value of one field reaches the code behind the form's validation.
PLAUSIBLE = {
    "email": "fuzz@example.org",
    "number": "2",
    "date": "2030-05-15",
    "time": "10:00",
    "datetime-local": "2030-05-15T10:00",
    "tel": "0373 000000",
    "url": "https://www.esempio.it",
    "password": "password-di-prova-2",
}
#: Forms posted last, since they end the session or take the entity's own application away.
LAST = ("/esci", "/ritira", "/cancellazione")
#: Links the staff crawl does not follow for forms, but fetches after the fuzzing: files made from stored data.
DOWNLOADS = re.compile(r"\.(csv|xlsx|pdf|eml|ics|json)$")


# --- reading forms ---------------------------------------------------------------------------------------------

@dataclass
class Field:
    name: str
    kind: str
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)

    @property
    def csrf(self) -> str | None:
        return next((f.value for f in self.fields if f.name == "csrf_token"), None)


class FormParser(HTMLParser):
    """The forms and links of a page, read as a browser would, with the standard library."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page, a["href"]))
        elif tag == "form":
            action = urljoin(self.page, a.get("action") or self.page)
            self._form = Form(self.page, action, a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset") and not a.get("name"):
                return
            self._form.fields.append(Field(a["name"], kind, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._form.fields.append(Field(a["name"], "textarea"))
        elif tag == "select":
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "button":
            self._form.fields.append(Field(a["name"], "submit", a.get("value", "")))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def read_page(client, path: str) -> tuple[int, FormParser]:
    response = client.get(path, follow_redirects=True)
    parser = FormParser(urljoin("http://localhost", urlsplit(response.request.url).path))
    if response.status_code == 200 and response.mimetype == "text/html":
        parser.feed(response.get_data(as_text=True))
    return response.status_code, parser


# --- building hostile submissions ------------------------------------------------------------------------------

SERIAL = itertools.count(1)
#: Plausible values by field name, where the kind of field says too little (a codice fiscale is a text field).
BY_NAME = {"codice_fiscale": lambda: codice_fiscale(), "partita_iva": lambda: "", "website": lambda: "",
           "map_url": lambda: "", "received_on": lambda: "2024-04-30"}


def plausible(field_: Field) -> str | tuple:
    if field_.name in BY_NAME:
        return BY_NAME[field_.name]()
    if field_.kind == "select":
        real = [o for o in field_.options if o]
        return real[-1] if real else ""
    if field_.kind == "file":
        return (io.BytesIO(b"%PDF-1.4\n%fuzz\n"), "foglio.pdf")
    if field_.kind in ("hidden", "checkbox", "radio", "submit"):
        return field_.value
    if field_.kind == "email":  # addresses are unique per entity
        return f"fuzz{next(SERIAL)}@example.org"
    return PLAUSIBLE.get(field_.kind, "Testo di prova")


def submissions(form: Form, forged_ids: list[str]) -> list[tuple[str, dict]]:
    """(label, data) pairs: every field hostile; one kind of field hostile at a time; ids of others' objects."""
    fields = [f for f in form.fields if f.name != "csrf_token"]
    out: list[tuple[str, dict]] = [("missing-fields", {})]

    def base() -> dict:
        data: dict = {}
        for f in fields:
            if f.kind == "radio" and f.name in data:
                continue
            data[f.name] = plausible(f)
        return data

    out.append(("plausible", base()))
    typed = base()
    for f in fields:
        if f.kind in ("number", "date", "time", "datetime-local", "select", "checkbox", "radio", "hidden"):
            typed[f.name] = HOSTILE["abc"]
    out.append(("wrong-types", typed))
    many = {f.name: [HOSTILE["script"], HOSTILE["sql"], "1"] for f in fields if f.kind != "file"}
    out.append(("repeated-values", many))
    numeric = [f for f in fields if f.kind in ("hidden", "select", "radio", "checkbox", "number")]
    for forged in forged_ids:
        data = base()
        for f in numeric:
            data[f.name] = forged
        out.append((f"forged-{forged}", data))
    # last, so that what an accepted hostile value replaced in place stays for the checks that follow
    for label in EVERY_FIELD:
        out.append((f"all-{label}", {f.name: HOSTILE[label] for f in fields if f.kind != "file"}))
    for label in TEXT_FIELDS:
        texts = base()
        for f in fields:
            if f.kind in ("text", "textarea", "search") and f.name not in BY_NAME:
                texts[f.name] = HOSTILE[label]
        out.append((f"text-{label}", texts))
    return out


def forged_actions(action: str, forged_ids: list[str]) -> list[str]:
    """The same action with each number in its path replaced by the id of another entity's object."""
    path = urlsplit(action).path
    if not re.search(r"/\d+(/|$)", path):
        return []
    return sorted({re.sub(r"/\d+(?=/|$)", f"/{forged}", path) for forged in forged_ids} - {path})


# --- the world the forms are posted into ------------------------------------------------------------------------

@pytest.fixture
def world(app, crema, make_user):
    """Two entities (ours and another) and one with a hostile name, meetings of two areas with a facilitator each,
    staff and a mail."""
    from scheduler.calendar.services import answer

    mine = make_entity(app, "Associazione Nostra", areas=("A",))
    other = make_entity(app, "Cooperativa Altrui", areas=("A", "B"))
    make_entity(app, f"{HOSTILE['formula']} {SCRIPT}", areas=("C",))  # shown on every list and in every export
    meeting = make_meeting(app, area="A", venue=True, capacity=5)
    other_meeting = make_meeting(app, area="B", venue=True, days_ahead=12)
    staff = make_user("staff@example.org", role=Role.STAFF)
    facilitator = make_user("facilitatrice@example.org", role=Role.FACILITATOR)
    other_facilitator = make_user("altro.facilitatore@example.org", role=Role.FACILITATOR)
    with app.app_context():
        m = db.session.get(Meeting, meeting)
        om = db.session.get(Meeting, other_meeting)
        m.track.facilitators.append(db.session.get(User, facilitator))
        om.track.facilitators.append(db.session.get(User, other_facilitator))
        my_rsvp = answer(m, db.session.get(Organization, mine["organization"]), db.session.get(User, mine["user"]),
                         True, [{"name": "Sara Galli", "role": "Coordinatrice"}])
        other_rsvp = answer(om, db.session.get(Organization, other["organization"]),
                            db.session.get(User, other["user"]), True, [{"name": "Luca Neri", "role": "Presidente"}])
        db.session.commit()
        message = db.session.scalar(sa.select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))
        return {
            "mine": mine, "other": other, "meeting": meeting, "other_meeting": other_meeting,
            "track": m.track_id, "other_track": om.track_id, "venue": m.venue_id, "message": message,
            "my_rsvp": my_rsvp.id, "other_rsvp": other_rsvp.id, "my_code": my_rsvp.checkin_code,
            "other_code": other_rsvp.checkin_code, "staff": staff, "facilitator": facilitator,
        }


def other_entity_rows(app, world, role: str) -> dict[str, list[tuple]]:
    """Every row that belongs to the other entity, in every table: its organisation, application, contacts,
    users, answers, attendance, events... found by the columns that point at them. A facilitator may add any
    entity as a walk-in to their own meeting: rows of that meeting are left out for them."""
    other = world["other"]
    with app.app_context():
        owned = {
            "organization_id": {other["organization"]},
            "application_id": {other["application"]},
            "user_id": {other["user"]},
            "rsvp_id": {world["other_rsvp"]},
        }
        own_table = {"organizations": "organization_id", "applications": "application_id", "users": "user_id",
                     "rsvps": "rsvp_id"}
        rows: dict[str, list[tuple]] = {}
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                conditions = [table.c[name].in_(ids) for name, ids in owned.items() if name in table.c]
                if table.name in own_table:
                    conditions.append(table.c.id.in_(owned[own_table[table.name]]))
                if not conditions:
                    continue
                query = sa.select(table).where(sa.or_(*conditions)).order_by(*table.primary_key.columns)
                if role == "facilitator" and "meeting_id" in table.c:
                    query = query.where(table.c.meeting_id != world["meeting"])
                rows[table.name] = [tuple(map(repr, row)) for row in conn.execute(query)]
        assert rows["organizations"] and rows["applications"] and rows["rsvps"]
        return rows


def tables_holding(app, texts: list[str]) -> set[str]:
    """The tables with a text column holding one of `texts`: where hostile values were stored."""
    found = set()
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            columns = [c if isinstance(c.type, sa.String) else sa.cast(c, sa.Text) for c in table.columns
                       if isinstance(c.type, sa.String | sa.JSON) and not isinstance(c.type, sa.Enum)]
            if columns and conn.scalar(sa.select(sa.func.count()).select_from(table).where(
                sa.or_(*(c.contains(text, autoescape=True) for c in columns for text in texts))
            )):
                found.add(table.name)
    return found


def forged_ids_of(world) -> list[str]:
    other = world["other"]
    return sorted({str(other["organization"]), str(other["application"]), str(other["user"]),
                   str(world["other_rsvp"]), str(world["other_meeting"]), "0", "999999"})


# --- each role's pages -----------------------------------------------------------------------------------------

PUBLIC = ["/", "/candidatura", "/accedi", "/elenco", "/calendario", "/incontri/{meeting}", "/privacy"]
PAGES = {
    "anonymous": [*PUBLIC, "/candidatura/inviata", "/presenze/{meeting}/codice/{my_code}"],
    # answers first: an edited application goes back to review, and then the entity may no longer answer
    "entity": ["/incontri/{meeting}/adesione", "/incontri/{other_meeting}/adesione", *PUBLIC, "/area-riservata",
               "/area-riservata/modifica"],
    "facilitator": ["/", "/presenze", "/presenze/{meeting}", "/presenze/{meeting}/codice/{my_code}",
                    "/presenze/{other_meeting}", "/presenze/{meeting}/codice/{other_code}"],
    "staff": [
        "/", "/gestione/candidature", "/gestione/candidature/{other_app}", "/gestione/candidature/nuova",
        "/gestione/calendario", "/gestione/calendario/incontri/{meeting}",
        "/gestione/calendario/percorsi/{track}/incontri/nuovo", "/gestione/calendario/percorsi/{track}/facilitatori",
        "/gestione/calendario/sedi", "/gestione/calendario/sedi/nuova", "/gestione/calendario/sedi/{venue}",
        "/gestione/presenze/{meeting}", "/gestione/presenze/{meeting}/cartaceo",
        "/gestione/partecipazione", "/gestione/partecipazione/incontri/{meeting}/assenti",
        "/gestione/posta", "/gestione/posta/{message}", "/presenze/{meeting}",
    ],
}
#: Forms each role must find (a sign that the pages were read as the role and not as an error page).
EXPECTED_ACTIONS = {
    "anonymous": ["/candidatura", "/accedi", "/accedi/link"],
    "entity": ["/incontri/{meeting}/adesione", "/area-riservata/modifica", "/area-riservata/calendario"],
    "facilitator": ["/presenze/{meeting}/segna", "/presenze/{meeting}/chiudi"],
    "staff": ["/gestione/candidature/{other_app}/rifiuta", "/gestione/calendario/sedi/nuova",
              "/gestione/calendario/incontri/{meeting}"],
}
#: Where each role's hostile text is stored when a form accepts it (a sign the fuzzing got past validation).
STORED_IN = {"anonymous": {"organizations", "contacts", "application_areas"}, "entity": {"rsvps"},
             "facilitator": {"attendances"}, "staff": {"venues", "attendances"}}
#: What another entity's rows must survive: everything, except for staff, whose job is to change them.
PROTECTS_OTHERS = {"anonymous": True, "entity": True, "facilitator": True, "staff": False}


def fill(path: str, world) -> str:
    return path.format(
        meeting=world["meeting"], other_meeting=world["other_meeting"], track=world["track"], venue=world["venue"],
        message=world["message"], my_code=world["my_code"], other_code=world["other_code"],
        other_app=world["other"]["application"],
    )


def sign_in(role: str, client, app, auth, world) -> None:
    if role == "entity":
        # the entity's active account: an accepted edit may have replaced the contact (retiring its account)
        with app.app_context():
            user_id = db.session.scalar(sa.select(User.id).where(
                User.organizations.any(id=world["mine"]["organization"]), User.active.is_(True)).order_by(User.id))
        assert sign_in_with_link(client, app, user_id).status_code == 302
    elif role in ("staff", "facilitator"):
        email = "staff@example.org" if role == "staff" else "facilitatrice@example.org"
        assert auth.login(email, PASSWORD).status_code == 302


def shape(url: str) -> str:
    """A page's kind: its path with numbers as #, and the names of its query's parameters."""
    parts = urlsplit(url)
    keys = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return re.sub(r"\d+", "#", parts.path) + "?" + "&".join(keys)


def staff_pages(client, start: list[str], limit: int = 60, downloads: list[str] | None = None) -> list[str]:
    """The listed staff pages and every kind of page under /gestione or /presenze linked from them, two links
    deep (one page of each kind: the meetings of the calendar share one form). Links to files (PDF, CSV...)
    are not followed but added to `downloads`."""
    seen: list[str] = []
    shapes: set[str] = set()
    frontier = list(start)
    for _depth in range(3):
        following: list[str] = []
        for path in frontier:
            if shape(path) in shapes or len(seen) >= limit:
                continue
            shapes.add(shape(path))
            seen.append(path)
            _status, parser = read_page(client, path)
            for link in parser.links:
                parts = urlsplit(link)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if parts.netloc != "localhost" or not parts.path.startswith(("/gestione", "/presenze")):
                    continue
                if not DOWNLOADS.search(parts.path):
                    following.append(target)
                elif downloads is not None and shape(target) not in {shape(d) for d in downloads}:
                    downloads.append(target)
        frontier = following
    return seen


class Fuzzer:
    def __init__(self, app, client, role: str, world) -> None:
        self.app = app
        self.stored: set[str] = set()
        self.exported_formulas = 0  # cells of CSV files holding a hostile formula (neutralised, one hopes)
        self.client = client
        self.role = role
        self.world = world
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.actions: set[str] = set()
        self.requests = 0

    def check(self, response, what: str) -> None:
        self.requests += 1
        for step in [*response.history, response]:
            self.statuses[step.status_code] += 1
            if step.status_code >= 500:
                self.failures.append(f"{step.status_code} {what} -> {step.request.path}")
        body = response.get_data()
        if SCRIPT.encode() in body and response.mimetype in ("text/html", "application/xhtml+xml"):
            self.failures.append(f"script echoed unescaped: {what} -> {response.request.path}")
        if response.status_code == 200 and response.mimetype == "text/csv":
            text = body.decode("utf-8-sig")
            dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,")
            cells = [cell for row in csv.reader(io.StringIO(text), dialect) for cell in row]
            formulas = [cell[:40] for cell in cells if cell.startswith(FORMULA_STARTS)]
            self.exported_formulas += sum("cmd|" in cell for cell in cells)
            if formulas:
                self.failures.append(f"spreadsheet formulas in {response.request.path}: {formulas[:3]}")
        if response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet"):
            workbook = openpyxl.load_workbook(io.BytesIO(body))
            formulas = [c.coordinate for ws in workbook for row in ws.iter_rows() for c in row if c.data_type == "f"]
            if formulas:
                self.failures.append(f"spreadsheet formulas in {response.request.path}: {formulas[:3]}")

    def post(self, form: Form, action: str, label: str, data: dict, json: bool = False) -> None:
        payload = dict(data)
        if form.csrf:
            payload["csrf_token"] = form.csrf
        for key, value in payload.items():  # files are consumed by each request: fresh ones every time
            if isinstance(value, tuple):
                payload[key] = (io.BytesIO(value[0].getvalue()), value[1])
        headers = {"Accept": "application/json", "X-CSRFToken": form.csrf or ""} if json else {}
        response = self.client.post(action, data=payload, headers=headers, follow_redirects=True,
                                    content_type="multipart/form-data")
        self.check(response, f"POST {action} [{label}]" + (" json" if json else ""))

    def get(self, path: str, query: dict | None = None, label: str = "") -> None:
        response = self.client.get(path, query_string=query, follow_redirects=True)
        self.check(response, f"GET {path} [{label}]")

    def fuzz_form(self, form: Form) -> None:
        forged = forged_ids_of(self.world)
        action = urlsplit(form.action).path
        self.actions.add(action)
        if form.method == "get":
            for label, data in submissions(form, forged):
                self.get(action, {k: v for k, v in data.items() if not isinstance(v, tuple)}, label)
            return
        self.post(form, action, "json", dict(submissions(form, forged)[1][1]), json=True)
        if self.role != "staff":
            for forged_action in forged_actions(action, forged):
                self.post(form, forged_action, "forged-url", submissions(form, forged)[1][1])
        for label, data in submissions(form, forged):
            self.post(form, action, label, data)

    def run(self, paths: list[str]) -> None:
        forms: list[Form] = []
        for path in paths:
            status, parser = read_page(self.client, path)
            self.statuses[status] += 1
            if status >= 500:
                self.failures.append(f"{status} GET {path}")
            self.get(urlsplit(path).path, {"area": HOSTILE["sql"], "comune": HOSTILE["script"], "q": HOSTILE["long"],
                            "page": "abc", "next": "//evil.example.org"}, "hostile-query")
            forms += parser.forms
        unique: dict[tuple, Form] = {}
        for form in forms:  # one form of each kind: the first found, on the pages listed first
            unique.setdefault((form.method, shape(form.action), tuple(x.name for x in form.fields)), form)
        last = [f for f in unique.values() if any(word in f.action for word in LAST)]
        for form in [f for f in unique.values() if f not in last]:
            self.fuzz_form(form)
        self.stored = tables_holding(self.app, MARKERS)  # before withdrawing or erasing takes rows away
        for form in last:
            self.fuzz_form(form)


@pytest.mark.parametrize("role", ["anonymous", "entity", "facilitator", "staff"])
def test_hostile_input_to_every_form(role, app, client, auth, world):
    before = other_entity_rows(app, world, role)
    sign_in(role, client, app, auth, world)
    paths = [fill(p, world) for p in PAGES[role]]
    if role == "staff":
        paths = staff_pages(client, paths)
        assert "/gestione/calendario/sedi" in paths
    fuzzer = Fuzzer(app, client, role, world)
    fuzzer.run(paths)

    assert fuzzer.failures == [], "\n".join(fuzzer.failures[:40])
    missing = {fill(a, world) for a in EXPECTED_ACTIONS[role]} - fuzzer.actions
    assert not missing, f"forms not found as {role}: {missing}"
    # the requests reached the forms' code: not everything was refused as a forged request
    assert fuzzer.statuses[200] > fuzzer.requests // 4, fuzzer.statuses
    # hostile text was accepted somewhere and stored (then rendered below), not only refused
    assert STORED_IN[role] <= fuzzer.stored, fuzzer.stored
    if PROTECTS_OTHERS[role]:
        assert other_entity_rows(app, world, role) == before

    # what was stored renders: the staff's pages, the public pages and the entity's area, without a script
    limiter.reset()  # the sign-in form was posted many times
    readers = {"staff": app.test_client(), "entity": app.test_client()}
    sign_in("staff", readers["staff"], app, auth.__class__(readers["staff"]), world)
    sign_in("entity", readers["entity"], app, None, world)
    downloads: list[str] = []
    pages = staff_pages(readers["staff"], [fill(p, world) for p in PAGES["staff"]], downloads=downloads)
    kinds = {urlsplit(d).path.rsplit(".", 1)[-1] for d in downloads}
    assert {"pdf", "csv", "xlsx"} <= kinds, downloads
    render = Fuzzer(app, readers["staff"], "staff", world)
    for path in pages + downloads:
        render.get(path, label="after")
    for path in [*PUBLIC, "/elenco.csv", "/elenco.json", "/calendario.ics"]:
        render.get(fill(path, world), label="after")
    render.client = readers["entity"]
    for path in ["/area-riservata", "/area-riservata/dati.json"]:
        render.get(path, label="after")
    assert render.failures == [], "\n".join(render.failures[:40])
    assert render.exported_formulas > 0  # the formula was in the exports, written so that it does not run
