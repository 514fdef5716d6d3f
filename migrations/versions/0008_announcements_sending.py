"""announcements: the "sending" state (a venue notice whose messages the worker writes) and the notice's venue

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BEFORE = ("draft", "scheduled", "sent")
AFTER = ("draft", "scheduled", "sending", "sent")


def upgrade():
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("venue_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_announcements_venue_id_venues"), "venues", ["venue_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.drop_constraint("announcement_status", type_="check")
        batch_op.create_check_constraint("announcement_status", sa.column("status").in_(AFTER))


def downgrade():
    op.execute("UPDATE announcements SET status = 'sent' WHERE status = 'sending'")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_constraint("announcement_status", type_="check")
        batch_op.create_check_constraint("announcement_status", sa.column("status").in_(BEFORE))
        batch_op.drop_constraint(batch_op.f("fk_announcements_venue_id_venues"), type_="foreignkey")
        batch_op.drop_column("venue_id")
