"""calendar change stamps: updated_at on venues, tracks and areas

Feeds answer conditional requests from one query over these stamps (and those of meetings, calls and answers),
without loading and rendering the events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:30:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from scheduler.dbtypes import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("venues", "tracks", "areas")


def upgrade():
    now = datetime.now(UTC)
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        table = sa.table(name, sa.column("updated_at", UTCDateTime()))
        op.execute(table.update().values(updated_at=now))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column("updated_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    for name in reversed(TABLES):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("updated_at")
