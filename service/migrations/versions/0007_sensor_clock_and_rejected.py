"""sensors: `outbox_rejected` (events the service refused for good, as the sensor's outbox counts
them) and `clock_skew_seconds` (how far the sensor's clock was ahead of the service's, negative
when behind, at its last batch), shown on the Sensors page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sensors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outbox_rejected", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("clock_skew_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sensors", schema=None) as batch_op:
        batch_op.drop_column("clock_skew_seconds")
        batch_op.drop_column("outbox_rejected")
