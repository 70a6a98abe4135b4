"""Fixtures for the service: the real app factory, a real SQLite file (or PostgreSQL), real
HTTP through aiohttp's test server."""

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from service.app import create_app
from service.config import Config
from tests.support.service import Clock


def _pg_admin_url() -> str | None:
    url = os.environ.get("CLAUSEWARDEN_TEST_PG_URL")
    if url:
        return url
    try:
        subprocess.run(
            ["su", "postgres", "-c", "psql -qAtc 'select 1'"],
            check=True,
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    password = uuid.uuid4().hex
    sql = (
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='clausewarden_test') "
        f"THEN CREATE ROLE clausewarden_test LOGIN CREATEDB PASSWORD '{password}'; "
        f"ELSE ALTER ROLE clausewarden_test PASSWORD '{password}'; END IF; END$$;"
    )
    subprocess.run(
        ["su", "postgres", "-c", "psql -qAt -v ON_ERROR_STOP=1"],
        input=sql.encode(),
        check=True,
        capture_output=True,
        timeout=20,
    )
    return f"postgresql+asyncpg://clausewarden_test:{password}@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def pg_admin_url() -> str | None:
    return _pg_admin_url()


def _pg_admin(admin_url: str, statement: str) -> None:
    import asyncio

    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")

    async def execute() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(execute())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None: the SQLite file in the data folder; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    admin = request.getfixturevalue("pg_admin_url")
    if admin is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not available (scripts/system-deps should start it)")
        pytest.skip("PostgreSQL is not available here")
    name = f"cw_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(admin, f'CREATE DATABASE "{name}"')
    yield admin.rsplit("/", 1)[0] + "/" + name
    _pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


@pytest.fixture
def config(tmp_path: Path, clock: Clock) -> Config:
    return Config(data_dir=tmp_path / "data", clock=clock, background_tasks=False)


@pytest.fixture
async def cli(aiohttp_client: Any, config: Config) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(config))


@pytest.fixture
async def pg_or_sqlite_cli(
    aiohttp_client: Any, tmp_path: Path, clock: Clock, database_url: str | None
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    config = Config(
        data_dir=tmp_path / "data", clock=clock, background_tasks=False, database_url=database_url
    )
    yield await aiohttp_client(create_app(config))
