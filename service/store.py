"""Queries on sensors, users, tokens, settings and school accounts (each takes a connection)."""

from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service import audit
from service.db import api_tokens, school_accounts, sensors, settings, users
from service.security import ROLES, hash_password, new_token, token_hash

EDITABLE_SETTINGS = ("privacy_level", "k_anonymity", "retention_days")


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


# sensors -------------------------------------------------------------------------------------


async def add_sensor(conn: AsyncConnection, name: str, *, actor: str, now: datetime) -> str:
    """Register a sensor; returns its token (shown once, stored only as a hash)."""
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise StoreError("a sensor name is 1-64 letters, digits, '-' or '_'")
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


async def sensor_by_token(conn: AsyncConnection, token: str) -> Any:
    return (
        await conn.execute(select(sensors).where(sensors.c.token_hash == token_hash(token)))
    ).first()


async def list_sensors(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(sensors).order_by(sensors.c.name)))


# users and API tokens ------------------------------------------------------------------------


async def add_user(
    conn: AsyncConnection, name: str, role: str, password: str, *, actor: str, now: datetime
) -> None:
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise StoreError("a user name is 1-64 characters without spaces")
    if len(password) < 10:
        raise StoreError("a password needs at least 10 characters")
    if (await conn.execute(select(users.c.id).where(users.c.name == name))).first():
        raise StoreError(f"there is already a user called {name!r}")
    await conn.execute(
        users.insert().values(
            name=name,
            role=role,
            password_hash=hash_password(password),
            created_at=iso(now),
            disabled=False,
        )
    )
    await audit.record(
        conn, at=iso(now), actor=actor, action="user.add", detail={"name": name, "role": role}
    )


async def set_user(
    conn: AsyncConnection,
    name: str,
    *,
    actor: str,
    now: datetime,
    role: str | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> None:
    values: dict[str, Any] = {}
    detail: dict[str, Any] = {"name": name}
    if role is not None:
        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}")
        values["role"] = detail["role"] = role
    if disabled is not None:
        values["disabled"] = detail["disabled"] = disabled
    if password is not None:
        if len(password) < 10:
            raise StoreError("a password needs at least 10 characters")
        values["password_hash"] = hash_password(password)
        detail["password"] = "changed"  # noqa: S105 - a note, never the password
    result = await conn.execute(update(users).where(users.c.name == name).values(**values))
    if result.rowcount == 0:
        raise StoreError(f"no user called {name!r}")
    await audit.record(conn, at=iso(now), actor=actor, action="user.change", detail=detail)


async def get_user(conn: AsyncConnection, name: str) -> Any:
    return (await conn.execute(select(users).where(users.c.name == name))).first()


async def list_users(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(users).order_by(users.c.name)))


async def add_api_token(
    conn: AsyncConnection, name: str, *, user_name: str, role: str, now: datetime
) -> str:
    token = new_token("cwa")
    await conn.execute(
        api_tokens.insert().values(
            name=name[:64] or "token",
            user_name=user_name,
            role=role,
            token_hash=token_hash(token),
            created_at=iso(now),
        )
    )
    await audit.record(
        conn,
        at=iso(now),
        actor=user_name,
        action="api_token.add",
        detail={"name": name, "role": role},
    )
    return token


async def api_token_by_token(conn: AsyncConnection, token: str) -> Any:
    return (
        await conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash(token)))
    ).first()


async def list_api_tokens(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(api_tokens).order_by(api_tokens.c.id)))


async def revoke_api_token(
    conn: AsyncConnection, token_id: int, *, actor: str, now: datetime
) -> None:
    await conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=iso(now))
    )
    await audit.record(
        conn, at=iso(now), actor=actor, action="api_token.revoke", detail={"id": token_id}
    )


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
        )
    )
    await audit.record(
        conn,
        at=iso(now),
        actor=actor,
        action="account.add",
        detail={"id": id, "platform": platform, "label": label, "source": source},
    )


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


async def approve_account(
    conn: AsyncConnection, account: str, *, actor: str, today: date, now: datetime
) -> None:
    """Clause 10.1: only the headteacher's approval makes an account allowed (checked by caller)."""
    result = await conn.execute(
        update(school_accounts)
        .where(school_accounts.c.id == account, school_accounts.c.status == "pending")
        .values(
            status="approved",
            approved_by=actor,
            approved_at=iso(now),
            approved_on=today.isoformat(),
        )
    )
    if result.rowcount == 0:
        raise StoreError(f"no pending school account {account!r}")
    await audit.record(
        conn, at=iso(now), actor=actor, action="account.approve", detail={"id": account}
    )


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
