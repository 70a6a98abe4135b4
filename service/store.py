"""Queries on settings and sensors (each takes a connection; every change is written to the audit
log in the caller's transaction). School accounts: service.account_store; users and API tokens:
service.user_store."""

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.ids import SENSOR_NAME
from service import audit
from service.db import sensors, settings
from service.security import new_token, token_hash

EDITABLE_SETTINGS = (
    "privacy_level",
    "k_anonymity",
    "retention_days",
    "personal_use_outside_working_time",
)
"""The settings of the admin pages that change what is kept and shown, and whether clause 7 warns
outside working time: the headteacher sets them, or approves an admin's proposal
(propose_settings, decide_settings)."""


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class StoreError(ValueError):
    """A request the store refuses (a name taken, an unknown user): the message says why."""


# settings ------------------------------------------------------------------------------------


async def get_settings(conn: AsyncConnection) -> dict[str, Any]:
    rows = await conn.execute(select(settings.c.key, settings.c.value))
    return {key: orjson.loads(value) for key, value in rows}


async def put_setting(conn: AsyncConnection, key: str, value: Any) -> None:
    await conn.execute(delete(settings).where(settings.c.key == key))
    await conn.execute(settings.insert().values(key=key, value=orjson.dumps(value).decode()))


async def save_settings(
    conn: AsyncConnection, values: dict[str, Any], *, action: str, actor: str, now: datetime
) -> None:
    """Several settings changed by one person, as one audited action."""
    for key, value in values.items():
        await put_setting(conn, key, value)
    await audit.record(conn, at=iso(now), actor=actor, action=action, detail=values)


PENDING_SETTINGS = "_pending_settings"
"""A change of k, retention or privacy level an admin proposed, waiting for the headteacher."""


async def pending_settings(conn: AsyncConnection) -> dict[str, Any] | None:
    """The proposal waiting for the headteacher: values, proposed_by, proposed_at (or None)."""
    row = (
        await conn.execute(select(settings.c.value).where(settings.c.key == PENDING_SETTINGS))
    ).first()
    return orjson.loads(row[0]) if row else None


async def propose_settings(
    conn: AsyncConnection, values: dict[str, Any], *, actor: str, now: datetime
) -> None:
    """k, retention or privacy level proposed by someone who is not the headteacher: nothing
    changes until a headteacher approves (it replaces an earlier proposal)."""
    if set(values) - set(EDITABLE_SETTINGS):
        raise StoreError(
            "only k, the retention period, the privacy level and clause 7 outside working time "
            "wait for approval"
        )
    proposal = {"values": values, "proposed_by": actor, "proposed_at": iso(now)}
    await put_setting(conn, PENDING_SETTINGS, proposal)
    await audit.record(conn, at=iso(now), actor=actor, action="settings.propose", detail=values)


async def decide_settings(
    conn: AsyncConnection, *, approve: bool, actor: str, now: datetime
) -> dict[str, Any]:
    """The headteacher (checked by the caller) approves or rejects the waiting proposal; on
    approval its values take effect. Returns the proposal."""
    proposal = await pending_settings(conn)
    if proposal is None:
        raise StoreError("no change is waiting for approval")
    if proposal["proposed_by"] == actor:
        raise StoreError("a change is approved by someone other than the person who proposed it")
    await conn.execute(delete(settings).where(settings.c.key == PENDING_SETTINGS))
    if approve:
        for key, value in proposal["values"].items():
            if key in EDITABLE_SETTINGS:
                await put_setting(conn, key, value)
    await audit.record(
        conn,
        at=iso(now),
        actor=actor,
        action="settings.approve" if approve else "settings.reject",
        detail={"proposed_by": proposal["proposed_by"], **proposal["values"]},
    )
    return proposal


async def ping(conn: AsyncConnection) -> None:
    """A round trip to the database (for the health check)."""
    await conn.execute(text("SELECT 1"))


# sensors -------------------------------------------------------------------------------------


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


async def by_token(conn: AsyncConnection, table: Table, token: str) -> Any:
    """The row of `table` (sensors, API tokens) that holds this bearer token's hash, or None."""
    return (
        await conn.execute(select(table).where(table.c.token_hash == token_hash(token)))
    ).first()


async def sensor_by_token(conn: AsyncConnection, token: str) -> Any:
    return await by_token(conn, sensors, token)


async def list_sensors(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(sensors).order_by(sensors.c.name)))


async def get_sensor(conn: AsyncConnection, name: str) -> Any:
    return (await conn.execute(select(sensors).where(sensors.c.name == name))).first()


async def delete_sensor(conn: AsyncConnection, name: str) -> None:
    """Forget a sensor's row, so its name can be registered again (the demo's own sensor)."""
    await conn.execute(delete(sensors).where(sensors.c.name == name))


async def note_sensor_status(conn: AsyncConnection, sensor_id: int, values: dict[str, Any]) -> None:
    """What a sensor said of itself with its last batch (last_seen, its outbox's state)."""
    await conn.execute(update(sensors).where(sensors.c.id == sensor_id).values(**values))
