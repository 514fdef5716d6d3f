"""one presence per person per meeting: attendances.person_key (entity or guest body, and name, as compared) and a
unique index on the present person. Existing rows are keyed; where the same person was stored present twice, the
earliest mark stays and the later ones are kept as undone, so the register and the reports count them once

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-17 10:00:00

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _key(organization_id, guest_organization, name):
    """As `scheduler.attendance.models.person_key` (stored texts are already cleaned: only case and spaces)."""
    def norm(text):
        return " ".join((text or "").split()).casefold()

    if organization_id is not None:
        return f"e{organization_id}|{norm(name)}"[:520]
    return f"g|{norm(guest_organization)}|{norm(name)}"[:520]


def upgrade():
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_key", sa.String(length=520), nullable=True))
    conn = op.get_bind()
    table = sa.table("attendances", sa.column("id"), sa.column("meeting_id"), sa.column("organization_id"),
                     sa.column("guest_organization"), sa.column("person_name"), sa.column("person_key"),
                     sa.column("undone_at", sa.DateTime(timezone=True)), sa.column("checked_in_at"))
    rows = conn.execute(sa.select(table.c.id, table.c.meeting_id, table.c.organization_id,
                                  table.c.guest_organization, table.c.person_name, table.c.undone_at)
                        .order_by(table.c.checked_in_at, table.c.id)).all()
    present = set()
    now = datetime.now(timezone.utc)
    for row in rows:
        key = _key(row.organization_id, row.guest_organization, row.person_name)
        values = {"person_key": key}
        if row.undone_at is None:
            if (row.meeting_id, key) in present:
                values["undone_at"] = now  # the same person stored present twice: counted once from now on
            present.add((row.meeting_id, key))
        conn.execute(sa.update(table).where(table.c.id == row.id).values(**values))
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.alter_column("person_key", existing_type=sa.String(length=520), nullable=False)
        batch_op.create_index("uq_attendances_present_person", ["meeting_id", "person_key"], unique=True,
                              sqlite_where=sa.text("undone_at IS NULL"),
                              postgresql_where=sa.text("undone_at IS NULL"))


def downgrade():
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.drop_index("uq_attendances_present_person", sqlite_where=sa.text("undone_at IS NULL"),
                            postgresql_where=sa.text("undone_at IS NULL"))
        batch_op.drop_column("person_key")
