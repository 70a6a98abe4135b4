"""school_accounts: `kind`, which kind of id is approved (account: a login of its own; profile:
a person's own profile; page: a Page, matched only while someone acts as it). Facebook and
Messenger rows stored before were matched on c_user, a person's own profile, and say so now.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE school_accounts SET kind = 'profile' WHERE platform IN ('facebook', 'messenger')"
    )


def downgrade() -> None:
    with op.batch_alter_table("school_accounts", schema=None) as batch_op:
        batch_op.drop_column("kind")
