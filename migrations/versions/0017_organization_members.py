"""one person, several entities: organization_members (the entities each entity account speaks for), filled
from users.organization_id, which it replaces; login_tokens.organization_id (the entity a link was sent for)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-17 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "organization_members",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_organization_members_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_organization_members_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "organization_id", name=op.f("pk_organization_members")),
    )
    with op.batch_alter_table("organization_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organization_members_organization_id"), ["organization_id"],
                              unique=False)
    op.execute(
        "INSERT INTO organization_members (user_id, organization_id, created_at) "
        "SELECT id, organization_id, created_at FROM users WHERE organization_id IS NOT NULL"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_entity_has_organization"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_users_organization_id_organizations"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_organization_id"))
        batch_op.drop_column("organization_id")
    with op.batch_alter_table("login_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_login_tokens_organization_id_organizations"), "organizations",
                                    ["organization_id"], ["id"], ondelete="CASCADE")


def downgrade():
    with op.batch_alter_table("login_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_login_tokens_organization_id_organizations"), type_="foreignkey")
        batch_op.drop_column("organization_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_organization_id"), ["organization_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_organization_id_organizations"), "organizations",
                                    ["organization_id"], ["id"], ondelete="CASCADE")
    # an account keeps the first of its entities (the others cannot be told apart by the old schema)
    op.execute(
        "UPDATE users SET organization_id = (SELECT MIN(m.organization_id) FROM organization_members m "
        "WHERE m.user_id = users.id)"
    )
    op.drop_table("organization_members")
