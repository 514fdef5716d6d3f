"""Properties that must hold for any input: the codice fiscale check agrees with python-stdnum, the call loader
refuses any broken file with its own error (naming the line), and any meeting round-trips through the iCalendar
text as read by two independent parsers (icalendar and vobject).

Examples are derived from the test's name (derandomize), so a run on CI is the same as a run on a laptop.
"""

from __future__ import annotations

import json
import re
import string
import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from stdnum import luhn
from stdnum.it import codicefiscale

from scheduler import ics
from scheduler.calls.loader import CallFileError, load_call, parse_call_text
from scheduler.extensions import db
from scheduler.registry.validation import InvalidValue, check_codice_fiscale, normalise_codice_fiscale
from tests.conftest import CALL_FILE

FUZZ = settings(derandomize=True, max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(FUZZ, max_examples=60)
CREMA_TEXT = CALL_FILE.read_text(encoding="utf-8")
CREMA_LINES = CREMA_TEXT.splitlines()

# --- codice fiscale --------------------------------------------------------------------------------------------

#: Office codes of the 11-digit codice fiscale (the province or a special office), as the Agenzia assigns them.
OFFICES = [f"{n:03d}" for n in range(1, 101)] + ["120", "121", "888", "999"]
MONTHS = "ABCDEHLMPRST"
#: Digits of a personal code may be replaced by these letters (omocodia) when two people would share a code.
OMOCODIA = dict(zip("0123456789", "LMNPQRSTUV", strict=True))


@st.composite
def entity_numbers(draw) -> str:
    """An 11-digit codice fiscale of an organisation: 7 digits (not all zero), an office, a Luhn check digit."""
    serial = draw(st.integers(min_value=1, max_value=9_999_999))
    base = f"{serial:07d}" + draw(st.sampled_from(OFFICES))
    return base + luhn.calc_check_digit(base)


@st.composite
def personal_codes(draw) -> str:
    """A 16-character personal codice fiscale (surname, name, birth date and place, control letter)."""
    letters = st.text(alphabet=string.ascii_uppercase, min_size=6, max_size=6)
    born = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2019, 12, 31)))
    day = born.day + (40 if draw(st.booleans()) else 0)
    place = draw(st.sampled_from(string.ascii_uppercase)) + f"{draw(st.integers(0, 999)):03d}"
    body = draw(letters) + f"{born.year % 100:02d}" + MONTHS[born.month - 1] + f"{day:02d}" + place
    # omocodia: digits replaced from the right, as the Agenzia does
    digit_positions = [6, 7, 9, 10, 12, 13, 14]
    for position in reversed(digit_positions[len(digit_positions) - draw(st.integers(0, 7)):]):
        body = body[:position] + OMOCODIA[body[position]] + body[position + 1:]
    return body + codicefiscale.calc_check_digit(body)


def as_typed(code: str, draw) -> str:
    """The code as a person might paste it: lower case, spaces, dots or dashes between characters."""
    separators = st.sampled_from(["", "", "", " ", ".", "-", "  "])
    text = "".join(char + draw(separators) for char in code)
    return draw(st.sampled_from([text, text.lower(), f"  {text}\t"]))


@FUZZ
@given(code=st.one_of(entity_numbers(), personal_codes()), data=st.data())
def test_every_valid_codice_fiscale_is_accepted_however_typed(code, data):
    assert codicefiscale.is_valid(code)
    assert check_codice_fiscale(as_typed(code, data.draw)) == code


@FUZZ
@given(code=entity_numbers(), position=st.integers(0, 10), digit=st.sampled_from(string.digits))
def test_a_mistyped_digit_is_refused(code, position, digit):
    assume(code[position] != digit)
    typo = code[:position] + digit + code[position + 1:]
    with pytest.raises(InvalidValue):
        check_codice_fiscale(typo)


#: Strings near the real thing: right lengths, digits and capitals, separators, unicode look-alikes.
NEAR_CODES = st.one_of(
    st.text(alphabet=string.digits, min_size=10, max_size=12),
    st.text(alphabet=string.digits + string.ascii_uppercase, min_size=15, max_size=17),
    st.text(alphabet=string.digits + " .-\t\n", max_size=20),
    st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩０１２３４５６７８９ßﬀİıABCDEHLMPRST", max_size=16),
    st.text(max_size=40),
)


@FUZZ
@given(value=NEAR_CODES)
def test_any_other_string_is_refused_with_a_message(value):
    """Accepted exactly when python-stdnum says valid; otherwise a message for the person, never a crash."""
    number = normalise_codice_fiscale(value)
    try:
        accepted = check_codice_fiscale(value)
    except InvalidValue as error:
        assert not codicefiscale.is_valid(number)
        assert str(error)
    else:
        assert codicefiscale.is_valid(number)
        assert accepted == number
        assert re.fullmatch(r"\d{11}|[0-9A-Z]{16}", accepted)


# --- the call loader -------------------------------------------------------------------------------------------

def assert_refused_properly(text: str) -> CallFileError | None:
    """Parse `text`: either it is a valid call, or a CallFileError whose line (when given) exists."""
    try:
        parse_call_text(text)
    except CallFileError as error:
        line_count = max(1, len(text.splitlines()))
        if error.line is not None:
            assert 1 <= error.line <= line_count + 1, (error.line, line_count, str(error))
            assert str(error).startswith(f"riga {error.line}: ")
        assert str(error)
        return error
    return None


TOML_KEYS = ["slug", "title", "timezone", "deadline", "late_implementation_from", "comuni", "areas", "tracks",
             "key", "date", "start", "end", "phase", "area", "code", "name", "email", "meetings", "notice"]
TOML_SCALARS = st.one_of(
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True).map(lambda f: repr(f).replace("inf", "inf")),
    st.booleans().map(lambda b: str(b).lower()),
    st.text(max_size=30).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.text(max_size=30),  # raw, usually not TOML
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.times().map(lambda t: t.isoformat()),
    st.sampled_from(['"2024-02-30"', '"25:00"', '"Mars/Olympus"', '"drafting"', '"implementation"', '"A"',
                     '"Europe/Rome"', '"../../etc/passwd"', '""', '"   "', "[]", "{}"]),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(TOML_KEYS), inner, max_size=4).map(
            lambda table: "{ " + ", ".join(f"{k} = {v}" for k, v in table.items()) + " }"
        ),
    ),
    max_leaves=8,
)


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_is_refused_by_the_loaders_own_error(text):
    assert_refused_properly(text)


@FUZZ
@given(
    lines=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(TOML_KEYS), TOML_VALUES).map(lambda kv: f"{kv[0]} = {kv[1]}"),
            st.sampled_from(["[office]", "[privacy]", "[[areas]]", "[[tracks]]", "[[tracks.meetings]]", "[areas]",
                             "# commento", ""]),
        ),
        max_size=25,
    )
)
def test_toml_like_documents_are_refused_by_the_loaders_own_error(lines):
    assert_refused_properly("\n".join(lines))


def _value_lines() -> list[int]:
    return [i for i, line in enumerate(CREMA_LINES) if re.match(r"^\s*[a-z_]+ = ", line)]


VALUE_LINES = _value_lines()
MEETING_LINES = [i for i, line in enumerate(CREMA_LINES) if "{ key = " in line]


@FUZZ
@given(index=st.sampled_from(VALUE_LINES), value=TOML_VALUES)
def test_a_value_replaced_in_the_crema_file_is_refused_on_its_line(index, value):
    lines = list(CREMA_LINES)
    key = lines[index].split("=", 1)[0]
    lines[index] = f"{key}= {value}"
    text = "\n".join(lines)
    error = assert_refused_properly(text)
    if error is not None:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            assert error.line is not None, str(error)


@FUZZ
@given(
    index=st.sampled_from(MEETING_LINES),
    field=st.sampled_from(["key", "date", "start", "end", "title"]),
    value=TOML_SCALARS,
)
def test_a_meeting_with_a_bad_field_is_refused_on_its_line(index, field, value):
    lines = list(CREMA_LINES)
    lines[index] = lines[index].rstrip().removesuffix(",").removesuffix("}") + f", {field} = {value} }},"
    text = "\n".join(lines)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assume(False)
    error = assert_refused_properly(text)
    if error is not None:
        assert error.line is not None, str(error)


MUTATIONS = ["delete", "duplicate", "swap", "truncate", "insert", "splice"]


@FUZZ
@given(
    mutation=st.sampled_from(MUTATIONS),
    first=st.integers(0, len(CREMA_LINES) - 1),
    second=st.integers(0, len(CREMA_LINES) - 1),
    noise=st.text(max_size=20),
)
def test_a_mutated_crema_file_is_refused_by_the_loaders_own_error(mutation, first, second, noise):
    lines = list(CREMA_LINES)
    if mutation == "delete":
        del lines[first]
    elif mutation == "duplicate":
        lines.insert(first, lines[first])
    elif mutation == "swap":
        lines[first], lines[second] = lines[second], lines[first]
    elif mutation == "truncate":
        lines = lines[:first]
    elif mutation == "insert":
        lines.insert(first, noise)
    else:
        position = min(second, len(lines[first]))
        lines[first] = lines[first][:position] + noise + lines[first][position:]
    assert_refused_properly("\n".join(lines))


#: Lines holding one quoted text value (the comuni, keys, names, titles...) and where the value starts.
TEXT_LINES = [i for i, line in enumerate(CREMA_LINES) if re.match(r'^\s*(?:[a-z_]+ = )?"[^"]*",?$', line)]
#: Any text, as a TOML basic string (JSON's escapes are TOML's): long, with escapes for control characters.
TOML_TEXTS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=250, max_size=700),
    st.sampled_from(["\x00", "Sala\x00", "   ", "\u202eotnemele", "=cmd|' /C calc'!A0"]),
).map(lambda text: json.dumps(text, ensure_ascii=False))


@settings(FEW, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(index=st.sampled_from(TEXT_LINES), value=TOML_TEXTS)
def test_what_the_parser_accepts_loads_into_the_database(ctx, index, value):
    """`flask calls load` ends with the loader's message or a loaded call: never a database error."""
    lines = list(CREMA_LINES)
    lines[index] = re.sub(r'"[^"]*"', lambda _m: value, lines[index], count=1)
    try:
        spec = parse_call_text("\n".join(lines))
    except CallFileError as error:
        assert error.line is not None or "manca" in str(error), str(error)
        return
    savepoint = db.session.begin_nested()
    try:
        load_call(spec)
        db.session.flush()
    except CallFileError:
        pass
    finally:
        savepoint.rollback()


# --- the iCalendar builder -------------------------------------------------------------------------------------

ROME = ZoneInfo("Europe/Rome")
#: Printable text of any script (RTL, CJK, emoji...), with the characters iCalendar escapes and new lines.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cc", "Cs")),
        st.sampled_from([",", ";", "\\", ":", '"', "\n", "\u202e", "\u200f", "\u200d", "🙂", "👩"]),
    ),
    max_size=200,
)
LONG_TEXT = st.one_of(TEXT, st.text(alphabet="àèìòù€ 😀,;\n", min_size=300, max_size=2000))
#: Instants around Rome's changes of time (last Sunday of March and of October) and anywhere else.
DST_EDGES = [datetime(2024, 3, 31, 1, 0, tzinfo=UTC), datetime(2024, 10, 27, 0, 0, tzinfo=UTC),
             datetime(2025, 3, 30, 1, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 0, tzinfo=UTC)]
INSTANTS = st.one_of(
    st.builds(lambda edge, minutes: edge + timedelta(minutes=minutes),
              st.sampled_from(DST_EDGES), st.integers(-180, 180)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2039, 12, 31), timezones=st.just(UTC)),
)


@st.composite
def events(draw) -> ics.EventData:
    starts = draw(INSTANTS).replace(second=0, microsecond=0)
    created = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2039, 1, 1),
                                timezones=st.just(UTC))).replace(microsecond=0)
    return ics.EventData(
        uid=f"{draw(st.uuids())}@tavoli",
        sequence=draw(st.integers(0, 10_000)),
        starts_at=starts,
        ends_at=starts + timedelta(minutes=draw(st.integers(1, 60 * 24 * 3))),
        summary=draw(st.one_of(TEXT, LONG_TEXT)),
        location=draw(TEXT),
        description=draw(LONG_TEXT),
        url=draw(st.sampled_from(["", "https://tavoli.example.it/incontri/7", "https://esempio.it/a,b;c?x=1&y=2"])),
        cancelled=draw(st.booleans()),
        created=created,
        last_modified=created + timedelta(seconds=draw(st.integers(0, 10**8))),
    )


def expected_text(event: ics.EventData, cancelled: bool) -> dict[str, str]:
    description = event.description
    if event.url and event.url not in description:
        description = f"{description}\n\n{event.url}".strip()
    return {
        "summary": (ics.CANCELLED_PREFIX if cancelled else "") + event.summary,
        "location": event.location or ics.NO_VENUE,
        "description": description,
    }


def assert_round_trip(text: str, event: ics.EventData, cancelled: bool, uninvited: bool = False) -> None:
    expected = expected_text(event, cancelled)
    calendar = Calendar.from_ical(text)
    [parsed] = calendar.walk("VEVENT")
    assert parsed.errors == []
    assert str(parsed["UID"]) == event.uid
    assert int(parsed["SEQUENCE"]) == event.sequence
    assert str(parsed["SUMMARY"]) == expected["summary"]
    assert str(parsed["LOCATION"]) == expected["location"]
    assert str(parsed["DESCRIPTION"]) == expected["description"]
    assert parsed.decoded("DTSTART").astimezone(UTC) == event.starts_at
    assert parsed.decoded("DTEND").astimezone(UTC) == event.ends_at
    if uninvited:  # a CANCEL for one attendee of a meeting that goes on has no STATUS (RFC 5546, 3.2.5)
        assert "STATUS" not in parsed
    else:
        assert str(parsed["STATUS"]) == ("CANCELLED" if cancelled else "CONFIRMED")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, line  # folded as RFC 5545 asks, in octets

    [other] = vobject.readOne(text).vevent_list
    assert other.uid.value == event.uid
    assert other.summary.value == expected["summary"]
    assert other.location.value == expected["location"]
    assert other.description.value == expected["description"]
    assert other.dtstart.value.astimezone(UTC) == event.starts_at
    assert other.dtend.value.astimezone(UTC) == event.ends_at


@FEW
@given(event=events(), method=st.sampled_from(["REQUEST", "CANCEL"]), name=TEXT)
def test_any_meeting_round_trips_through_an_invite(event, method, name):
    text = ics.invite(event, method=method, organizer_email="udp@comune.example.it", organizer_name=name,
                      attendee_email="referente@ente.example.org", attendee_name=name)
    assert_round_trip(text, event, event.cancelled, uninvited=method == "CANCEL" and not event.cancelled)


@FEW
@given(event=events(), name=TEXT, description=TEXT)
def test_any_meeting_round_trips_through_a_feed(event, name, description):
    text = ics.feed([event], name=name or "Calendario", description=description,
                    organizer_email="udp@comune.example.it", organizer_name="Ufficio di Piano, Crema")
    assert_round_trip(text, event, event.cancelled)
    calendar = Calendar.from_ical(text)
    shown = name or "Calendario"
    assert str(calendar["X-WR-CALNAME"]) == (" ".join(shown.splitlines()) if "\n" in shown or "\r" in shown
                                             else shown)


@FEW
@given(event=events())
def test_the_same_meeting_gives_the_same_feed_bytes(event):
    """Feeds are compared by ETag: the same data must give the same text, whatever was built in between."""
    first = ics.feed([event], name="Calendario")
    ics.feed([replace(event, uid="altro@tavoli")], name="Altro")
    assert ics.feed([event], name="Calendario") == first


def test_an_instant_in_the_hour_repeated_in_october_round_trips():
    """On the last Sunday of October 2:30 happens twice in Rome; the second one must not become the first."""
    second_half_past_two = datetime(2024, 10, 27, 1, 30, tzinfo=UTC)  # 2:30 CET, after the clocks went back
    assert second_half_past_two.astimezone(ROME).fold == 1
    event = replace(make_plain_event(), starts_at=second_half_past_two,
                    ends_at=second_half_past_two + timedelta(hours=1))
    text = ics.invite(event, method="REQUEST", organizer_email="udp@comune.example.it", organizer_name="UdP",
                      attendee_email="referente@ente.example.org")
    assert_round_trip(text, event, False)


def make_plain_event() -> ics.EventData:
    starts = datetime(2024, 5, 15, 7, 30, tzinfo=UTC)
    return ics.EventData(
        uid="3f0c2d7e@tavoli", sequence=0, starts_at=starts, ends_at=starts + timedelta(hours=3),
        summary="Incontro", location="", description="", url="", cancelled=False,
        created=datetime(2024, 4, 1, tzinfo=UTC), last_modified=datetime(2024, 4, 1, tzinfo=UTC),
    )
