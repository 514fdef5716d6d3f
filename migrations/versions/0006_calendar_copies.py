"""Calendar copies (which addresses hold each meeting's event, and the SEQUENCE each was last sent); meetings keep
the number they were planned with; confirmed answers get their short check-in code now rather than on display

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:00:00

"""
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# as scheduler.calendar.services at the time of this migration
SHORT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SHORT_CODE_LENGTH = 6


def upgrade():
    op.create_table(
        "calendar_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_calendar_copies_meeting_id_meetings"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_calendar_copies_organization_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_copies")),
        sa.UniqueConstraint("meeting_id", "email", name=op.f("uq_calendar_copies_meeting_id_email")),
    )
    with op.batch_alter_table("calendar_copies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_copies_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendar_copies_organization_id"), ["organization_id"], unique=False)
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))

    connection = op.get_bind()
    meetings = sa.table("meetings", sa.column("id", sa.Integer), sa.column("track_id", sa.Integer),
                        sa.column("starts_at", sa.DateTime), sa.column("number", sa.Integer),
                        sa.column("sequence", sa.Integer))
    # the number each meeting's title showed until now: its place in the track by start
    rows = connection.execute(sa.select(meetings.c.id, meetings.c.track_id)
                              .order_by(meetings.c.track_id, meetings.c.starts_at, meetings.c.id)).all()
    position: dict[int, int] = {}
    for meeting_id, track_id in rows:
        position[track_id] = position.get(track_id, 0) + 1
        connection.execute(meetings.update().where(meetings.c.id == meeting_id).values(number=position[track_id]))

    # who holds each event today: the recipient of every confirmed or waiting answer's invitation (the person who
    # answered, else the entity's address), at the meeting's SEQUENCE
    rsvps = sa.table("rsvps", sa.column("id", sa.Integer), sa.column("meeting_id", sa.Integer),
                     sa.column("organization_id", sa.Integer), sa.column("status", sa.String),
                     sa.column("answered_by_id", sa.Integer), sa.column("short_code", sa.String))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String),
                     sa.column("full_name", sa.String), sa.column("active", sa.Boolean))
    organizations = sa.table("organizations", sa.column("id", sa.Integer), sa.column("email", sa.String),
                             sa.column("name", sa.String))
    copies = sa.table("calendar_copies", sa.column("meeting_id", sa.Integer), sa.column("organization_id", sa.Integer),
                      sa.column("email", sa.String), sa.column("name", sa.String), sa.column("sequence", sa.Integer),
                      sa.column("held", sa.Boolean), sa.column("created_at", sa.DateTime(timezone=True)),
                      sa.column("updated_at", sa.DateTime(timezone=True)))
    answers = connection.execute(
        sa.select(rsvps.c.id, rsvps.c.meeting_id, rsvps.c.organization_id, rsvps.c.status, rsvps.c.short_code,
                  users.c.email, users.c.full_name, users.c.active, organizations.c.email, organizations.c.name,
                  meetings.c.sequence)
        .select_from(rsvps.join(organizations, organizations.c.id == rsvps.c.organization_id)
                     .join(meetings, meetings.c.id == rsvps.c.meeting_id)
                     .outerjoin(users, users.c.id == rsvps.c.answered_by_id))
        .where(rsvps.c.status.in_(["yes", "waitlist"]))
        .order_by(rsvps.c.id)
    ).all()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":  # as the app's UTCDateTime writes it there: UTC, no zone
        now = now.replace(tzinfo=None)
    seen: set[tuple[int, str]] = set()
    codes: dict[int, set[str]] = {}
    for row in connection.execute(sa.select(rsvps.c.meeting_id, rsvps.c.short_code)
                                  .where(rsvps.c.short_code.is_not(None))):
        codes.setdefault(row[0], set()).add(row[1])
    for (rsvp_id, meeting_id, org_id, status, short_code, user_email, user_name, user_active, org_email, org_name,
         sequence) in answers:
        if user_email and user_active:
            email, name = user_email, user_name or org_name
        else:
            email, name = org_email, org_name
        if email and (meeting_id, email.strip().lower()) not in seen:
            seen.add((meeting_id, email.strip().lower()))
            connection.execute(copies.insert().values(
                meeting_id=meeting_id, organization_id=org_id, email=email.strip().lower(), name=name or "",
                sequence=sequence or 0, held=True, created_at=now, updated_at=now))
        if status == "yes" and not short_code:
            taken = codes.setdefault(meeting_id, set())
            code = None
            while code is None or code in taken:
                code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
            taken.add(code)
            connection.execute(rsvps.update().where(rsvps.c.id == rsvp_id).values(short_code=code))


def downgrade():
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("number")
    with op.batch_alter_table("calendar_copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_copies_organization_id"))
        batch_op.drop_index(batch_op.f("ix_calendar_copies_meeting_id"))
    op.drop_table("calendar_copies")
