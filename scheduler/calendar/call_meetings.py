"""The meetings of a call file: created or changed through the calendar's own change path when the call loads.

The loader (layer 1) loads the call, comuni, areas and tracks, then sends `call_loaded`; this receiver plans
the meetings the file lists, so holders of a moved or renamed meeting get the update with a higher SEQUENCE.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from scheduler.calendar.services import change_meeting, create_meeting
from scheduler.calls.loader import CallFileError, CallSpec, LoadReport
from scheduler.calls.models import Call
from scheduler.errors import DomainError
from scheduler.hooks import call_loaded
from scheduler.timeutil import local_instant


@call_loaded.connect
def load_meetings(call: Call, *, spec: CallSpec, report: LoadReport) -> None:
    """Create the file's new meetings, change the ones whose time or title changed, warn about the ones no
    longer in the file (kept: only staff cancel a meeting)."""
    tz = ZoneInfo(spec.fields["timezone"])
    tracks = {t.key: t for t in call.tracks}
    for spec_track in spec.tracks:
        track = tracks[spec_track.key]
        if track.edited_in_app_at is not None:
            # the office manages this table in the app, its meetings too: the file changes none of them
            known = {m.key for m in track.meetings if m.key}
            if any(m.key not in known for m in spec_track.meetings):
                report.warnings.append(f"Il percorso '{track.key}' è gestito dalla gestione del calendario: "
                                       "gli incontri nuovi del file non sono stati aggiunti.")
            continue
        meetings = {m.key: m for m in track.meetings if m.key}
        for spec_meeting in spec_track.meetings:
            starts_at = local_instant(spec_meeting.day, spec_meeting.start, tz)
            ends_at = local_instant(spec_meeting.day, spec_meeting.end, tz)
            meeting = meetings.get(spec_meeting.key)
            if meeting is not None and meeting.edited_in_app_at is not None:
                # staff moved, renamed, cancelled or restored it in the app: what they did wins over the file
                if (meeting.starts_at, meeting.ends_at, meeting.title) != (starts_at, ends_at, spec_meeting.title):
                    report.warnings.append(
                        f"L'incontro '{spec_meeting.key}' del percorso '{track.key}' è stato modificato dalla "
                        "gestione del calendario: il file non lo cambia.")
                continue
            try:
                if meeting is None:
                    create_meeting(track, starts_at, ends_at, title=spec_meeting.title, key=spec_meeting.key,
                                   allow_past=True)
                    report.count(report.created, "incontri")
                    continue
                # the calendar's own change path: holders of a moved or renamed meeting get the update
                outcome = change_meeting(meeting, starts_at=starts_at, ends_at=ends_at, title=spec_meeting.title,
                                         allow_past=True)
            except DomainError as exc:  # already validated; kept for safety
                raise CallFileError(exc.message) from None
            if outcome.event_changed:
                report.count(report.updated, "incontri")
        for key in set(meetings) - {m.key for m in spec_track.meetings}:
            report.warnings.append(
                f"L'incontro '{key}' del percorso '{track.key}' non è più nel file: resta in calendario "
                "(annullalo dalla gestione del calendario se non si terrà)."
            )
