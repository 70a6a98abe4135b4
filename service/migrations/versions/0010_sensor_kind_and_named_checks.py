"""sensors get a kind ("proxy": one per site, on a server; "laptop": an extension's credential),
and an investigation check may name the one sensor it is for: a check reaches a laptop's
credential only when the headteacher names it, and a proxy's otherwise

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sensors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="proxy")
        )
        batch_op.add_column(sa.Column("public_key", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("waiting", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("session_expires", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("last_challenge", sa.String(length=64), nullable=True))
    with op.batch_alter_table("investigation_checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sensor", sa.String(length=64), nullable=True))
    with op.batch_alter_table("investigation_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("investigation_answers", schema=None) as batch_op:
        batch_op.drop_column("voided_by")
    with op.batch_alter_table("investigation_checks", schema=None) as batch_op:
        batch_op.drop_column("sensor")
    with op.batch_alter_table("sensors", schema=None) as batch_op:
        for column in ("last_challenge", "session_expires", "waiting", "public_key", "kind"):
            batch_op.drop_column(column)
