"""tables managed in the app (tracks.venue_id, edited_in_app_at, closed_at), a cancelled meeting's reason,
the audit log, successive calls (calls.is_current, archived_at, call_invitations), the meeting's page (agenda,
mode, online link, published minutes, documents)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("venue_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("edited_in_app_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_tracks_venue_id"), ["venue_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_tracks_venue_id_venues"), "venues", ["venue_id"], ["id"],
                                    ondelete="SET NULL")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agenda", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("mode", sa.String(length=9), nullable=False, server_default="in_person"))
        batch_op.add_column(sa.Column("online_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("minutes_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("minutes_published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("minutes_published_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_meetings_minutes_published_by_id_users"), "users",
                                    ["minutes_published_by_id"], ["id"], ondelete="SET NULL")
        batch_op.create_check_constraint("meeting_mode", sa.column("mode").in_(("in_person", "online", "hybrid")))
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        for name in ("cancel_reason", "agenda", "mode", "minutes_text"):
            batch_op.alter_column(name, server_default=None)
    op.create_table(
        "meeting_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("visibility", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("visibility IN ('public', 'admitted')", name=op.f("ck_meeting_documents_document_visibility")),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_documents_meeting_id_meetings"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"],
                                name=op.f("fk_meeting_documents_uploaded_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_documents")),
    )
    with op.batch_alter_table("meeting_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_documents_meeting_id"), ["meeting_id"], unique=False)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_current", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("is_current", server_default=None)
    # the call the site showed (the one loaded last) stays the one its short addresses show
    op.execute("UPDATE calls SET is_current = true WHERE id = (SELECT max(id) FROM calls)")
    op.create_index("uq_calls_current", "calls", ["is_current"], unique=True,
                    postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current"))
    op.create_table(
        "call_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("from_call_id", sa.Integer(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_call_invitations_application_id_applications"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_call_invitations_call_id_calls"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["from_call_id"], ["calls.id"], name=op.f("fk_call_invitations_from_call_id_calls"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invited_by_id"], ["users.id"], name=op.f("fk_call_invitations_invited_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_call_invitations_organization_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_invitations")),
        sa.UniqueConstraint("call_id", "organization_id", name=op.f("uq_call_invitations_call_id_organization_id")),
    )
    with op.batch_alter_table("call_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_invitations_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_invitations_organization_id"), ["organization_id"], unique=False)
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_entries_actor_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_audit_entries_call_id_calls"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_call_id"), ["call_id"], unique=False)
        batch_op.create_index("ix_audit_entries_subject", ["subject_type", "subject_id"], unique=False)


def downgrade():
    op.drop_table("audit_entries")
    op.drop_table("call_invitations")
    op.drop_index("uq_calls_current", table_name="calls")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("is_current")
    op.drop_table("meeting_documents")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_constraint("meeting_mode", type_="check")
        batch_op.drop_constraint(batch_op.f("fk_meetings_minutes_published_by_id_users"), type_="foreignkey")
        for name in ("minutes_published_by_id", "minutes_published_at", "minutes_text", "online_url", "mode",
                     "agenda", "cancel_reason"):
            batch_op.drop_column(name)
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tracks_venue_id_venues"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_tracks_venue_id"))
        batch_op.drop_column("closed_at")
        batch_op.drop_column("edited_in_app_at")
        batch_op.drop_column("venue_id")
