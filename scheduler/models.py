"""Every model, imported in one place so the metadata is complete for Alembic and the tests."""

from scheduler.agreements.models import Agreement, AgreementAdhesion, AgreementInvitation, AgreementStatus
from scheduler.announcements.models import Announcement, AnnouncementStatus
from scheduler.attendance.models import Attendance, AttendanceMethod, RegisterEvent, SignedSheet
from scheduler.audit.models import AuditEntry
from scheduler.auth.models import LoginToken, Role, User
from scheduler.calendar.models import (
    CalendarCopy,
    DocumentVisibility,
    Meeting,
    MeetingDocument,
    MeetingMode,
    MeetingStatus,
    Rsvp,
    RsvpStatus,
    Venue,
)
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
    CallInvitation,
    Contact,
    ContactKind,
    LegalForm,
    Organization,
    organization_comuni,
)

__all__ = [
    "Agreement",
    "AgreementAdhesion",
    "AgreementInvitation",
    "AgreementStatus",
    "Announcement",
    "AnnouncementStatus",
    "Application",
    "ApplicationArea",
    "ApplicationEvent",
    "ApplicationStatus",
    "Area",
    "Attendance",
    "AttendanceMethod",
    "AuditEntry",
    "CalendarCopy",
    "CalendarReply",
    "Call",
    "CallInvitation",
    "Comune",
    "Contact",
    "ContactKind",
    "DeliveryAttempt",
    "DocumentVisibility",
    "LegalForm",
    "LoginToken",
    "MailBounce",
    "MailCategory",
    "MailOptOut",
    "Meeting",
    "MeetingDocument",
    "MeetingMode",
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
