"""The audit log: every admin action (who, what, when; never a secret), hash-chained.

Each entry's hash covers the previous entry's hash, so editing or deleting an entry breaks the
chain from there on; `clausewarden audit verify` walks it.
"""

import hashlib
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.db import audit_log

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: str, actor: str, action: str, detail: str) -> str:
    payload = orjson.dumps([prev_hash, at, actor, action, detail])
    return hashlib.sha256(payload).hexdigest()


async def record(
    conn: AsyncConnection, *, at: str, actor: str, action: str, detail: dict[str, Any]
) -> None:
    """Append one entry (inside the caller's transaction)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    prev = (
        await conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1))
    ).scalar()
    prev_hash = prev or GENESIS
    detail_text = orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()
    await conn.execute(
        audit_log.insert().values(
            at=at,
            actor=actor,
            action=action,
            detail=detail_text,
            prev_hash=prev_hash,
            hash=entry_hash(prev_hash, at, actor, action, detail_text),
        )
    )


async def verify(conn: AsyncConnection) -> tuple[int, list[str]]:
    """Walk the chain; return (entries checked, problems found)."""
    problems: list[str] = []
    prev_hash = GENESIS
    count = 0
    result = await conn.stream(select(audit_log).order_by(audit_log.c.id))
    async for row in result:
        count += 1
        if row.prev_hash != prev_hash:
            problems.append(f"entry {row.id}: the entry before it was changed or deleted")
        expected = entry_hash(row.prev_hash, row.at, row.actor, row.action, row.detail)
        if row.hash != expected:
            problems.append(f"entry {row.id}: its content was changed after it was written")
        prev_hash = row.hash
    return count, problems


async def recent(conn: AsyncConnection, limit: int = 200) -> list[Any]:
    rows = await conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
    return list(rows)
