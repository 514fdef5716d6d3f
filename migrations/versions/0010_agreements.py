"""agreements, agreement_invitations, agreement_adhesions: the Accordo di Programma, the entities asked to
adhere and their adhesions (one in force per entity; annulled ones kept)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.Enum("draft", "open", name="agreement_status", native_enum=False,
                                    create_constraint=True, length=5), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_filename", sa.String(length=200), nullable=False),
        sa.Column("document_content_type", sa.String(length=60), nullable=False),
        sa.Column("document_size", sa.Integer(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("document_data", sa.LargeBinary(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_agreements_call_id_calls"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_agreements_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["opened_by_id"], ["users.id"], name=op.f("fk_agreements_opened_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_call_id"), ["call_id"], unique=False)

    op.create_table(
        "agreement_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"],
                                name=op.f("fk_agreement_invitations_agreement_id_agreements"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_agreement_invitations_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_invitations")),
        sa.UniqueConstraint("agreement_id", "organization_id",
                            name=op.f("uq_agreement_invitations_agreement_id_organization_id")),
    )
    with op.batch_alter_table("agreement_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_invitations_agreement_id"), ["agreement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreement_invitations_organization_id"), ["organization_id"],
                              unique=False)

    op.create_table(
        "agreement_adhesions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("adhered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("signatory_name", sa.String(length=200), nullable=False),
        sa.Column("signatory_role", sa.String(length=120), nullable=False),
        sa.Column("signed_filename", sa.String(length=200), nullable=True),
        sa.Column("signed_content_type", sa.String(length=60), nullable=True),
        sa.Column("signed_size", sa.Integer(), nullable=True),
        sa.Column("signed_sha256", sa.String(length=64), nullable=True),
        sa.Column("signed_data", sa.LargeBinary(), nullable=True),
        sa.Column("annulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("annulled_by_id", sa.Integer(), nullable=True),
        sa.Column("annul_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["agreement_invitations.id"],
                                name=op.f("fk_agreement_adhesions_invitation_id_agreement_invitations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_agreement_adhesions_user_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["annulled_by_id"], ["users.id"],
                                name=op.f("fk_agreement_adhesions_annulled_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_adhesions")),
    )
    with op.batch_alter_table("agreement_adhesions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_adhesions_invitation_id"), ["invitation_id"], unique=False)
        # one adhesion in force per asked entity; annulled ones are kept beside it
        batch_op.create_index("uq_agreement_adhesions_in_force", ["invitation_id"], unique=True,
                              sqlite_where=sa.text("annulled_at IS NULL"),
                              postgresql_where=sa.text("annulled_at IS NULL"))


def downgrade():
    with op.batch_alter_table("agreement_adhesions", schema=None) as batch_op:
        batch_op.drop_index("uq_agreement_adhesions_in_force")
        batch_op.drop_index(batch_op.f("ix_agreement_adhesions_invitation_id"))
    op.drop_table("agreement_adhesions")
    with op.batch_alter_table("agreement_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_invitations_organization_id"))
        batch_op.drop_index(batch_op.f("ix_agreement_invitations_agreement_id"))
    op.drop_table("agreement_invitations")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_call_id"))
    op.drop_table("agreements")
