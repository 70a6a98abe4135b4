"""Queries on the school's own accounts (clause 10.1): requests, approval, expiry, and the
accounts.yaml entries applied at each start. Each takes a connection; every change is written to
the audit log in the caller's transaction."""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service import audit
from service.db import school_accounts
from service.settings_store import get_settings, put_setting
from service.store import StoreError, iso


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
    becomes a school account waiting for the headteacher's approval (clause 10.1: whoever can
    edit the file is not the headteacher, whatever its `approved_by` says), one removed from the
    file is expired, each change audited as from accounts.yaml. An account already approved stays
    approved while its entry is unchanged; a change made in the admin pages stays until the file's
    entry itself changes. Returns what could not be applied, one line each (also kept for the
    page)."""
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
        # The file's approved_by/approved_on are what it claims; the store's approval is the
        # headteacher's own, given in the Accounts page.
        waiting = {**values, "approved_by": None, "approved_on": None, "approved_at": None}
        if row is None:
            await conn.execute(
                school_accounts.insert().values(
                    id=account,
                    status="pending",
                    source="config",
                    requested_by=ACCOUNTS_FILE,
                    created_at=iso(now),
                    **waiting,
                )
            )
            change = "added"
        else:
            await conn.execute(
                update(school_accounts)
                .where(school_accounts.c.id == account)
                .values(status="pending", **waiting)
            )
            change = "changed"
        await audit.record(
            conn,
            at=iso(now),
            actor=ACCOUNTS_FILE,
            action="account.sync",
            detail={
                "id": account,
                "change": change,
                "from": ACCOUNTS_FILE,
                "state": "waiting for the headteacher's approval",
                **values,
            },
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
