"""user approvals and session generations: who created an account, who gave its headteacher or
governor role and who approved it (four eyes), and a per-user session generation that ends every
session of that user at once

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BEFORE_APPROVALS = "(before approvals)"
"""Who created and approved an account that existed before approvals were kept (listed on the
headteacher's and governors' pages as not approved in the service)."""


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("granted_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("session_gen", sa.Integer(), nullable=False, server_default="0")
        )
    users = sa.table(
        "users",
        sa.column("created_by", sa.String),
        sa.column("granted_by", sa.String),
        sa.column("approved_by", sa.String),
    )
    op.execute(
        users.update().values(
            created_by=BEFORE_APPROVALS, granted_by=BEFORE_APPROVALS, approved_by=BEFORE_APPROVALS
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_gen")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("approved_by")
        batch_op.drop_column("granted_by")
        batch_op.drop_column("created_by")
