"""the installation's administrators: the role "platform" (creates the Ambiti and their first staff account, of
no Ambito); whose each e-mail of the outbox is (outbox_messages.ambito_id: only its office lists it; every
existing message is the default Ambito's) and the sender it leaves from (outbox_messages.sender, empty: the
installation's)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 03:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

ROLES_BEFORE = ("staff", "facilitator", "entity")
ROLES_AFTER = ("staff", "facilitator", "entity", "platform")


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("role", type_="check")
        batch_op.create_check_constraint("role", sa.column("role").in_(ROLES_AFTER))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ambito_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sender", sa.String(length=254), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_messages_ambito_id"), ["ambito_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_outbox_messages_ambito_id_ambiti"), "ambiti", ["ambito_id"],
                                    ["id"], ondelete="SET NULL")
    op.execute("UPDATE outbox_messages SET ambito_id = (SELECT id FROM ambiti WHERE is_default)")


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_messages_ambito_id_ambiti"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_ambito_id"))
        batch_op.drop_column("sender")
        batch_op.drop_column("ambito_id")
    op.execute("DELETE FROM users WHERE role = 'platform'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("role", type_="check")
        batch_op.create_check_constraint("role", sa.column("role").in_(ROLES_BEFORE))
