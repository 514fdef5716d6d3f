"""calendar_replies: the log of the replies (iTIP REPLY) read from the office's mailbox, one row per message

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OUTCOMES = ("applied", "unknown", "forged", "late", "refused", "ignored", "duplicate", "unreadable")


def upgrade():
    op.create_table(
        "calendar_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Enum(*OUTCOMES, name="calendar_reply_outcome", native_enum=False,
                                     create_constraint=True, length=10), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("partstat", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_calendar_replies_meeting_id_meetings"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_calendar_replies_organization_id_organizations"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_replies")),
        sa.UniqueConstraint("message_hash", name=op.f("uq_calendar_replies_message_hash")),
    )
    with op.batch_alter_table("calendar_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_replies_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendar_replies_organization_id"), ["organization_id"], unique=False)


def downgrade():
    with op.batch_alter_table("calendar_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_replies_organization_id"))
        batch_op.drop_index(batch_op.f("ix_calendar_replies_meeting_id"))
    op.drop_table("calendar_replies")
