"""staff reports: what a member of staff chose to tell the headteacher (clause 8.1), kept apart
from the events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.String(length=20), nullable=False),
        sa.Column("sensor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=True),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("email_status", sa.String(length=16), nullable=False),
        sa.Column("email_detail", sa.String(length=200), nullable=True),
        sa.Column("first_read_at", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_reports")),
        sa.UniqueConstraint("reference", name=op.f("uq_staff_reports_reference")),
    )


def downgrade() -> None:
    op.drop_table("staff_reports")
