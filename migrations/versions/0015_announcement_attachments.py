"""announcement_attachments: files staff attach to an announcement, kept once and named by each of its outbox
messages (no existing row changes)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "announcement_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcements.id"],
                                name=op.f("fk_announcement_attachments_announcement_id_announcements"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"],
                                name=op.f("fk_announcement_attachments_uploaded_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_attachments")),
    )
    with op.batch_alter_table("announcement_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcement_attachments_announcement_id"), ["announcement_id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("announcement_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_attachments_announcement_id"))
    op.drop_table("announcement_attachments")
