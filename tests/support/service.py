"""The service for tests: a real `clausewarden serve` process (`Service`, the one way the tests
start it), and helpers for the in-process app (aiohttp's test client): users, sensors, events."""

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from service import sensor_store, user_store
from service.keys import ENGINE
from tests.support.events import an_event
from tests.support.forms import csrf_from
from tests.support.net import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
CLAUSEWARDEN = (sys.executable, "-m", "clausewarden")


class Service:
    """`clausewarden serve` on 127.0.0.1 with its own data folder (and config folder, if given).

    The port is chosen once, so a test can stop the service and start it again at the same
    address. `sensor` adds that sensor first and writes its token to `token_file`. `command`
    is how `clausewarden` is run (an installed wheel's script, say); `env` is added to
    `environ`, the environment (this process's unless given).
    """

    def __init__(
        self,
        data: Path,
        *args: str,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        sensor: str | None = None,
        log: Path | None = None,
        command: Sequence[str] = CLAUSEWARDEN,
        cwd: Path = ROOT,
    ) -> None:
        self.folder = self.data = data
        self.args, self.config, self.command, self.cwd = args, config, tuple(command), cwd
        self.env = {**(os.environ if environ is None else environ), **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or data.parent / f"{data.name}-serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""
        if sensor is not None and self.command == CLAUSEWARDEN:
            # In this process, through the service's own store (a CLI process each costs seconds).
            self.token = seed_store(data, {}, [sensor])[sensor]
        elif sensor is not None:
            self.token = self.cli("sensor", "add", sensor).strip().splitlines()[-1].strip()
        if sensor is not None:
            self.token_file = data.parent / f"{data.name}-{sensor}.token"
            self.token_file.write_text(self.token + "\n")

    def folders(self) -> list[str]:
        return ["--data-dir", str(self.data)] + (
            ["--config", str(self.config)] if self.config else []
        )

    def cli(self, *args: str) -> str:
        """`clausewarden ARGS` on this service's folders, as an admin types it; its output."""
        return subprocess.run(
            [*self.command, *args, *self.folders()],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env=self.env,
            cwd=self.cwd,
        ).stdout

    def start(self, *extra: str) -> "Service":
        """Start `serve` (with `extra` arguments this time only); wait until it listens."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command, "serve", "--port", str(self.port), *self.folders()]
                + [*self.args, *extra],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
            )
        try:
            wait_for_port(self.port, self.process, timeout=60)
        except BaseException:
            self.stop()  # never leave a server behind a failed test
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def pending_accounts(self) -> list[Any]:
        """The service's pending school accounts, read through its own store functions."""
        from service import account_store
        from service.cli_support import open_store
        from service.config import Config

        config = Config(data_dir=self.folder.resolve(), config_dir=None, database_url=None)
        async with open_store(config) as engine, engine.connect() as conn:
            return await account_store.list_accounts(conn, "pending")

    def events(self) -> list[dict[str, object]]:
        """The stored events, read from the service's database file itself (the exports show
        only cells resting on k devices, never an event id)."""
        with sqlite3.connect(self.folder / "clausewarden.db") as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM events ORDER BY time, id")]


def start_service(data: Path, *args: str, **options: Any) -> Service:
    """A started `Service` (see there for the options)."""
    return Service(data, *args, **options).start()


@dataclass
class Clock:
    """A settable clock the service reads (so tests can cross midnight)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def add_sensor(cli: TestClient, name: str = "proxy1") -> str:  # type: ignore[type-arg]
    async with cli.server.app[ENGINE].begin() as conn:
        return await sensor_store.add_sensor(conn, name, actor="test", now=datetime.now(UTC))


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


_TEMPLATE: list[Path] = []


def migrated(data: Path) -> Path:
    """`data`, holding a `clausewarden.db` already at the newest schema when it held none: a copy
    of one file this test process migrated once (migrating a new file costs about 0.15 s of CPU,
    hundreds of times over in the suite); the service finds nothing to migrate and goes on as
    with any database of its own. Not for tests of migrating itself: give those an empty folder.
    """
    database = data / "clausewarden.db"
    if not database.exists():
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(_template(), database)
        database.chmod(0o600)
    return data


def _template() -> Path:
    if not _TEMPLATE:
        import asyncio
        import atexit
        import tempfile

        from service.db import make_engine, migrate

        folder = Path(tempfile.mkdtemp(prefix="clausewarden-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "clausewarden.db"

        async def run() -> None:
            engine = make_engine(f"sqlite+aiosqlite:///{path}")
            await migrate(engine)
            await engine.dispose()

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:  # a fixture may be set up inside a running loop
            pool.submit(asyncio.run, run()).result()
        db = sqlite3.connect(path)  # everything in the one file, nothing in its WAL
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def seed_store(data: Any, users: dict[str, str], sensors: list[str]) -> dict[str, str]:
    """Users (name -> role, password PASSWORD) and sensors in a data folder's store, in-process
    (faster than one CLI process each); returns sensor name -> token."""
    import asyncio
    from pathlib import Path

    from service.cli_support import open_store
    from service.config import Config

    async def run() -> dict[str, str]:
        tokens = {}
        config = Config(data_dir=migrated(Path(data)))
        async with open_store(config) as engine, engine.begin() as conn:
            now = datetime.now(UTC)
            for name, role in users.items():
                await user_store.add_user(conn, name, role, PASSWORD, actor="test", now=now)
                await _approved_for_tests(conn, name)
            for name in sensors:
                tokens[name] = await sensor_store.add_sensor(conn, name, actor="test", now=now)
        return tokens

    from concurrent.futures import ThreadPoolExecutor

    # Its own thread: a fixture may be set up while another event loop runs in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()
