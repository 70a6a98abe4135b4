"""Helpers for the service tests (imported by name: pytest puts this folder on sys.path)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from service import store, user_store
from service.keys import ENGINE
from tests.support.events import an_event
from tests.support.forms import csrf_from


@dataclass
class Clock:
    """A settable clock the service reads (so tests can cross midnight)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def add_sensor(cli: TestClient, name: str = "proxy1") -> str:  # type: ignore[type-arg]
    async with cli.server.app[ENGINE].begin() as conn:
        return await store.add_sensor(conn, name, actor="test", now=datetime.now(UTC))


PASSWORD = "a-long-password"


async def add_user(cli: Any, name: str, role: str, password: str = PASSWORD) -> None:
    """A user as the tests' setting up makes them: a headteacher or governor stands approved
    (the approval itself is tested in tests/security/test_four_eyes.py)."""
    async with cli.server.app[ENGINE].begin() as conn:
        await user_store.add_user(conn, name, role, password, actor="test", now=datetime.now(UTC))
        await _approved_for_tests(conn, name)


async def _approved_for_tests(conn: Any, name: str) -> None:
    from sqlalchemy import update

    from service import audit
    from service.db import users

    await conn.execute(
        update(users)
        .where(users.c.name == name, users.c.approved_by.is_(None))
        .values(approved_by="test")
    )
    # In the audit chain as any user change is, so `audit verify` finds the users table intact.
    await audit.record(
        conn,
        at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        actor="test",
        action="user.approve",
        detail={"name": name, audit.USER_STATE: await audit.user_state(conn, name)},
    )


def event(**overrides: Any) -> dict[str, Any]:
    """A good event as a sensor sends it (policy.event.Event.to_json), with `overrides` (which
    may be anything: the tests send bad events too)."""
    return {**an_event().to_json(), **overrides}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(cli: Any, name: str, password: str = PASSWORD) -> Any:
    """Log in through the real form (GET for the CSRF token, then POST)."""
    page = await cli.get("/login")
    token = csrf_from(await page.text())
    return await cli.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/"},
        allow_redirects=False,
    )


def later(clock: Clock, **delta: float) -> None:
    clock.now = clock.now + timedelta(**delta)


def seed_store(data: Any, users: dict[str, str], sensors: list[str]) -> dict[str, str]:
    """Users (name -> role, password PASSWORD) and sensors in a data folder's store, in-process
    (faster than one CLI process each); returns sensor name -> token."""
    import asyncio
    from pathlib import Path

    from service.cli_support import open_store
    from service.config import Config

    async def run() -> dict[str, str]:
        tokens = {}
        async with open_store(Config(data_dir=Path(data))) as engine, engine.begin() as conn:
            now = datetime.now(UTC)
            for name, role in users.items():
                await user_store.add_user(conn, name, role, PASSWORD, actor="test", now=now)
                await _approved_for_tests(conn, name)
            for name in sensors:
                tokens[name] = await store.add_sensor(conn, name, actor="test", now=now)
        return tokens

    from concurrent.futures import ThreadPoolExecutor

    # Its own thread: a fixture may be set up while another event loop runs in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()
