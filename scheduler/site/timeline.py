"""Meetings as a visitor reads them in time: what is coming first, what has ended folded away.

One rule for the home page and the public calendar (both call it from their templates, as `track_timelines`):
in each track the meetings that have not ended come first, soonest first, and the concluded ones (ended before
now) follow, most recent first; tracks with a next meeting come first, by that meeting, the others keep the
call's order. Pure: it reads the meetings already loaded and never queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduler.calendar.models import Meeting
from scheduler.calls.models import Track


@dataclass(frozen=True)
class TrackTimeline:
    """A track's meetings split at `now`."""

    track: Track
    #: Not ended yet, soonest first; a cancelled one stays here, marked as such where it is shown.
    upcoming: list[Meeting]
    #: Ended before now, most recent first.
    concluded: list[Meeting]

    @property
    def next_meeting(self) -> Meeting | None:
        """The first meeting still to be held (not cancelled): None when nothing is in programme."""
        return next((m for m in self.upcoming if not m.is_cancelled), None)


def split_meetings(meetings: Iterable[Meeting], now: datetime) -> tuple[list[Meeting], list[Meeting]]:
    """(upcoming soonest first, concluded most recent first): a meeting is concluded once it has ended."""
    upcoming, concluded = [], []
    for meeting in meetings:
        (concluded if meeting.ends_at < now else upcoming).append(meeting)
    upcoming.sort(key=lambda m: (m.starts_at, m.id))
    concluded.sort(key=lambda m: (m.starts_at, m.id), reverse=True)
    return upcoming, concluded


def track_timelines(tracks: Sequence[Track], now: datetime) -> list[TrackTimeline]:
    """Each track with its meetings split; tracks with a next meeting first, soonest first, then the rest."""
    timelines = [TrackTimeline(track, *split_meetings(track.meetings, now)) for track in tracks]

    def order(item: tuple[int, TrackTimeline]) -> tuple:
        position, timeline = item
        upcoming = timeline.next_meeting
        return (0, upcoming.starts_at, position) if upcoming else (1, position)

    return [timeline for _, timeline in sorted(enumerate(timelines), key=order)]
