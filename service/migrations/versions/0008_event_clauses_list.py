"""events: `clauses` as a list (an array of text on PostgreSQL, a JSON array on SQLite) instead
of one `,6.2,7,` string, so nothing reads the clause ids by splitting a string; every stored
event keeps its clause ids, in order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Clause ids are digits and dots (policy.ids.CLAUSE_ID): nothing in them needs escaping in JSON.
_SQLITE_TO_JSON = """
UPDATE events SET clauses = CASE WHEN clauses = ',' THEN '[]'
    ELSE '["' || replace(substr(clauses, 2, length(clauses) - 2), ',', '","') || '"]' END
"""
_SQLITE_TO_STRING = """
UPDATE events SET clauses = CASE WHEN clauses = '[]' THEN ','
    ELSE ',' || replace(substr(clauses, 3, length(clauses) - 4), '","', ',') || ',' END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "events",
            "clauses",
            type_=postgresql.ARRAY(sa.Text()),
            existing_type=sa.String(length=200),
            existing_nullable=False,
            postgresql_using="string_to_array(btrim(clauses, ','), ',')::text[]",
        )
        return
    op.execute(_SQLITE_TO_JSON)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column(
            "clauses", type_=sa.Text(), existing_type=sa.String(length=200), existing_nullable=False
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "events",
            "clauses",
            type_=sa.String(length=200),
            existing_type=postgresql.ARRAY(sa.Text()),
            existing_nullable=False,
            postgresql_using=(
                "CASE WHEN cardinality(clauses) = 0 THEN ',' "
                "ELSE ',' || array_to_string(clauses, ',') || ',' END"
            ),
        )
        return
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column(
            "clauses", type_=sa.String(length=200), existing_type=sa.Text(), existing_nullable=False
        )
    op.execute(_SQLITE_TO_STRING)
