"""What every store module shares: times as stored, the error a person can make, a bearer
token's row, the health check's round trip. Settings: service.settings_store; sensors:
service.sensor_store; school accounts: service.account_store; users and API tokens:
service.user_store."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.security import token_hash


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class StoreError(ValueError):
    """A request the store refuses (a name taken, an unknown user): the message says why."""


async def ping(conn: AsyncConnection) -> None:
    """A round trip to the database (for the health check)."""
    await conn.execute(text("SELECT 1"))


async def by_token(conn: AsyncConnection, table: Table, token: str) -> Any:
    """The row of `table` (sensors, API tokens) that holds this bearer token's hash, or None."""
    return (
        await conn.execute(select(table).where(table.c.token_hash == token_hash(token)))
    ).first()
