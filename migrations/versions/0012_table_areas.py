"""a table for several areas (track_areas, filled with each table's area), and meetings changed in the app
(meetings.edited_in_app_at), which reloading the call file no longer changes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "track_areas",
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_track_areas_area_id_areas"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], name=op.f("fk_track_areas_track_id_tracks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("track_id", "area_id", name=op.f("pk_track_areas")),
    )
    with op.batch_alter_table("track_areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_track_areas_area_id"), ["area_id"], unique=False)
    # every existing table serves the one area it had
    op.execute("INSERT INTO track_areas (track_id, area_id) SELECT id, area_id FROM tracks")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_in_app_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("edited_in_app_at")
    with op.batch_alter_table("track_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_track_areas_area_id"))
    op.drop_table("track_areas")
