"""the Ambito as tenant: an `ambiti` table; each call belongs to one (calls.ambito_id, in place of the name the call
carried), one current call per Ambito; staff and facilitators belong to one (users.ambito_id).

An existing installation moves into its first Ambito, the default one (it answers every host name, so no address
changes): one Ambito per distinct name its calls carried, with the settings of its newest call; every staff member
and facilitator joins the first. Call slugs, feed tokens and meeting UIDs are untouched.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 02:00:00

"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _slug(name, taken):
    """As `scheduler.calls.ambiti.slug_for`, frozen here: "Ambito territoriale di Crema" gives "crema"."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"^(ambito\s+(territoriale|distrettuale|sociale)?\s*(di|del|della|dei|delle)?\s*)", "", text)
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:36].strip("-")
    text = text if len(text) >= 2 else "ambito"
    slug, n = text, 2
    while slug in taken:
        slug, n = f"{text}-{n}", n + 1
    taken.add(slug)
    return slug


def upgrade():
    ambiti = op.create_table(
        "ambiti",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lead_municipality", sa.String(length=200), nullable=False),
        sa.Column("ipa_code", sa.String(length=20), nullable=False),
        sa.Column("office_name", sa.String(length=200), nullable=False),
        sa.Column("office_email", sa.String(length=254), nullable=False),
        sa.Column("mail_sender", sa.String(length=254), nullable=False),
        sa.Column("privacy_controller", sa.String(length=200), nullable=False),
        sa.Column("privacy_dpo_name", sa.String(length=200), nullable=False),
        sa.Column("privacy_dpo_email", sa.String(length=254), nullable=False),
        sa.Column("responsible", sa.String(length=300), nullable=False),
        sa.Column("heading", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ambiti")),
        sa.UniqueConstraint("host", name=op.f("uq_ambiti_host")),
        sa.UniqueConstraint("slug", name=op.f("uq_ambiti_slug")),
    )
    op.create_index("uq_ambiti_default", "ambiti", ["is_default"], unique=True,
                    postgresql_where=sa.text("is_default"), sqlite_where=sa.text("is_default"))

    bind = op.get_bind()
    calls = sa.table("calls", sa.column("id", sa.Integer), sa.column("ambito", sa.String),
                     sa.column("lead_municipality", sa.String), sa.column("office_name", sa.String),
                     sa.column("office_email", sa.String), sa.column("privacy_controller", sa.String),
                     sa.column("privacy_dpo_name", sa.String), sa.column("privacy_dpo_email", sa.String),
                     sa.column("procedure_manager", sa.String), sa.column("loaded_at", sa.DateTime))
    rows = bind.execute(sa.select(calls).order_by(calls.c.id)).mappings().all()
    newest = {}
    first_seen = []
    for row in rows:
        if row["ambito"] not in newest:
            first_seen.append(row["ambito"])
        newest[row["ambito"]] = row
    taken = set()
    ids = {}
    for position, name in enumerate(first_seen):
        call = newest[name]
        result = bind.execute(ambiti.insert().values(
            slug=_slug(name, taken), name=name, lead_municipality=call["lead_municipality"], ipa_code="",
            office_name=call["office_name"], office_email=call["office_email"], mail_sender="",
            privacy_controller=call["privacy_controller"], privacy_dpo_name=call["privacy_dpo_name"],
            privacy_dpo_email=call["privacy_dpo_email"], responsible=call["procedure_manager"] or "", heading="",
            host=None, is_default=position == 0, created_at=sa.func.now()))
        ids[name] = result.inserted_primary_key[0]

    op.drop_index("uq_calls_current", table_name="calls")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ambito_id", sa.Integer(), nullable=True))
    calls_now = sa.table("calls", sa.column("ambito", sa.String), sa.column("ambito_id", sa.Integer))
    for name, ambito_id in ids.items():
        bind.execute(calls_now.update().where(calls_now.c.ambito == name).values(ambito_id=ambito_id))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("ambito_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f("ix_calls_ambito_id"), ["ambito_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_calls_ambito_id_ambiti"), "ambiti", ["ambito_id"], ["id"],
                                    ondelete="RESTRICT")
        batch_op.drop_column("ambito")
    op.create_index("uq_calls_current", "calls", ["ambito_id", "is_current"], unique=True,
                    postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current"))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ambito_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_ambito_id"), ["ambito_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_ambito_id_ambiti"), "ambiti", ["ambito_id"], ["id"],
                                    ondelete="RESTRICT")
    if first_seen:
        op.execute(sa.text("UPDATE users SET ambito_id = :ambito WHERE role IN ('staff', 'facilitator')")
                   .bindparams(ambito=ids[first_seen[0]]))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_ambito_id_ambiti"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_ambito_id"))
        batch_op.drop_column("ambito_id")
    op.drop_index("uq_calls_current", table_name="calls")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ambito", sa.String(length=200), nullable=True))
    op.execute("UPDATE calls SET ambito = (SELECT name FROM ambiti WHERE ambiti.id = calls.ambito_id)")
    # one current call on the installation again: the newest of those that were current
    op.execute("UPDATE calls SET is_current = false WHERE is_current AND id <> "
               "(SELECT max(id) FROM calls WHERE is_current)")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("ambito", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_constraint(batch_op.f("fk_calls_ambito_id_ambiti"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_calls_ambito_id"))
        batch_op.drop_column("ambito_id")
    op.create_index("uq_calls_current", "calls", ["is_current"], unique=True,
                    postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current"))
    op.drop_index("uq_ambiti_default", table_name="ambiti")
    op.drop_table("ambiti")
