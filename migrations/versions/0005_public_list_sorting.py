"""organizations.sort_name (the name without accents and case, to sort lists in the database); indexes on the
latest-change columns the public list reads

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:00:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _sort_key(text: str) -> str:
    # as scheduler.formatting.sort_key at the time of this migration
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def upgrade():
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_name", sa.String(length=300), nullable=True))
    connection = op.get_bind()
    organizations = sa.table("organizations", sa.column("id", sa.Integer), sa.column("name", sa.String),
                             sa.column("sort_name", sa.String))
    rows = connection.execute(sa.select(organizations.c.id, organizations.c.name)).all()
    for row_id, name in rows:
        connection.execute(organizations.update().where(organizations.c.id == row_id)
                           .values(sort_name=_sort_key(name or "")))
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.alter_column("sort_name", existing_type=sa.String(length=300), nullable=False)
        batch_op.create_index(batch_op.f("ix_organizations_sort_name"), ["sort_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_organizations_updated_at"), ["updated_at"], unique=False)
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_events_at"), ["at"], unique=False)


def downgrade():
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_events_at"))
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_updated_at"))
        batch_op.drop_index(batch_op.f("ix_organizations_sort_name"))
        batch_op.drop_column("sort_name")
