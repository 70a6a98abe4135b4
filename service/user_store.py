"""Queries on the people who use the admin pages and their API tokens (each takes a connection;
every change is written to the audit log in the caller's transaction)."""

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service import audit
from service.db import api_tokens, users
from service.security import ROLES, hash_password, new_token, token_hash
from service.store import StoreError, by_token, iso


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
    return await by_token(conn, api_tokens, token)


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


async def has_users(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(users.c.id).limit(1))).first() is not None
