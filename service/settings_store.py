"""The settings (each change written to the audit log in the caller's transaction): what the
admin pages change, and the headteacher's approval of a change an admin proposed."""

from dataclasses import dataclass
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
    await _note_replaced(conn, values, actor=actor, now=now)
    await audit.record(conn, at=iso(now), actor=actor, action=action, detail=values)


FILE_OF = {
    "terms": "schedule.yaml",
    "closures": "schedule.yaml",
    **{key: "settings.yaml" for key in EDITABLE_SETTINGS},
}
"""Which configuration file each setting the pages save comes from: once saved in the pages, the
page's value is in force and that file's value is read no more, until the file is used again."""
REPLACED = "_replaced_since"
"""For each file whose settings the pages replaced: since when, and by whom."""


@dataclass(frozen=True, slots=True)
class Replaced:
    """Settings of one configuration file that the admin pages replaced."""

    file: str
    keys: tuple[str, ...]
    since: str | None
    """When the pages first replaced them (None: before this was recorded)."""
    by: str | None


async def _note_replaced(
    conn: AsyncConnection, values: dict[str, Any], *, actor: str, now: datetime
) -> None:
    files = {FILE_OF[key] for key in values if key in FILE_OF}
    if not files:
        return
    noted: dict[str, Any] = (await get_settings(conn)).get(REPLACED) or {}
    fresh = {f: {"since": iso(now), "by": actor} for f in sorted(files) if f not in noted}
    if fresh:
        await put_setting(conn, REPLACED, {**noted, **fresh})


async def replaced_files(conn: AsyncConnection) -> list[Replaced]:
    """The configuration files some of whose settings the pages replaced, with since when."""
    stored = await get_settings(conn)
    noted: dict[str, Any] = stored.get(REPLACED) or {}
    out = []
    for file in ("schedule.yaml", "settings.yaml"):
        keys = tuple(k for k, f in FILE_OF.items() if f == file and k in stored)
        if keys:
            note = noted.get(file) or {}
            out.append(Replaced(file, keys, note.get("since"), note.get("by")))
    return out


LABELS = {
    "terms": "term dates",
    "closures": "closures",
    "privacy_level": "privacy level",
    "k_anonymity": "k",
    "retention_days": "retention",
    "personal_use_outside_working_time": "clause 7 outside working time",
}


def replaced_line(replaced: Replaced) -> str:
    """One line: which of the file's settings the pages replaced, since when, and the way back
    (the start banner and `config validate` print it; the Settings page says the same)."""
    what = ", ".join(LABELS[k] for k in replaced.keys)
    since = f"since {replaced.since} (by {replaced.by})" if replaced.since else "since an update"
    return (
        f"{replaced.file}: {what} are the Settings page's {since}; edits to them in "
        f"{replaced.file} are ignored. To use the file again: the Settings page's 'Use "
        f"{replaced.file} again', or `clausewarden config use-file {replaced.file}`"
    )


async def use_file_again(conn: AsyncConnection, file: str, *, actor: str, now: datetime) -> bool:
    """Forget what the pages saved of `file`'s settings, so the file is in force again (read
    at the next start of the service, or the next bundle). False when nothing was replaced."""
    keys = [k for k, f in FILE_OF.items() if f == file]
    if not keys:
        raise StoreError(f"{file}: the pages replace settings of schedule.yaml and settings.yaml")
    stored = await get_settings(conn)
    present = [k for k in keys if k in stored]
    noted: dict[str, Any] = dict(stored.get(REPLACED) or {})
    if not present and file not in noted:
        return False
    await conn.execute(delete(settings).where(settings.c.key.in_(present)))
    noted.pop(file, None)
    await put_setting(conn, REPLACED, noted)
    await audit.record(
        conn, at=iso(now), actor=actor, action="settings.use_file", detail={"file": file}
    )
    return True


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
        approved = {k: v for k, v in proposal["values"].items() if k in EDITABLE_SETTINGS}
        for key, value in approved.items():
            await put_setting(conn, key, value)
        await _note_replaced(conn, approved, actor=actor, now=now)
    await audit.record(
        conn,
        at=iso(now),
        actor=actor,
        action="settings.approve" if approve else "settings.reject",
        detail={"proposed_by": proposal["proposed_by"], **proposal["values"]},
    )
    return proposal
