"""The call file: the Crema avviso loads as the avviso says; bad files are refused with their line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from scheduler.calendar.models import Meeting
from scheduler.calls.loader import CallFileError, load_call, parse_call_file, parse_call_text
from scheduler.calls.models import Area, Call, Comune, Phase, Track
from scheduler.extensions import db
from tests.conftest import CALL_FILE

CREMA_TEXT = CALL_FILE.read_text(encoding="utf-8")

EXPECTED_MEETINGS = {
    # the avviso's calendar, local time in Rome
    "A": [("2024-05-15", "09:30", "13:00"), ("2024-05-29", "09:30", "13:00"), ("2024-06-05", "09:30", "13:00")],
    "B": [("2024-05-07", "14:30", "18:00"), ("2024-05-15", "14:30", "18:00"), ("2024-05-29", "14:30", "18:00")],
    "C": [("2024-05-08", "14:30", "18:00"), ("2024-05-22", "14:30", "18:00"), ("2024-06-05", "14:30", "18:00")],
    "D": [("2024-05-10", "09:30", "13:00"), ("2024-05-17", "09:30", "13:00"), ("2024-06-07", "09:30", "13:00")],
}


def test_crema_call_matches_the_avviso(ctx, crema):
    call = db.session.scalar(sa.select(Call).where(Call.slug == crema))
    assert call.ambito.name == "Ambito territoriale di Crema"
    assert call.lead_municipality == "Comune di Crema"
    assert call.deadline.isoformat() == "2024-05-02"
    assert call.late_implementation_from.isoformat() == "2025-01-01"
    assert "gennaio 2025" in call.late_rule
    assert call.privacy_controller == "Comune di Crema"
    assert call.privacy_dpo_email == "dpo@comune.crema.cr.it"
    assert "artt. 15 e seguenti" in call.privacy_notice
    assert call.office_email == "udpcrema@comune.crema.cr.it"

    comuni = db.session.scalars(sa.select(Comune.name).where(Comune.call_id == call.id)).all()
    listed = [
        line.strip()
        for line in (CALL_FILE.parents[2].parent / "shared" / "data" / "ambito-crema-comuni.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip() and not line.startswith("#")
    ] if (CALL_FILE.parents[2].parent / "shared").exists() else None
    assert len(comuni) == 48
    if listed:
        assert sorted(comuni) == sorted(listed)
    assert "Crema" in comuni and "Rivolta d'Adda" in comuni

    areas = {a.code: a.full_name for a in db.session.scalars(sa.select(Area))}
    assert areas == {
        "A": "Minori e Famiglia",
        "B": "Fragilità (Anziani e Persone con disabilità)",
        "C": "Adulti e povertà (Contrasto alla povertà e marginalità, Politiche per il lavoro, Politiche abitative)",
        "D": "Innovazione e giovani",
    }

    from zoneinfo import ZoneInfo

    rome = ZoneInfo("Europe/Rome")
    tracks = db.session.scalars(sa.select(Track).order_by(Track.position)).all()
    assert [t.area.code for t in tracks] == ["A", "B", "C", "D"]
    for track in tracks:
        assert track.phase is Phase.DRAFTING
        got = [
            (m.starts_at.astimezone(rome).date().isoformat(), f"{m.starts_at.astimezone(rome):%H:%M}",
             f"{m.ends_at.astimezone(rome):%H:%M}")
            for m in track.meetings
        ]
        assert got == EXPECTED_MEETINGS[track.area.code]
        assert all(m.venue is None and m.sequence == 0 for m in track.meetings)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 12


def test_times_are_stored_as_utc_instants(ctx, crema):
    meeting = db.session.scalar(sa.select(Meeting).where(Meeting.key == "A1"))
    # 9:30 in Rome in May (CEST, UTC+2) is 07:30Z
    assert meeting.starts_at == datetime(2024, 5, 15, 7, 30, tzinfo=UTC)
    assert meeting.ends_at == datetime(2024, 5, 15, 11, 0, tzinfo=UTC)


def test_loading_twice_changes_nothing(ctx, crema):
    before = {m.uid: (m.sequence, m.starts_at, m.updated_at) for m in db.session.scalars(sa.select(Meeting))}
    call_before = db.session.scalar(sa.select(Call.loaded_at))
    _, report = load_call(parse_call_file(CALL_FILE))
    db.session.commit()
    assert not report.changed
    assert report.summary().startswith("Nessuna modifica")
    after = {m.uid: (m.sequence, m.starts_at, m.updated_at) for m in db.session.scalars(sa.select(Meeting))}
    assert after == before
    assert db.session.scalar(sa.select(Call.loaded_at)) == call_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comune)) == 48


def test_edited_file_updates_only_what_changed_and_raises_sequence(ctx, crema):
    a1 = db.session.scalar(sa.select(Meeting).where(Meeting.key == "A1"))
    uid, a2_uid = a1.uid, db.session.scalar(sa.select(Meeting.uid).where(Meeting.key == "A2"))
    edited = CREMA_TEXT.replace('{ key = "A1", date = 2024-05-15 }', '{ key = "A1", date = 2024-05-16 }')
    edited = edited.replace('name = "Percorso Innovazione & Giovani"', 'name = "Percorso Innovazione e Giovani"')
    _, report = load_call(parse_call_text(edited))
    db.session.commit()
    assert report.updated == {"incontri": 1, "percorsi": 1}
    assert not report.created
    a1 = db.session.scalar(sa.select(Meeting).where(Meeting.key == "A1"))
    assert a1.uid == uid, "the UID of a meeting never changes"
    assert a1.sequence == 1
    assert a1.starts_at == datetime(2024, 5, 16, 7, 30, tzinfo=UTC)
    a2 = db.session.scalar(sa.select(Meeting).where(Meeting.uid == a2_uid))
    assert a2.sequence == 0
    assert db.session.scalar(sa.select(Track.name).where(Track.key == "D-stesura")) == "Percorso Innovazione e Giovani"


def test_removed_meeting_is_kept_with_a_warning(ctx, crema):
    edited = CREMA_TEXT.replace('  { key = "D3", date = 2024-06-07 },\n', "")
    _, report = load_call(parse_call_text(edited))
    db.session.commit()
    assert any("D3" in w for w in report.warnings)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 12


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "message", "needle", "occurrence"),
    [
        ('{ key = "B2", date = 2024-05-15 }', '{ key = "B2", date = 2024-05-32 }', "TOML", "2024-05-32", 1),
        ('{ key = "B2", date = 2024-05-15 }', '{ key = "B2", date = "2024-02-30" }', "2024-02-30", "2024-02-30", 1),
        ('{ key = "C3", date = 2024-06-05 }', '{ key = "C3", date = 2024-06-05, start = 19:00:00 }',
         "finisce (18:00) prima di iniziare (19:00)", 'key = "C3"', 1),
        ('key = "D-stesura"\narea = "D"', 'key = "D-stesura"\narea = "E"', "l'area 'E'", 'area = "E"', 1),
        ('phase = "drafting"\nname = "Percorso Fragilità', 'phase = "stesura"\nname = "Percorso Fragilità',
         "fase 'stesura'", '"stesura"', 1),
        ('name = "Percorso Minori e Famiglia"\nstart = 09:30:00',
         'name = "Percorso Minori e Famiglia"\nstart = 13:30:00',
         "prima di iniziare", "end = 13:00:00", 1),
        ('{ key = "A2", date = 2024-05-29 }', '{ key = "A1", date = 2024-05-29 }', "ripetuto", 'key = "A1"', 2),
        ('  "Vailate",\n', '  "Vailate",\n  "Crema",\n', "ripetuto", '  "Crema",', 2),
    ],
    ids=["bad-date-toml", "bad-date-string", "end-before-start", "unknown-area", "unknown-phase",
         "track-slot-reversed", "duplicate-meeting", "duplicate-comune"],
)
def test_bad_files_are_refused_with_their_line(old, new, message, needle, occurrence):
    assert old in CREMA_TEXT, old
    text = CREMA_TEXT.replace(old, new, 1)
    with pytest.raises(CallFileError) as error:
        parse_call_text(text)
    assert message in str(error.value)
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert error.value.line == lines[occurrence - 1], str(error.value)
    assert str(error.value).startswith(f"riga {error.value.line}:")


def test_missing_section_is_named():
    text = CREMA_TEXT.replace("[privacy]", "[privacy_old]")
    with pytest.raises(CallFileError, match=r"\[privacy\]"):
        parse_call_text(text)


def test_cli_loads_and_reports(runner, app):
    result = runner.invoke(args=["calls", "load", str(CALL_FILE)])
    assert result.exit_code == 0, result.output
    assert "creati 12 incontri" in result.output
    again = runner.invoke(args=["calls", "load", str(CALL_FILE)])
    assert again.exit_code == 0
    assert "Nessuna modifica" in again.output


def test_cli_refuses_a_bad_file_without_traceback(runner, app, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(CREMA_TEXT.replace('area = "B"', 'area = "Z"'), encoding="utf-8")
    result = runner.invoke(args=["calls", "load", str(bad)])
    assert result.exit_code == 1
    line = _line_of(bad.read_text(encoding="utf-8"), 'area = "Z"')
    assert f"riga {line}:" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Call)) == 0
    missing = runner.invoke(args=["calls", "load", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 1 and "non esiste" in missing.output


def test_texts_are_loaded_as_stored_and_a_reload_changes_nothing(ctx):
    """The loader keeps the stored form of each text (bidi controls out, spaces collapsed): the database and the
    file agree, so loading the same file again updates nothing."""
    untidy = CREMA_TEXT.replace('name = "Minori e Famiglia"', 'name = "\\u202eMinori  e\\tFamiglia"').replace(
        'name = "Ufficio di Piano dell', 'name = "Ufficio  di Piano dell')
    _, first = load_call(parse_call_text(untidy))
    db.session.commit()
    assert first.changed
    assert db.session.scalar(sa.select(Area.name).where(Area.code == "A")) == "Minori e Famiglia"
    assert db.session.scalar(sa.select(Call.office_name)).startswith("Ufficio di Piano dell")
    _, again = load_call(parse_call_text(untidy))
    assert not again.changed, again.summary()


def test_comuni_written_twice_but_for_invisible_characters_are_refused():
    with pytest.raises(CallFileError, match="il comune 'Crema' è ripetuto"):
        parse_call_text(CREMA_TEXT.replace('  "Crema",', '  "Crema",\n  "Crema\\u2066",', 1))
