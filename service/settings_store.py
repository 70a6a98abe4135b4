"""The settings (each change written to the audit log in the caller's transaction): what the
admin pages change, and the headteacher's approval of a change an admin proposed."""

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service import audit
from service.db import settings
from service.store import StoreError, iso

EDITABLE_SETTINGS = (
    "privacy_level",
    "k_anonymity",
    "retention_days",
    "personal_use_outside_working_time",
)
"""The settings of the admin pages that change what is kept and shown, and whether clause 7 warns
outside working time: the headteacher sets them, or approves an admin's proposal
(propose_settings, decide_settings)."""


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
