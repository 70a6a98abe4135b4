"""staff reports: the day a report came (`received_on`), no longer its time to the second, the
sensor that relayed it or its platform: with those, a copy of the database matched a report (and
so its writer's name) to the one device whose events fell in the same slot

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_on", sa.String(length=10), nullable=True))
    op.execute("UPDATE staff_reports SET received_on = substr(received_at, 1, 10)")
    with op.batch_alter_table("staff_reports", schema=None) as batch_op:
        batch_op.alter_column("received_on", existing_type=sa.String(length=10), nullable=False)
        batch_op.drop_column("received_at")
        batch_op.drop_column("sensor")
        batch_op.drop_column("platform")


def downgrade() -> None:
    # What was dropped is gone: the day comes back as its midnight, the sensor as "unknown".
    with op.batch_alter_table("staff_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("sensor", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("platform", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE staff_reports SET received_at = received_on || 'T00:00:00Z', sensor = 'unknown'"
    )
    with op.batch_alter_table("staff_reports", schema=None) as batch_op:
        batch_op.alter_column("received_at", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("sensor", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("received_on")
