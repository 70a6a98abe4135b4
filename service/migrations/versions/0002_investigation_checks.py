"""investigation checks: a countersigned request to test one device, answered by the sensors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "investigation_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("investigation_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.String(length=20), nullable=False),
        sa.Column("expires_at", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigation_checks")),
    )
    op.create_table(
        "investigation_answers",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("sensor", sa.String(length=64), nullable=False),
        sa.Column("answered_at", sa.String(length=20), nullable=False),
        sa.Column("matching_events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("check_id", "sensor", name=op.f("pk_investigation_answers")),
    )


def downgrade() -> None:
    op.drop_table("investigation_answers")
    op.drop_table("investigation_checks")
