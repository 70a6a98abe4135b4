"""Queries on the people who use the admin pages and their API tokens (each takes a connection;
every change is written to the audit log in the caller's transaction).

Four eyes that are two people: a headteacher or governor role counts only once an existing,
different headteacher or governor approved it, and the approver may not be the person who made
the account or gave it the role (nor someone that person made alone). Until then the account is
"waiting": it cannot log in. The one exception is the very first headteacher, made on the server
with `clausewarden user add` while no approved headteacher or governor exists; every account made
from the command line is listed to every headteacher and governor (`announced`).

Every change to a user is in the audit chain with a keyed digest of the user's resulting state
(service.audit), so `clausewarden audit verify` finds a users table edited outside these functions.

Sessions: each user has a session generation; a session carries the generation it was made
with, and logging out, a password or role change and disabling raise it, ending every session of
that user at once.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service import audit
from service.db import api_tokens, users
from service.security import FOUR_EYES_ROLES, ROLES, hash_password, new_token, token_hash
from service.store import StoreError, by_token, iso

CLI = "cli"
"""The actor of a change made with `clausewarden` on the server."""
BEFORE_APPROVALS = "(before approvals)"
"""created_by/approved_by of an account that existed before approvals were kept (migration 0003)."""
RESERVED_NAMES = frozenset({CLI, "service", "demo"})


def is_waiting(user: Any) -> bool:
    """A headteacher or governor role no one has approved yet."""
    return user.role in FOUR_EYES_ROLES and user.approved_by is None


def is_active(user: Any) -> bool:
    """May log in and act: not disabled, and not waiting for an approval."""
    return user is not None and not user.disabled and not is_waiting(user)


async def _any_approved_four_eyes(conn: AsyncConnection) -> bool:
    row = await conn.execute(
        select(users.c.id)
        .where(users.c.role.in_(sorted(FOUR_EYES_ROLES)), users.c.approved_by.is_not(None))
        .limit(1)
    )
    return row.first() is not None


async def _approval_for(
    conn: AsyncConnection, role: str, *, from_cli: bool, now: datetime
) -> tuple[str | None, str | None]:
    """(approved_by, approved_at) for a role being given: the very first headteacher from the
    server's command line stands approved; any other headteacher or governor waits."""
    if role not in FOUR_EYES_ROLES:
        return None, None
    if from_cli and role == "headteacher" and not await _any_approved_four_eyes(conn):
        return CLI, iso(now)
    return None, None


async def add_user(
    conn: AsyncConnection,
    name: str,
    role: str,
    password: str,
    *,
    actor: str,
    now: datetime,
    from_cli: bool = False,
) -> None:
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 64 or any(c.isspace() for c in name) or name.startswith("("):
        raise StoreError("a user name is 1-64 characters without spaces")
    if name in RESERVED_NAMES:
        raise StoreError(f"{name!r} is reserved; choose another user name")
    if len(password) < 10:
        raise StoreError("a password needs at least 10 characters")
    if (await conn.execute(select(users.c.id).where(users.c.name == name))).first():
        raise StoreError(f"there is already a user called {name!r}")
    approved_by, approved_at = await _approval_for(conn, role, from_cli=from_cli, now=now)
    await conn.execute(
        users.insert().values(
            name=name,
            role=role,
            password_hash=hash_password(password),
            created_at=iso(now),
            disabled=False,
            created_by=actor,
            granted_by=actor,
            approved_by=approved_by,
            approved_at=approved_at,
            session_gen=0,
        )
    )
    detail: dict[str, Any] = {"name": name, "role": role}
    if role in FOUR_EYES_ROLES:
        detail["state"] = (
            "first headteacher, made on the server" if approved_by else "waiting for approval"
        )
    detail[audit.USER_STATE] = await audit.user_state(conn, name)
    await audit.record(conn, at=iso(now), actor=actor, action="user.add", detail=detail)


async def set_user(
    conn: AsyncConnection,
    name: str,
    *,
    actor: str,
    now: datetime,
    role: str | None = None,
    disabled: bool | None = None,
    password: str | None = None,
    from_cli: bool = False,
) -> None:
    target = await get_user(conn, name)
    if target is None:
        raise StoreError(f"no user called {name!r}")
    values: dict[str, Any] = {}
    detail: dict[str, Any] = {"name": name}
    if role is not None and role != target.role:
        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}")
        values["role"] = detail["role"] = role
        values["granted_by"] = actor
        values["approved_by"], values["approved_at"] = await _approval_for(
            conn, role, from_cli=from_cli, now=now
        )
        if role in FOUR_EYES_ROLES:
            detail["state"] = "approved" if values["approved_by"] else "waiting for approval"
    if disabled is not None and disabled != bool(target.disabled):
        values["disabled"] = detail["disabled"] = disabled
    if password is not None:
        if len(password) < 10:
            raise StoreError("a password needs at least 10 characters")
        values["password_hash"] = hash_password(password)
        detail["password"] = "changed"  # noqa: S105 - a note, never the password
        if actor != name and target.role in FOUR_EYES_ROLES and "role" not in values:
            # Whoever set it knows it now: the role waits for a new approval.
            values["granted_by"] = actor
            values["approved_by"], values["approved_at"] = await _approval_for(
                conn, target.role, from_cli=from_cli, now=now
            )
            detail["state"] = "approved" if values["approved_by"] else "waiting for approval"
    if not values:
        return
    values["session_gen"] = users.c.session_gen + 1  # every session of theirs ends
    await conn.execute(update(users).where(users.c.name == name).values(**values))
    detail[audit.USER_STATE] = await audit.user_state(conn, name)
    await audit.record(conn, at=iso(now), actor=actor, action="user.change", detail=detail)


async def end_sessions(conn: AsyncConnection, name: str, *, now: datetime) -> None:
    """Log a user out everywhere (every session made before now stops working)."""
    await conn.execute(
        update(users).where(users.c.name == name).values(session_gen=users.c.session_gen + 1)
    )
    await audit.record(conn, at=iso(now), actor=name, action="logout", detail={})


async def _principals(conn: AsyncConnection, who: str | None, depth: int = 0) -> set[str]:
    """Who stands behind `who` as a person: an approved headteacher or governor (or the server's
    command line, or an account from before approvals) stands for themself; any other account
    stands for whoever made it (they chose its first password)."""
    if who is None:
        return set()
    row = await get_user(conn, who)
    if row is None or depth > 16:
        return {who}
    if row.role in FOUR_EYES_ROLES and row.approved_by is not None:
        return {who}
    if row.created_by is None or row.created_by == who:
        return {who}
    return await _principals(conn, row.created_by, depth + 1)


async def _makers(conn: AsyncConnection, user: Any) -> set[str]:
    """The people who made this account and gave it its role."""
    return await _principals(conn, user.created_by) | await _principals(conn, user.granted_by)


async def approve_user(conn: AsyncConnection, name: str, *, approver: str, now: datetime) -> None:
    """`approver`, an approved headteacher or governor, confirms `name`'s waiting role."""
    target = await get_user(conn, name)
    if target is None:
        raise StoreError(f"no user called {name!r}")
    if not is_waiting(target):
        raise StoreError(f"{name} is not waiting for an approval")
    by = await get_user(conn, approver)
    if not is_active(by) or by.role not in FOUR_EYES_ROLES:
        raise StoreError("only an approved headteacher or governor approves these roles")
    if approver == name or approver in await _makers(conn, target):
        raise StoreError(
            f"{name} was made or given the role by you: another headteacher or governor approves it"
        )
    await conn.execute(
        update(users)
        .where(users.c.name == name)
        .values(approved_by=approver, approved_at=iso(now), session_gen=users.c.session_gen + 1)
    )
    await audit.record(
        conn,
        at=iso(now),
        actor=approver,
        action="user.approve",
        detail={
            "name": name,
            "role": target.role,
            audit.USER_STATE: await audit.user_state(conn, name),
        },
    )


async def approved_independently(conn: AsyncConnection, governor: str, opener: str) -> bool:
    """Whether `governor` is an approved governor whose account `opener` did not make, give the
    role and approve alone (so the two signatures of an investigation are two people)."""
    row = await get_user(conn, governor)
    if not is_active(row) or row.role != "governor" or governor == opener:
        return False
    people = await _makers(conn, row) | await _principals(conn, row.approved_by)
    return not people <= {opener}


async def get_user(conn: AsyncConnection, name: str) -> Any:
    return (await conn.execute(select(users).where(users.c.name == name))).first()


async def list_users(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(users).order_by(users.c.name)))


async def waiting(conn: AsyncConnection) -> list[Any]:
    """Headteacher and governor roles waiting for an approval (not disabled)."""
    rows = await conn.execute(
        select(users)
        .where(
            users.c.role.in_(sorted(FOUR_EYES_ROLES)),
            users.c.approved_by.is_(None),
            users.c.disabled.is_(False),
        )
        .order_by(users.c.name)
    )
    return list(rows)


async def announced(conn: AsyncConnection) -> list[Any]:
    """Accounts made or approved on the server's command line (or from before approvals were
    kept): every headteacher and governor is shown them."""
    marks = (CLI, BEFORE_APPROVALS)
    rows = await conn.execute(
        select(users)
        .where(
            or_(
                users.c.created_by.in_(marks),
                users.c.granted_by.in_(marks),
                users.c.approved_by.in_(marks),
            )
        )
        .order_by(users.c.created_at, users.c.name)
    )
    return list(rows)


async def add_api_token(
    conn: AsyncConnection, name: str, *, user_name: str, role: str, now: datetime
) -> str:
    token = new_token("cwa")
    inserted = await conn.execute(
        api_tokens.insert().values(
            name=name[:64] or "token",
            user_name=user_name,
            role=role,
            token_hash=token_hash(token),
            created_at=iso(now),
        )
    )
    token_id = int(inserted.inserted_primary_key[0])
    await audit.record(
        conn,
        at=iso(now),
        actor=user_name,
        action="api_token.add",
        detail={
            "name": name,
            "role": role,
            "id": token_id,
            audit.TOKEN_STATE: await audit.token_state(conn, token_id),
        },
    )
    return token


async def api_token_by_token(conn: AsyncConnection, token: str) -> Any:
    """The API token's row, or None when there is no such token or its owner may no longer log
    in (disabled, or their role waits for an approval)."""
    row = await by_token(conn, api_tokens, token)
    if row is None or not is_active(await get_user(conn, row.user_name)):
        return None
    return row


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
        conn,
        at=iso(now),
        actor=actor,
        action="api_token.revoke",
        detail={"id": token_id, audit.TOKEN_STATE: await audit.token_state(conn, token_id)},
    )


async def has_users(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(users.c.id).limit(1))).first() is not None
