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
from tests.support.service import Clock, migrated

# Each pytest process (an xdist worker, or another checkout's run on the same machine) has its own
# role: a role shared by all would have its password changed under the others' feet.
PG_ROLE = f"clausewarden_test_{os.getpid()}"


def _psql(sql: str) -> None:
    subprocess.run(
        ["su", "postgres", "-c", "psql -qAt -v ON_ERROR_STOP=1"],
        input=sql.encode(),
        check=True,
        capture_output=True,
        timeout=20,
    )


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
    _psql(
        f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='{PG_ROLE}') "
        f"THEN CREATE ROLE {PG_ROLE} LOGIN CREATEDB PASSWORD '{password}'; "
        f"ELSE ALTER ROLE {PG_ROLE} PASSWORD '{password}'; END IF; END$$;"
    )
    return f"postgresql+asyncpg://{PG_ROLE}:{password}@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str | None]:
    url = _pg_admin_url()
    yield url
    if url is not None and not os.environ.get("CLAUSEWARDEN_TEST_PG_URL"):
        _drop_role()


def _drop_role() -> None:
    """The role and the databases it still owns (a test may leave one)."""
    owned = subprocess.run(
        ["su", "postgres", "-c", "psql -qAt -v ON_ERROR_STOP=1"],
        input=(
            "SELECT datname FROM pg_database d JOIN pg_roles r ON d.datdba = r.oid "  # noqa: S608
            f"WHERE r.rolname = '{PG_ROLE}';"  # (our own constant)
        ).encode(),
        check=True,
        capture_output=True,
        timeout=20,
    ).stdout.decode()
    drops = "".join(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\n' for name in owned.split())
    _psql(drops + f"DROP ROLE IF EXISTS {PG_ROLE};")


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
    return Config(data_dir=migrated(tmp_path / "data"), clock=clock, background_tasks=False)


@pytest.fixture
async def cli(aiohttp_client: Any, config: Config) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(config))


@pytest.fixture
async def pg_or_sqlite_cli(
    aiohttp_client: Any, tmp_path: Path, clock: Clock, database_url: str | None
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    data = migrated(tmp_path / "data") if database_url is None else tmp_path / "data"
    config = Config(data_dir=data, clock=clock, background_tasks=False, database_url=database_url)
    yield await aiohttp_client(create_app(config))
