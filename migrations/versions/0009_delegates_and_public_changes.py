"""contacts.confirmed_at (a delegate's address confirmed by its owner) and organizations.pending_public (changes
to what the public list shows, waiting for staff)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_public", sa.JSON(), nullable=True))
    # delegates added before confirmation existed keep receiving what they received: they count as confirmed
    op.execute("UPDATE contacts SET confirmed_at = CURRENT_TIMESTAMP WHERE kind = 'delegate'")


def downgrade():
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("pending_public")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("confirmed_at")
