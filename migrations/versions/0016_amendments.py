"""amendments that keep the admission: applications.pending_scope (what an admitted entity asked to add) and
pending_scope_at (when); no existing row changes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_scope", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("pending_scope_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_applications_pending_scope_at"), ["pending_scope_at"], unique=False)


def downgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_pending_scope_at"))
        batch_op.drop_column("pending_scope_at")
        batch_op.drop_column("pending_scope")
