"""events: `may_apply`, the clause ids that may apply (a message or a friend request: whether the
person is a pupil, a parent or a carer, clauses 8.1 and 11.4.3, is not known), apart from
`clauses`, those that apply; every event stored before says none (an older sensor named every
clause under `clauses`)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A list like `clauses` (service.db.ClauseIds): an array of text on PostgreSQL, a JSON array
    # on SQLite.
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "events",
            sa.Column(
                "may_apply",
                postgresql.ARRAY(sa.Text()),
                nullable=False,
                server_default=sa.text("'{}'::text[]"),
            ),
        )
        return
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("may_apply", sa.Text(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("may_apply")
