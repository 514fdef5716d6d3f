"""arrival and departure: meetings.records_departures (the register records when each person leaves; off for
every existing meeting) and attendances.left_at (empty: stayed to the end); no existing row changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-17 11:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("records_departures", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.drop_column("left_at")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("records_departures")
