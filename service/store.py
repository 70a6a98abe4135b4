"""Queries on settings, sensors and school accounts (each takes a connection; every change is
written to the audit log in the caller's transaction). Users and API tokens: service.user_store."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Table, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.ids import SENSOR_NAME
from service import audit
from service.db import school_accounts, sensors, settings
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


async def add_sensor(conn: AsyncConnection, name: str, *, actor: str, now: datetime) -> str:
    """Register a sensor; returns its token (shown once, stored only as a hash)."""
    if not SENSOR_NAME.fullmatch(name):  # the proxy checks its configured name the same way
        raise StoreError(
            "a sensor name is 1-64 letters, digits, '-' or '_', starting with a letter or digit"
        )
    existing = (await conn.execute(select(sensors.c.id).where(sensors.c.name == name))).first()
    if existing:
        raise StoreError(f"there is already a sensor called {name!r}")
    token = new_token("cws")
    await conn.execute(
        sensors.insert().values(name=name, token_hash=token_hash(token), created_at=iso(now))
    )
    await audit.record(conn, at=iso(now), actor=actor, action="sensor.add", detail={"name": name})
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


# school accounts -----------------------------------------------------------------------------


async def list_accounts(conn: AsyncConnection, status: str | None = None) -> list[Any]:
    query = select(school_accounts).order_by(school_accounts.c.platform, school_accounts.c.id)
    if status:
        query = query.where(school_accounts.c.status == status)
    return list(await conn.execute(query))


async def get_account(conn: AsyncConnection, account_id: str) -> Any:
    return (
        await conn.execute(select(school_accounts).where(school_accounts.c.id == account_id))
    ).first()


async def open_account_exists(conn: AsyncConnection, platform: str, account_id: str) -> bool:
    """Whether this platform account is already pending or approved (not expired)."""
    row = await conn.execute(
        select(school_accounts.c.id).where(
            school_accounts.c.platform == platform,
            school_accounts.c.account_id == account_id,
            school_accounts.c.status != "expired",
        )
    )
    return row.first() is not None


async def add_account(
    conn: AsyncConnection,
    *,
    id: str,
    platform: str,
    account_id: str,
    label: str,
    actions: list[str],
    expires_on: date | None,
    source: str,
    actor: str,
    now: datetime,
    kind: str | None = None,
) -> None:
    if await get_account(conn, id):
        raise StoreError(f"there is already a school account with id {id!r}")
    await conn.execute(
        school_accounts.insert().values(
            id=id,
            platform=platform,
            account_id=account_id,
            label=label,
            actions=",".join(actions),
            status="pending",
            source=source,
            requested_by=actor,
            created_at=iso(now),
            expires_on=expires_on.isoformat() if expires_on else None,
            kind=kind,
        )
    )
    await audit.record(
        conn,
        at=iso(now),
        actor=actor,
        action="account.add",
        detail={"id": id, "platform": platform, "kind": kind, "label": label, "source": source},
    )


async def count_pending_accounts(conn: AsyncConnection) -> int:
    """How many accounts wait for the headteacher's approval (the notice in the admin pages)."""
    row = await conn.execute(
        select(func.count())
        .select_from(school_accounts)
        .where(school_accounts.c.status == "pending")
    )
    return int(row.scalar_one())


async def edit_account(
    conn: AsyncConnection,
    account: str,
    *,
    label: str,
    actions: list[str],
    expires_on: date | None,
    actor: str,
    now: datetime,
) -> None:
    result = await conn.execute(
        update(school_accounts)
        .where(school_accounts.c.id == account)
        .values(
            label=label,
            actions=",".join(actions),
            expires_on=expires_on.isoformat() if expires_on else None,
        )
    )
    if result.rowcount == 0:
        raise StoreError(f"no school account {account!r}")
    await audit.record(
        conn,
        at=iso(now),
        actor=actor,
        action="account.edit",
        detail={
            "id": account,
            "label": label,
            "actions": actions,
            "expires_on": expires_on.isoformat() if expires_on else None,
        },
    )


async def unapprove_account(conn: AsyncConnection, account: str) -> None:
    """An approved account goes back to pending (it needs the headteacher's approval again)."""
    await conn.execute(
        update(school_accounts)
        .where(school_accounts.c.id == account, school_accounts.c.status == "approved")
        .values(status="pending")
    )


async def approve_account(
    conn: AsyncConnection,
    account: str,
    *,
    actor: str,
    today: date,
    now: datetime,
    actions: list[str] | None = None,
    expires_on: date | None = None,
) -> None:
    """Clause 10.1: only the headteacher's approval makes an account allowed (checked by caller).
    The approval sets the allowed actions and the expiry when given (the approval form does)."""
    values: dict[str, Any] = {
        "status": "approved",
        "approved_by": actor,
        "approved_at": iso(now),
        "approved_on": today.isoformat(),
    }
    if actions is not None:
        values["actions"] = ",".join(actions)
    if expires_on is not None:
        if expires_on < today:
            raise StoreError("the expiry date is already past")
        values["expires_on"] = expires_on.isoformat()
    result = await conn.execute(
        update(school_accounts)
        .where(school_accounts.c.id == account, school_accounts.c.status == "pending")
        .values(**values)
    )
    if result.rowcount == 0:
        raise StoreError(f"no pending school account {account!r}")
    detail: dict[str, Any] = {"id": account}
    if actions is not None:
        detail["actions"] = actions
    if expires_on is not None:
        detail["expires_on"] = expires_on.isoformat()
    await audit.record(conn, at=iso(now), actor=actor, action="account.approve", detail=detail)


async def expire_account(
    conn: AsyncConnection, account: str, *, actor: str, today: date, now: datetime
) -> None:
    row = await get_account(conn, account)
    if row is None:
        raise StoreError(f"no school account {account!r}")
    if row.status == "pending":
        await conn.execute(delete(school_accounts).where(school_accounts.c.id == account))
        action = "account.reject"
    else:
        await conn.execute(
            update(school_accounts)
            .where(school_accounts.c.id == account)
            .values(status="expired", expires_on=today.isoformat())
        )
        action = "account.expire"
    await audit.record(conn, at=iso(now), actor=actor, action=action, detail={"id": account})


ACCOUNTS_FILE = "accounts.yaml"
FILE_STATE = "_accounts_yaml"
"""Each accounts.yaml entry as it was last applied (id -> its fields), and what could not be."""


def _file_values(entry: dict[str, Any]) -> dict[str, Any]:
    """The store's columns for one accounts.yaml entry (already validated; kind resolved)."""
    return {
        "platform": entry["platform"],
        "account_id": entry["account_id"],
        "label": entry["label"],
        "actions": ",".join(entry["actions"]),
        "approved_by": entry["approved_by"],
        "approved_on": entry["approved_on"],
        "expires_on": entry["expires_on"],
        "kind": entry["kind"],
    }


async def sync_accounts_file(
    conn: AsyncConnection, entries: list[dict[str, Any]], *, today: date, now: datetime
) -> list[str]:
    """Apply accounts.yaml at each start: an entry new or changed since it was last applied
    becomes the store's approved account, one removed from the file is expired, each change
    audited as from accounts.yaml. A change made in the admin pages stays until the file's entry
    itself changes. Returns what could not be applied, one line each (also kept for the page)."""
    state = (await get_settings(conn)).get(FILE_STATE) or {}
    applied: dict[str, Any] = dict(state.get("applied") or {})
    problems: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        account = entry["id"]
        seen.add(account)
        values = _file_values(entry)
        row = await get_account(conn, account)
        if row is not None and row.source != "config":
            problems.append(
                f"{ACCOUNTS_FILE}: {account!r} was not applied: an account with that id was added "
                "in the admin pages; give the file's entry another id"
            )
            continue
        if applied.get(account) == values:
            continue  # unchanged in the file since it was applied: the pages' changes stand
        applied[account] = values
        current = {k: getattr(row, k) for k in values} if row is not None else None
        if row is not None and current == values and row.status == "approved":
            continue  # the store already holds it (a store seeded by an older version)
        if row is None:
            await conn.execute(
                school_accounts.insert().values(
                    id=account,
                    status="approved",
                    source="config",
                    requested_by=ACCOUNTS_FILE,
                    created_at=iso(now),
                    approved_at=iso(now),
                    **values,
                )
            )
            change = "added"
        else:
            await conn.execute(
                update(school_accounts)
                .where(school_accounts.c.id == account)
                .values(status="approved", approved_at=iso(now), **values)
            )
            change = "changed"
        await audit.record(
            conn,
            at=iso(now),
            actor=ACCOUNTS_FILE,
            action="account.sync",
            detail={"id": account, "change": change, "from": ACCOUNTS_FILE, **values},
        )
    for account in sorted(set(applied) - seen):
        del applied[account]
        row = await get_account(conn, account)
        if row is None or row.source != "config" or row.status == "expired":
            continue
        await conn.execute(
            update(school_accounts)
            .where(school_accounts.c.id == account)
            .values(status="expired", expires_on=(today - timedelta(days=1)).isoformat())
        )
        await audit.record(
            conn,
            at=iso(now),
            actor=ACCOUNTS_FILE,
            action="account.sync",
            detail={"id": account, "change": "removed", "from": ACCOUNTS_FILE},
        )
    await put_setting(conn, FILE_STATE, {"applied": applied, "problems": problems})
    return problems


async def accounts_file_problems(conn: AsyncConnection) -> list[str]:
    """What the last start could not apply from accounts.yaml."""
    state = (await get_settings(conn)).get(FILE_STATE) or {}
    return list(state.get("problems") or [])
