"""staff reports go to a recipient (the Headteacher, or a line manager or the senior team the school
names, clauses 5.3 and 12.3): each report keeps its recipient's id (every report before this went to
the Headteacher), and `report_readers` holds the account the headteacher chose to read each other
recipient's reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "recipient", sa.String(length=64), nullable=False, server_default="headteacher"
            )
        )
    op.create_table(
        "report_readers",
        sa.Column("recipient", sa.String(length=64), primary_key=True),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("chosen_by", sa.String(length=64), nullable=False),
        sa.Column("chosen_at", sa.String(length=20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_readers")
    with op.batch_alter_table("staff_reports", schema=None) as batch_op:
        batch_op.drop_column("recipient")
