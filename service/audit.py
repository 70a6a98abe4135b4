"""The audit log: every admin action (who, what, when; never a secret), chained under a key.

Each entry's hash is an HMAC-SHA-256, under a key kept outside the database (`audit.key` in the
data folder, 0600), of the previous entry's hash and the entry itself. Whoever can write to the
database but does not hold the key cannot edit, delete or re-hash entries unseen:
`clausewarden audit verify` walks the chain. Cutting off the newest entries, or a rewrite by
someone who also holds the data folder (and so the key), is caught against an anchor: the head
(entry count and hash) that the governors' audit page shows for them to write down, checked by
`clausewarden audit verify --anchor COUNT:HASH`.

Upgrading a log chained before the key existed (plain SHA-256): the first time a key is made for a
data folder whose log already has entries, those entries are checked as they were written, then
re-chained under the new key, and the re-chaining is itself an entry (with what the check found).
A key file that already exists is never replaced, so a log a database writer later re-hashes with
plain SHA-256 is not "upgraded": it fails.

Users and roles are in the chain too: each entry that adds, changes or approves a user carries
`user_state`, a keyed digest of what decides what that user may do (role, approval, who made and
granted it, disabled, password hash), and `verify` checks every row of the users table against the
last digest the chain holds for it; API tokens likewise (`token_state`: owner, role, hash,
revoked). So a users table edited outside ClauseWarden (an admin made headteacher in a copy of the
database, a password hash swapped, a token added) is reported, not "intact". A log from before
these states were kept gets one `user.baseline` entry holding every user's and token's, once.
"""

import hashlib
import hmac
import os
import re
import secrets
import weakref
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.db import api_tokens, audit_log, users

GENESIS = "0" * 64
KEY_FILE = "audit.key"
MIN_ANCHOR_HEX = 16
"""An anchor's hash may be written down shortened to its first 16 hex digits (64 bits)."""

_keys: "weakref.WeakKeyDictionary[Engine, bytes]" = weakref.WeakKeyDictionary()


class AuditKeyMissing(RuntimeError):
    """An engine was used to write the audit log before its key was loaded (a bug)."""


def _plain_hash(prev_hash: str, at: str, actor: str, action: str, detail: str) -> str:
    """The chain before the key existed (only for checking a log once, when re-chaining it)."""
    payload = orjson.dumps([prev_hash, at, actor, action, detail])
    return hashlib.sha256(payload).hexdigest()


def entry_hash(key: bytes, prev_hash: str, at: str, actor: str, action: str, detail: str) -> str:
    payload = orjson.dumps(["cw-audit-v2", prev_hash, at, actor, action, detail])
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def load_key(data_dir: Path) -> tuple[bytes, bool]:
    """The data folder's audit key: (key, whether it was made just now). Made at most once: two
    processes starting together agree on the one that reached the disk first."""
    path = data_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip()), False
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process made one meanwhile
        created = True
    except FileExistsError:
        created = False
    finally:
        tmp.unlink()
    return bytes.fromhex(path.read_text().strip()), created


def _key_of(conn: AsyncConnection) -> bytes:
    key = _keys.get(conn.sync_engine)
    if key is None:
        raise AuditKeyMissing("the audit log's key is not loaded (call service.audit.attach)")
    return key


async def attach(engine: AsyncEngine, data_dir: Path) -> None:
    """Load (or make) the data folder's key for this engine; re-chain a log from before keys;
    record the users' states once in a log from before they were kept."""
    key, created = load_key(data_dir)
    _keys[engine.sync_engine] = key
    if created:
        async with engine.begin() as conn:
            await _rechain(conn, key)
    async with engine.begin() as conn:
        await _baseline_users(conn, key)


USER_STATE = "user_state"
USER_BASELINE = "user.baseline"


def _user_digest(key: bytes, row: Any) -> str:
    """What decides what a user may do, under the audit key (so the log shows no password hash
    and a database writer without the key cannot make a matching one)."""
    fields = [
        "cw-user-v1",
        row.name,
        row.role,
        bool(row.disabled),
        row.created_by,
        row.granted_by,
        row.approved_by,
        row.password_hash,
    ]
    return hmac.new(key, orjson.dumps(fields), hashlib.sha256).hexdigest()[:32]


TOKEN_STATE = "token_state"  # noqa: S105 - a key in the detail, no secret


def _token_digest(key: bytes, row: Any) -> str:
    fields = [
        "cw-token-v1",
        row.id,
        row.user_name,
        row.role,
        row.token_hash,
        row.revoked_at is None,
    ]
    return hmac.new(key, orjson.dumps(fields), hashlib.sha256).hexdigest()[:32]


async def token_state(conn: AsyncConnection, token_id: int) -> str:
    """The digest of API token `token_id`'s row as it is now."""
    row = (await conn.execute(select(api_tokens).where(api_tokens.c.id == token_id))).first()
    return _token_digest(_key_of(conn), row) if row is not None else "(none)"


async def user_state(conn: AsyncConnection, name: str) -> str:
    """The digest of `name`'s row as it is now (for the entry recording a change to it)."""
    row = (await conn.execute(select(users).where(users.c.name == name))).first()
    return _user_digest(_key_of(conn), row) if row is not None else "(none)"


async def _recorded_states(
    conn: AsyncConnection,
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Each user's and API token's last state in the chain (None: the log never kept any)."""
    rows = await conn.execute(
        select(audit_log.c.action, audit_log.c.detail)
        .where(audit_log.c.action.like("user.%") | audit_log.c.action.like("api_token.%"))
        .order_by(audit_log.c.id)
    )
    found = False
    people: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for action, detail_text in rows:
        try:
            detail = orjson.loads(detail_text)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(detail, dict):
            continue
        if action == USER_BASELINE:
            found = True
            people.update(detail.get("users", {}))
            tokens.update(detail.get("tokens", {}))
        elif USER_STATE in detail:
            found = True
            people[str(detail.get("name"))] = str(detail[USER_STATE])
        elif TOKEN_STATE in detail:
            found = True
            tokens[str(detail.get("id"))] = str(detail[TOKEN_STATE])
    return (people, tokens) if found else None


async def _baseline_users(conn: AsyncConnection, key: bytes) -> None:
    if await _recorded_states(conn) is not None:
        return
    rows = list(await conn.execute(select(users).order_by(users.c.name)))
    if not rows:
        return  # the first user added records its own state
    tokens = list(await conn.execute(select(api_tokens).order_by(api_tokens.c.id)))
    await record(
        conn,
        at=max(str(r.created_at) for r in rows),
        actor="service",
        action=USER_BASELINE,
        detail={
            "users": {r.name: _user_digest(key, r) for r in rows},
            "tokens": {str(t.id): _token_digest(key, t) for t in tokens},
        },
    )


async def _user_problems(conn: AsyncConnection, key: bytes) -> list[str]:
    people, tokens = await _recorded_states(conn) or ({}, {})
    problems: list[str] = []
    present: set[str] = set()
    for row in await conn.execute(select(users).order_by(users.c.name)):
        present.add(row.name)
        expected = people.get(row.name)
        if expected is None:
            problems.append(
                f"user {row.name!r}: in the users table, but the audit log never recorded it "
                "(added outside ClauseWarden)"
            )
        elif not hmac.compare_digest(expected, _user_digest(key, row)):
            problems.append(
                f"user {row.name!r}: their role, approval, password or state is not what the "
                "audit log last recorded (changed outside ClauseWarden)"
            )
    for name in sorted(set(people) - present):
        problems.append(f"user {name!r}: recorded in the audit log, gone from the users table")
    for token in await conn.execute(select(api_tokens).order_by(api_tokens.c.id)):
        expected = tokens.get(str(token.id))
        if expected is None or not hmac.compare_digest(expected, _token_digest(key, token)):
            problems.append(
                f"API token {token.id} ({token.user_name}): not what the audit log recorded "
                "(added or changed outside ClauseWarden)"
            )
    return problems


async def _rechain(conn: AsyncConnection, key: bytes) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    rows = list(await conn.execute(select(audit_log).order_by(audit_log.c.id)))
    if not rows:
        return
    problems = _walk(rows, lambda r: _plain_hash(r.prev_hash, r.at, r.actor, r.action, r.detail))
    prev_hash = GENESIS
    for row in rows:
        new = entry_hash(key, prev_hash, row.at, row.actor, row.action, row.detail)
        await conn.execute(
            update(audit_log).where(audit_log.c.id == row.id).values(prev_hash=prev_hash, hash=new)
        )
        prev_hash = new
    await record(
        conn,
        at=rows[-1].at,
        actor="service",
        action="audit.rechain",
        detail={
            "entries": len(rows),
            "old_head": rows[-1].hash,
            "problems_before": problems[:20],
        },
    )


async def record(
    conn: AsyncConnection, *, at: str, actor: str, action: str, detail: dict[str, Any]
) -> None:
    """Append one entry (inside the caller's transaction)."""
    key = _key_of(conn)
    if conn.dialect.name == "postgresql":
        await conn.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    prev = (
        await conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1))
    ).scalar()
    prev_hash = prev or GENESIS
    detail_text = orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()
    await conn.execute(
        audit_log.insert().values(
            at=at,
            actor=actor,
            action=action,
            detail=detail_text,
            prev_hash=prev_hash,
            hash=entry_hash(key, prev_hash, at, actor, action, detail_text),
        )
    )


def _walk(rows: list[Any], hash_of: Any) -> list[str]:
    problems: list[str] = []
    prev_hash = GENESIS
    for row in rows:
        if row.prev_hash != prev_hash:
            problems.append(f"entry {row.id}: the entry before it was changed or deleted")
        if not hmac.compare_digest(row.hash, hash_of(row)):
            problems.append(f"entry {row.id}: its content was changed after it was written")
        prev_hash = row.hash
    return problems


def parse_anchor(value: str) -> tuple[int, str]:
    """COUNT:HASH (as the audit page shows it; the hash may be its first 16+ hex digits)."""
    match = re.fullmatch(r"\s*(\d{1,12})\s*:\s*([0-9a-fA-F]{16,64})\s*", value)
    if not match:
        raise ValueError(
            "an anchor is COUNT:HASH as the audit page shows it, e.g. 42:3f9a0c1b2d4e5f60"
        )
    return int(match.group(1)), match.group(2).lower()


async def verify(
    conn: AsyncConnection, anchor: tuple[int, str] | None = None
) -> tuple[int, list[str]]:
    """Walk the chain (and check it still holds `anchor`) and the users table against it; return
    (entries, problems found)."""
    key = _key_of(conn)
    problems: list[str] = []
    prev_hash = GENESIS
    count = 0
    anchored = anchor is None
    result = await conn.stream(select(audit_log).order_by(audit_log.c.id))
    async for row in result:
        count += 1
        if row.prev_hash != prev_hash:
            problems.append(f"entry {row.id}: the entry before it was changed or deleted")
        expected = entry_hash(key, row.prev_hash, row.at, row.actor, row.action, row.detail)
        if not hmac.compare_digest(row.hash, expected):
            problems.append(f"entry {row.id}: its content was changed after it was written")
        if anchor is not None and count == anchor[0]:
            anchored = True
            if not row.hash.startswith(anchor[1]):
                problems.append(
                    f"entry number {count} is not the one written down in the anchor: "
                    "the log was rewritten up to there"
                )
        prev_hash = row.hash
    if not anchored and anchor is not None:
        problems.append(
            f"the log has {count} entries but the anchor was taken at {anchor[0]}: "
            "entries were cut off its end"
        )
    problems += await _user_problems(conn, key)
    return count, problems


async def head(conn: AsyncConnection) -> tuple[int, str]:
    """(number of entries, the newest entry's hash): the anchor to write down."""
    count = (await conn.execute(select(func.count()).select_from(audit_log))).scalar() or 0
    last = (
        await conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1))
    ).scalar()
    return int(count), last or GENESIS


async def recent(conn: AsyncConnection, limit: int = 200) -> list[Any]:
    rows = await conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
    return list(rows)
