"""Reading a call file (TOML) and loading it into the database, idempotently.

The file is the source of truth for what the avviso says: the Ambito, its comuni, areas, the deadline, the
privacy notice, the tracks and their meetings. Loading it twice changes nothing; loading an edited file
updates only what changed, and a meeting whose time changed gets a higher iCalendar SEQUENCE.

This module loads the call, its comuni, areas and tracks; the calendar, a layer above, loads the meetings when
`scheduler.hooks.call_loaded` tells it the rest is in place (`scheduler.calendar.call_meetings`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from scheduler.calls.ambiti import create_ambito, default_ambito, slug_for
from scheduler.calls.models import Ambito, Area, Call, Comune, Phase, Track, organization_comuni
from scheduler.dbtypes import stored_text
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.hooks import call_loaded
from scheduler.textutil import CONTROL_CHARS
from scheduler.timeutil import local_instant

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}$")
#: Tracks made by `flask demo` carry this key prefix: they are not expected in the call file.
SAMPLE_KEY_PREFIX = "esempio-"
#: Tables created by staff in the app carry this key prefix: a reload of the file never touches them.
APP_KEY_PREFIX = "app-"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CallFileError(DomainError):
    """The call file cannot be loaded; the message names the line where possible."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"riga {line}: {message}" if line else message)


@dataclass
class MeetingSpec:
    key: str
    day: date
    start: time
    end: time
    title: str | None = None


@dataclass
class TrackSpec:
    key: str
    area: str
    phase: Phase
    name: str
    start: time | None
    end: time | None
    description: str
    meetings: list[MeetingSpec]


@dataclass
class CallSpec:
    slug: str
    fields: dict[str, Any]
    comuni: list[str]
    areas: list[dict[str, str]]
    tracks: list[TrackSpec]
    #: What the file calls the Ambito that issues the call: names the installation's first Ambito.
    ambito_name: str = ""


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        if not self.changed:
            return "Nessuna modifica: il database corrisponde già al file."
        parts = [f"creati {n} {kind}" for kind, n in sorted(self.created.items())]
        parts += [f"aggiornati {n} {kind}" for kind, n in sorted(self.updated.items())]
        return "; ".join(parts) + "."


class _Reader:
    """Validates the parsed TOML, pointing at the line of the offending value."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def line_of(self, *needles: str) -> int | None:
        """Line of the last needle, each searched from the previous match on (e.g. track key, then meeting
        key); a needle repeated twice in a row means its next occurrence (a duplicate)."""
        start, found, previous = 0, None, None
        for needle in needles:
            if needle == previous and found is not None:
                start = found
            for index in range(start, len(self.lines)):
                if needle in self.lines[index]:
                    found, start, previous = index + 1, index, needle
                    break
            else:
                return found
        return found

    def fail(self, message: str, *needles: str) -> CallFileError:
        return CallFileError(message, self.line_of(*needles) if needles else None)

    def text(self, data: dict, key: str, where: str = "", *anchors: str, required: bool = True) -> str | None:
        value = data.get(key)
        label = f"{where}.{key}" if where else key
        if value is None:
            if required:
                raise self.fail(f"manca il campo obbligatorio '{label}'", *anchors)
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"'{label}' deve essere un testo non vuoto", *anchors, f"{key} =")
        return value.strip()

    def day(self, value: Any, label: str, *anchors: str) -> date:
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise self.fail(
                    f"la data '{value}' di '{label}' non è valida (usa il formato AAAA-MM-GG)", *anchors, value
                ) from None
        raise self.fail(f"'{label}' deve essere una data (AAAA-MM-GG)", *anchors)

    def clock(self, value: Any, label: str, *anchors: str) -> time:
        if isinstance(value, time):
            return value
        if isinstance(value, str):
            try:
                return time.fromisoformat(value)
            except ValueError:
                raise self.fail(
                    f"l'ora '{value}' di '{label}' non è valida (usa il formato HH:MM)", *anchors, value
                ) from None
        raise self.fail(f"'{label}' deve essere un'ora (HH:MM)", *anchors)


def parse_call_text(text: str) -> CallSpec:
    """Validate a call file's text; raise CallFileError with the line of the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise CallFileError(f"il file non è TOML valido ({exc})", line) from None

    r = _Reader(text)
    slug = r.text(data, "slug")
    if not SLUG_RE.match(slug):
        raise r.fail("'slug' può contenere solo lettere minuscole, cifre e trattini", "slug =")
    tz_name = r.text(data, "timezone", required=False) or "Europe/Rome"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail(f"fuso orario sconosciuto '{tz_name}'", "timezone =") from None

    office = data.get("office")
    privacy = data.get("privacy")
    if not isinstance(office, dict):
        raise r.fail("manca la sezione [office] (Ufficio di Piano: nome e e-mail)")
    if not isinstance(privacy, dict):
        raise r.fail("manca la sezione [privacy] (titolare, DPO, informativa)")
    fields: dict[str, Any] = {
        "title": r.text(data, "title"),
        "plan_title": r.text(data, "plan_title"),
        "lead_municipality": r.text(data, "lead_municipality"),
        "summary": r.text(data, "summary", required=False) or "",
        "timezone": tz_name,
        "deadline": r.day(data.get("deadline"), "deadline", "deadline ="),
        "late_implementation_from": r.day(
            data.get("late_implementation_from"), "late_implementation_from", "late_implementation_from ="
        ),
        "late_rule": r.text(data, "late_rule"),
        "website": r.text(data, "website", required=False),
        "open_data_licence": r.text(data, "open_data_licence", required=False) or "CC BY 4.0",
        "office_name": r.text(office, "name", "office", "[office]"),
        "office_email": r.text(office, "email", "office", "[office]"),
        "office_phone": r.text(office, "phone", "office", "[office]", required=False),
        "procedure_manager": r.text(office, "procedure_manager", "office", "[office]", required=False) or "",
        "privacy_controller": r.text(privacy, "controller", "privacy", "[privacy]"),
        "privacy_dpo_name": r.text(privacy, "dpo_name", "privacy", "[privacy]"),
        "privacy_dpo_email": r.text(privacy, "dpo_email", "privacy", "[privacy]"),
        "privacy_notice": r.text(privacy, "notice", "privacy", "[privacy]"),
    }
    for key in ("office_email", "privacy_dpo_email"):
        if not EMAIL_RE.match(fields[key]):
            raise r.fail(f"indirizzo e-mail non valido: '{fields[key]}'", fields[key])
    if fields["late_implementation_from"] < fields["deadline"]:
        raise r.fail(
            "'late_implementation_from' non può precedere la scadenza 'deadline'", "late_implementation_from ="
        )

    comuni = data.get("comuni")
    if not isinstance(comuni, list) or not comuni:
        raise r.fail("'comuni' deve essere l'elenco (non vuoto) dei comuni dell'Ambito", "comuni")
    seen: set[str] = set()
    for name in comuni:
        if not isinstance(name, str) or not name.strip():
            raise r.fail("ogni comune deve essere un nome non vuoto", "comuni =")
        if name.strip().casefold() in seen:
            raise r.fail(f"il comune '{name}' è ripetuto", "comuni =", f'"{name}"', f'"{name}"')
        seen.add(name.strip().casefold())

    areas = data.get("areas")
    if not isinstance(areas, list) or not areas:
        raise r.fail("manca l'elenco delle aree tematiche ([[areas]])")
    codes: list[str] = []
    area_specs = []
    for area in areas:
        code = r.text(area, "code", "areas", "[[areas]]")
        if not re.fullmatch(r"[A-Z]{1,4}", code):
            raise r.fail(f"codice d'area '{code}' non valido (lettere maiuscole, es. A)", f'code = "{code}"')
        if code in codes:
            raise r.fail(f"l'area '{code}' è ripetuta", f'code = "{code}"', f'code = "{code}"')
        codes.append(code)
        area_specs.append(
            {
                "code": code,
                "name": r.text(area, "name", f"areas.{code}", f'code = "{code}"'),
                "full_name": r.text(area, "full_name", f"areas.{code}", f'code = "{code}"', required=False)
                or area["name"],
                "description": r.text(area, "description", f"areas.{code}", required=False) or "",
            }
        )

    tracks = data.get("tracks", [])
    if not isinstance(tracks, list):
        raise r.fail("'tracks' deve essere un elenco di percorsi ([[tracks]])", "tracks")
    track_specs: list[TrackSpec] = []
    track_keys: set[str] = set()
    for track in tracks:
        key = r.text(track, "key", "tracks", "[[tracks]]")
        anchor = f'key = "{key}"'
        if key in track_keys:
            raise r.fail(f"il percorso '{key}' è ripetuto", anchor, anchor)
        if key.startswith(APP_KEY_PREFIX):
            raise r.fail(f"la chiave '{key}' inizia con '{APP_KEY_PREFIX}', riservato ai tavoli creati dalla "
                         "gestione del calendario: scegline un'altra", anchor)
        track_keys.add(key)
        area_code = r.text(track, "area", f"tracks.{key}", anchor)
        if area_code not in codes:
            raise r.fail(
                f"il percorso '{key}' indica l'area '{area_code}', che non è tra quelle dell'avviso "
                f"({', '.join(codes)})",
                anchor,
                f'area = "{area_code}"',
            )
        phase_value = r.text(track, "phase", f"tracks.{key}", anchor)
        try:
            phase = Phase(phase_value)
        except ValueError:
            raise r.fail(
                f"fase '{phase_value}' sconosciuta per il percorso '{key}' (drafting o implementation)",
                anchor,
                f'"{phase_value}"',
            ) from None
        start = r.clock(track["start"], f"tracks.{key}.start", anchor, "start") if "start" in track else None
        end = r.clock(track["end"], f"tracks.{key}.end", anchor, "end") if "end" in track else None
        if start and end and end <= start:
            raise r.fail(f"nel percorso '{key}' l'orario finisce ({end:%H:%M}) prima di iniziare", anchor, "end")
        meeting_specs: list[MeetingSpec] = []
        meeting_keys: set[str] = set()
        for meeting in track.get("meetings", []):
            if not isinstance(meeting, dict):
                raise r.fail(f"gli incontri del percorso '{key}' devono essere tabelle {{ key, date }}", anchor)
            mkey = r.text(meeting, "key", f"tracks.{key}.meetings", anchor, "meetings")
            manchor = f'key = "{mkey}"'
            if mkey in meeting_keys:
                raise r.fail(f"l'incontro '{mkey}' è ripetuto nel percorso '{key}'", anchor, manchor, manchor)
            meeting_keys.add(mkey)
            if "date" not in meeting:
                raise r.fail(f"all'incontro '{mkey}' manca la data", anchor, manchor)
            day = r.day(meeting["date"], f"{mkey}.date", anchor, manchor)
            m_start = r.clock(meeting["start"], f"{mkey}.start", anchor, manchor) if "start" in meeting else start
            m_end = r.clock(meeting["end"], f"{mkey}.end", anchor, manchor) if "end" in meeting else end
            if m_start is None or m_end is None:
                raise r.fail(f"all'incontro '{mkey}' manca l'orario (start/end nel percorso o nell'incontro)",
                             anchor, manchor)
            if local_instant(day, m_end, tz) <= local_instant(day, m_start, tz):
                raise r.fail(
                    f"l'incontro '{mkey}' finisce ({m_end:%H:%M}) prima di iniziare ({m_start:%H:%M})",
                    anchor,
                    manchor,
                )
            title = meeting.get("title")
            meeting_specs.append(MeetingSpec(mkey, day, m_start, m_end, title if isinstance(title, str) else None))
        track_specs.append(
            TrackSpec(
                key=key,
                area=area_code,
                phase=phase,
                name=r.text(track, "name", f"tracks.{key}", anchor),
                start=start,
                end=end,
                description=r.text(track, "description", f"tracks.{key}", required=False) or "",
                meetings=meeting_specs,
            )
        )
    spec = CallSpec(slug=slug, fields=fields, comuni=[c.strip() for c in comuni], areas=area_specs,
                    tracks=track_specs, ambito_name=r.text(data, "ambito"))
    _check_texts(r, spec)
    return spec


#: Fields of the call that may be left out of the file or empty.
_OPTIONAL_FIELDS = frozenset({"summary", "website", "office_phone", "procedure_manager"})
#: Fields of [office] and [privacy]: where their key is written in the file.
_SECTION_KEYS = {"office_name": ("[office]", "name ="), "office_email": ("[office]", "email ="),
                 "office_phone": ("[office]", "phone ="), "procedure_manager": ("[office]", "procedure_manager ="),
                 "privacy_controller": ("[privacy]", "controller ="), "privacy_dpo_name": ("[privacy]", "dpo_name ="),
                 "privacy_dpo_email": ("[privacy]", "dpo_email ="), "privacy_notice": ("[privacy]", "notice =")}


def _table(name: str) -> sa.Table:
    """A table of a layer above (the calendar's meetings and venues), found by name: the loader checks values
    against its columns without importing its models."""
    return db.metadata.tables[name]


def _check_texts(r: _Reader, spec: CallSpec) -> None:
    """Every text holds no control character (PostgreSQL refuses them, SQLite would not) and, as it will be
    stored (`stored_text`: bidi controls removed, spaces collapsed...), is not empty when required, fits its
    column and names no comune, track or meeting twice. The spec keeps that stored form, so a reload of the
    same file compares like with like and changes nothing."""

    def check(value: Any, column: sa.Column, label: str, *anchors: str, required: bool = True) -> Any:
        if not isinstance(value, str):
            return value
        if CONTROL_CHARS.search(value):
            raise r.fail(f"'{label}' contiene caratteri di controllo", *anchors)
        stored = stored_text(column, value)
        if required and not stored:
            raise r.fail(f"'{label}' deve essere un testo non vuoto", *anchors)
        limit = getattr(column.type, "length", None)
        if limit and len(stored) > limit:
            raise r.fail(f"'{label}' è troppo lungo: al massimo {limit} caratteri, non {len(stored)}", *anchors)
        return stored or (None if column.nullable else "")

    def unique(value: str, seen: set[str], message: str, *anchors: str) -> None:
        if value in seen:
            raise r.fail(message, *anchors)
        seen.add(value)

    for name, value in spec.fields.items():
        spec.fields[name] = check(value, Call.__table__.c[name], name, *_SECTION_KEYS.get(name, (f"{name} =",)),
                                  required=name not in _OPTIONAL_FIELDS)
    spec.ambito_name = check(spec.ambito_name, Ambito.__table__.c.name, "ambito", "ambito =")
    comuni: set[str] = set()
    for index, name in enumerate(spec.comuni):
        spec.comuni[index] = check(name, Comune.__table__.c.name, "comuni", "comuni =", f'"{name}"')
        # comuni differ by more than case, as the parser's check says; keys are compared as written
        unique(spec.comuni[index].casefold(), comuni, f"il comune '{spec.comuni[index]}' è ripetuto", "comuni =")
    for area in spec.areas:
        for key, value in area.items():
            area[key] = check(value, Area.__table__.c[key], f"areas.{area['code']}.{key}", f'code = "{area["code"]}"',
                              f"{key} =", required=key != "description")
    meetings = _table("meetings")
    track_keys: set[str] = set()
    for track in spec.tracks:
        anchor = f'key = "{track.key}"'
        for key in ("key", "name", "description"):
            setattr(track, key, check(getattr(track, key), Track.__table__.c[key], f"tracks.{key}", "[[tracks]]",
                                      anchor, f"{key} =", required=key != "description"))
        unique(track.key, track_keys, f"il percorso '{track.key}' è ripetuto", anchor, anchor)
        meeting_keys: set[str] = set()
        for meeting in track.meetings:
            manchor = f'key = "{meeting.key}"'
            for key in ("key", "title"):
                setattr(meeting, key, check(getattr(meeting, key), meetings.c[key], f"{track.key[:40]}.meetings.{key}",
                                            "[[tracks]]", anchor, manchor, required=key == "key"))
            unique(meeting.key, meeting_keys, f"l'incontro '{meeting.key}' è ripetuto nel percorso '{track.key}'",
                   anchor, manchor, manchor)


def parse_call_file(path: str | Path) -> CallSpec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CallFileError(f"il file '{path}' non esiste") from None
    except UnicodeDecodeError:
        raise CallFileError(f"il file '{path}' non è testo UTF-8") from None
    return parse_call_text(text)


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def ambito_from_file(spec: CallSpec, slug: str | None = None, host: str | None = None) -> Ambito:
    """A new Ambito from what a call file says of the Ambito that issues it (the installation's first, or a
    sample one); `slug` by default from its name."""
    fields = spec.fields
    return create_ambito(
        slug or slug_for(spec.ambito_name), host=host, name=spec.ambito_name,
        lead_municipality=fields["lead_municipality"], office_name=fields["office_name"],
        office_email=fields["office_email"], privacy_controller=fields["privacy_controller"],
        privacy_dpo_name=fields["privacy_dpo_name"], privacy_dpo_email=fields["privacy_dpo_email"],
        responsible=fields["procedure_manager"])


def load_call(spec: CallSpec, ambito: Ambito | None = None) -> tuple[Call, LoadReport]:
    """Create or update the call described by `spec`, and (through `call_loaded`) its meetings. The caller
    commits.

    A new call belongs to `ambito`, else to the default Ambito (created from the file on an installation that has
    none yet); a call already loaded stays in its own Ambito, and naming another one is refused."""
    report = LoadReport()
    call = db.session.scalar(sa.select(Call).where(Call.slug == spec.slug))
    if call is not None and ambito is not None and call.ambito_id != ambito.id:
        raise CallFileError(f"l'avviso '{spec.slug}' è già stato caricato per un altro Ambito")
    if call is None:
        if ambito is None:
            ambito = default_ambito() or ambito_from_file(spec)
        # the first call of an Ambito is the one its short addresses show; staff choose later ones
        first = db.session.scalar(sa.select(sa.func.count()).select_from(Call).where(Call.ambito_id == ambito.id)) == 0
        call = Call(slug=spec.slug, ambito=ambito, is_current=first, **spec.fields)
        db.session.add(call)
        db.session.flush()
        report.count(report.created, "avviso")
    elif _assign(call, spec.fields):
        report.count(report.updated, "avviso")
    if spec.ambito_name and spec.ambito_name != call.ambito.name:
        report.warnings.append(f"Il file parla di '{spec.ambito_name}', l'avviso è dell'Ambito "
                               f"'{call.ambito.name}': vale il secondo.")

    existing_comuni = {c.name: c for c in call.comuni}
    for name in spec.comuni:
        if name not in existing_comuni:
            call.comuni.append(Comune(name=name))
            report.count(report.created, "comuni")
    wanted = set(spec.comuni)
    venues = _table("venues")
    for name, comune in existing_comuni.items():
        if name in wanted:
            continue
        used = db.session.scalar(
            sa.select(sa.func.count()).select_from(organization_comuni).where(
                organization_comuni.c.comune_id == comune.id
            )
        ) or db.session.scalar(sa.select(sa.func.count()).select_from(venues).where(venues.c.comune_id == comune.id))
        if used:
            report.warnings.append(f"Il comune '{name}' non è più nel file ma è usato: resta nel database.")
        else:
            call.comuni.remove(comune)
            report.count(report.updated, "comuni (rimossi)")

    areas = {a.code: a for a in call.areas}
    for spec_area in spec.areas:
        area = areas.get(spec_area["code"])
        values = {k: v for k, v in spec_area.items() if k != "code"}
        if area is None:
            area = Area(code=spec_area["code"], **values)
            call.areas.append(area)
            areas[area.code] = area
            report.count(report.created, "aree")
        elif _assign(area, values):
            report.count(report.updated, "aree")
    for code in set(areas) - {a["code"] for a in spec.areas}:
        report.warnings.append(f"L'area '{code}' non è più nel file: resta nel database.")
    db.session.flush()

    tracks = {t.key: t for t in call.tracks}
    for position, spec_track in enumerate(spec.tracks):
        values = {
            "area": areas[spec_track.area],
            "phase": spec_track.phase,
            "name": spec_track.name,
            "slot_start": spec_track.start,
            "slot_end": spec_track.end,
            "description": spec_track.description,
            "position": position,
        }
        track = tracks.get(spec_track.key)
        if track is None:
            track = Track(key=spec_track.key, **values)
            track.set_areas([values["area"]])
            call.tracks.append(track)
            report.count(report.created, "percorsi")
        elif track.edited_in_app_at is not None:
            # the office changed it in the app: what staff typed wins over the file
            if any(getattr(track, name) != value for name, value in values.items() if name != "position"):
                report.warnings.append(f"Il percorso '{spec_track.key}' è stato modificato dalla gestione del "
                                       "calendario: il file non lo cambia.")
        else:
            moved = track.area is not values["area"]
            if _assign(track, values):
                report.count(report.updated, "percorsi")
            if moved:  # the file's table serves the one area the file names
                track.set_areas([values["area"]])
        db.session.flush()
    call_loaded.send(call, spec=spec, report=report)
    for key in set(tracks) - {t.key for t in spec.tracks}:
        if key.startswith((SAMPLE_KEY_PREFIX, APP_KEY_PREFIX)):
            continue
        report.warnings.append(f"Il percorso '{key}' non è più nel file: resta nel database.")
    db.session.flush()
    return call, report
