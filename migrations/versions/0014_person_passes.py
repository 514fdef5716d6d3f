"""person_passes: the named people of an answer who gave an e-mail, each with their own invitation and check-in
codes (no existing row changes)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "person_passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rsvp_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("checkin_code", sa.String(length=64), nullable=False),
        sa.Column("short_code", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_person_passes_meeting_id_meetings"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rsvp_id"], ["rsvps.id"], name=op.f("fk_person_passes_rsvp_id_rsvps"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_passes")),
        sa.UniqueConstraint("checkin_code", name=op.f("uq_person_passes_checkin_code")),
        sa.UniqueConstraint("meeting_id", "email", name=op.f("uq_person_passes_meeting_id_email")),
        sa.UniqueConstraint("meeting_id", "short_code", name=op.f("uq_person_passes_meeting_id_short_code")),
    )
    with op.batch_alter_table("person_passes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_passes_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_passes_rsvp_id"), ["rsvp_id"], unique=False)


def downgrade():
    op.drop_table("person_passes")
