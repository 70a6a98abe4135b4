"""The sensors: registered with a token shown once (stored as a hash), revoked, and what each
said of itself with its last batch. Every change is written to the audit log."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.ids import SENSOR_NAME
from service import audit
from service.db import events, sensors
from service.security import new_token, token_hash
from service.store import StoreError, by_token, iso

SENSOR_KINDS = ("proxy", "laptop", "enrol")


async def add_sensor(
    conn: AsyncConnection, name: str, *, actor: str, now: datetime, kind: str = "proxy"
) -> str:
    """Register a sensor; returns its token (shown once, stored only as a hash). `kind` "laptop"
    for an extension's credential: investigation checks reach it only when named; "enrol" for the
    managed policy's enrolment secret, which can only enrol laptops (service.enrolment)."""
    if kind not in SENSOR_KINDS:
        raise StoreError(f"a sensor's kind is one of {', '.join(SENSOR_KINDS)}, not {kind!r}")
    if not SENSOR_NAME.fullmatch(name):  # the proxy checks its configured name the same way
        raise StoreError(
            "a sensor name is 1-64 letters, digits, '-' or '_', starting with a letter or digit"
        )
    existing = (await conn.execute(select(sensors.c.id).where(sensors.c.name == name))).first()
    if existing:
        raise StoreError(f"there is already a sensor called {name!r}")
    token = new_token("cws")
    await conn.execute(
        sensors.insert().values(
            name=name, token_hash=token_hash(token), created_at=iso(now), kind=kind
        )
    )
    await audit.record(
        conn, at=iso(now), actor=actor, action="sensor.add", detail={"name": name, "kind": kind}
    )
    return token


async def revoke_sensor(conn: AsyncConnection, name: str, *, actor: str, now: datetime) -> None:
    result = await conn.execute(
        update(sensors)
        .where(sensors.c.name == name, sensors.c.revoked_at.is_(None))
        .values(revoked_at=iso(now))
    )
    if result.rowcount == 0:
        raise StoreError(f"no active sensor called {name!r}")
    await audit.record(
        conn, at=iso(now), actor=actor, action="sensor.revoke", detail={"name": name}
    )


async def sensor_by_token(conn: AsyncConnection, token: str) -> Any:
    return await by_token(conn, sensors, token)


async def list_sensors(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(sensors).order_by(sensors.c.name)))


async def last_events(conn: AsyncConnection, since: str) -> dict[str, str]:
    """Each proxy sensor's latest event time since `since` (events are timed to the configured
    granularity): the admin's check that a first warning arrived, which the reports cannot show
    while fewer than k devices have events. Proxies only: a laptop's events are one person's."""
    proxies = select(sensors.c.name).where(sensors.c.kind == "proxy")
    rows = await conn.execute(
        select(events.c.sensor, func.max(events.c.time))
        .where(events.c.time >= since, events.c.sensor.in_(proxies))
        .group_by(events.c.sensor)
    )
    return {name: latest for name, latest in rows}


async def get_sensor(conn: AsyncConnection, name: str) -> Any:
    return (await conn.execute(select(sensors).where(sensors.c.name == name))).first()


async def delete_sensor(conn: AsyncConnection, name: str) -> None:
    """Forget a sensor's row, so its name can be registered again (the demo's own sensor)."""
    await conn.execute(delete(sensors).where(sensors.c.name == name))


async def note_sensor_status(conn: AsyncConnection, sensor_id: int, values: dict[str, Any]) -> None:
    """What a sensor said of itself with its last batch (last_seen, its outbox's state)."""
    await conn.execute(update(sensors).where(sensors.c.id == sensor_id).values(**values))
