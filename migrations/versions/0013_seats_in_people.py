"""seats in people: rsvps.seats (the people an answer holds, what capacity counts; filled from the named
people of each confirmed or waiting answer) and meetings.seats_per_entity (staff's cap per entity)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00

"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.alter_column("seats", server_default=None)
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats_per_entity", sa.Integer(), nullable=True))
    # a confirmed or waiting answer holds a seat for each person it names (at least one)
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, people FROM rsvps WHERE status IN ('yes', 'waitlist')")).all()
    for rsvp_id, people in rows:
        if isinstance(people, str):
            people = json.loads(people or "[]")
        seats = max(len(people or []), 1)
        connection.execute(sa.text("UPDATE rsvps SET seats = :seats WHERE id = :id"), {"seats": seats, "id": rsvp_id})


def downgrade():
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("seats_per_entity")
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.drop_column("seats")
