"""Every model, imported in one place so the metadata is complete for Alembic and the tests."""

from scheduler.announcements.models import Announcement, AnnouncementStatus
from scheduler.attendance.models import Attendance, AttendanceMethod, RegisterEvent, SignedSheet
from scheduler.auth.models import LoginToken, Role, User
from scheduler.calendar.models import CalendarCopy, Meeting, MeetingStatus, Rsvp, RsvpStatus, Venue
from scheduler.calendar.reply_models import CalendarReply, ReplyOutcome
from scheduler.calls.models import Area, Call, Comune, Phase, Track, track_facilitators
from scheduler.mailing.models import (
    DeliveryAttempt,
    MailBounce,
    MailCategory,
    MailOptOut,
    OutboxMessage,
    OutboxStatus,
)
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationEvent,
    ApplicationStatus,
    Contact,
    ContactKind,
    LegalForm,
    Organization,
    organization_comuni,
)

__all__ = [
    "Announcement",
    "AnnouncementStatus",
    "Application",
    "ApplicationArea",
    "ApplicationEvent",
    "ApplicationStatus",
    "Area",
    "Attendance",
    "AttendanceMethod",
    "CalendarCopy",
    "CalendarReply",
    "Call",
    "Comune",
    "Contact",
    "ContactKind",
    "DeliveryAttempt",
    "LegalForm",
    "LoginToken",
    "MailBounce",
    "MailCategory",
    "MailOptOut",
    "Meeting",
    "MeetingStatus",
    "Organization",
    "OutboxMessage",
    "OutboxStatus",
    "Phase",
    "RegisterEvent",
    "ReplyOutcome",
    "Role",
    "Rsvp",
    "RsvpStatus",
    "SignedSheet",
    "Track",
    "User",
    "Venue",
    "organization_comuni",
    "track_facilitators",
]
