"""Queries on investigations (clause 4.3, four eyes): opened by the headteacher, countersigned by
a governor, closed by either. Each takes a connection; each step is written to the audit log in
the caller's transaction. Who may take a step is checked by the caller."""

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service import audit
from service.db import investigations
from service.queries import count_device_events
from service.store import iso


async def list_investigations(conn: AsyncConnection) -> list[Any]:
    """Newest first."""
    return list(await conn.execute(select(investigations).order_by(investigations.c.id.desc())))


async def get_investigation(conn: AsyncConnection, ident: int) -> Any:
    return (await conn.execute(select(investigations).where(investigations.c.id == ident))).first()


async def open_investigation(
    conn: AsyncConnection, *, reason: str, actor: str, now: datetime
) -> None:
    at = iso(now)
    await conn.execute(investigations.insert().values(opened_by=actor, opened_at=at, reason=reason))
    await audit.record(
        conn, at=at, actor=actor, action="investigation.open", detail={"reason": reason}
    )


async def countersign_investigation(
    conn: AsyncConnection, ident: int, *, actor: str, now: datetime
) -> None:
    at = iso(now)
    await conn.execute(
        update(investigations)
        .where(investigations.c.id == ident)
        .values(countersigned_by=actor, countersigned_at=at)
    )
    await audit.record(
        conn, at=at, actor=actor, action="investigation.countersign", detail={"id": ident}
    )


async def match_device(
    conn: AsyncConnection, ident: int, *, device: str, nym: str, actor: str, now: datetime
) -> int:
    """How many stored events carry this one device's pseudonym: a count, never a list."""
    count = await count_device_events(conn, nym)
    await audit.record(
        conn,
        at=iso(now),
        actor=actor,
        action="investigation.test",
        detail={"id": ident, "device": device, "matching_events": count},
    )
    return count


async def close_investigation(
    conn: AsyncConnection, ident: int, *, actor: str, now: datetime
) -> None:
    at = iso(now)
    await conn.execute(
        update(investigations).where(investigations.c.id == ident).values(closed_at=at)
    )
    await audit.record(conn, at=at, actor=actor, action="investigation.close", detail={"id": ident})
