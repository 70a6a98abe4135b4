"""Faults a real site meets, on the real service and a real SQLite file: a full disk and a
read-only (immutable) database file. The store's refusal is a 503 with Retry-After in JSON,
/healthz says writes fail, and the service reconnects by itself once the file can be written.

A full disk is a small tmpfs mounted for the test; a read-only file is `chattr +i` (root ignores
file modes). Where the machine does not allow either, the test is skipped and says why."""

import asyncio
import contextlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from svc_helpers import add_sensor, bearer, event

from service.app import create_app
from service.config import Config


def _run(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, timeout=30).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a disk the test can fill."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not _run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)):
        pytest.skip("cannot mount a small tmpfs here (needs root): no disk to fill")
    try:
        yield mount
    finally:
        _run("umount", "-l", str(mount))


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as f:
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    return filler


async def _until(check, what: str) -> None:
    for _ in range(600):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def _healthz(cli) -> tuple[int, dict, str | None]:
    resp = await cli.get("/healthz")
    return resp.status, await resp.json(), resp.headers.get("Retry-After")


async def test_a_full_disk_is_a_503_with_retry_after_and_healthz_says_writes_fail(
    aiohttp_client, small_disk, clock
):
    config = Config(
        data_dir=small_disk / "data", clock=clock, background_tasks=False, store_retry_seconds=0.1
    )
    cli = await aiohttp_client(create_app(config))
    token = await add_sensor(cli)
    assert (await _healthz(cli))[:2] == (200, {"status": "ok", "writes": "ok"})
    filler = _fill(small_disk)
    try:
        batch = {"events": [event(id=uuid.uuid4().hex) for _ in range(200)]}
        resp = await cli.post("/api/v1/events", json=batch, headers=bearer(token))
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "30"
        body = await resp.json()
        assert body["error"].startswith("the disk holding the database is full")
        assert body["retry_after"] == 30
        status, health, retry = await _healthz(cli)
        assert status == 503 and retry == "30"
        assert health["writes"] == "failing"
        assert health["why"] == "the disk holding the database is full"
    finally:
        filler.unlink()

    async def healthy() -> bool:
        return (await _healthz(cli))[0] == 200

    await _until(healthy, "/healthz ok after the disk has room again")
    resp = await cli.post("/api/v1/events", json=batch, headers=bearer(token))
    assert resp.status == 202 and (await resp.json())["stored"] == 200


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Files made immutable with chattr +i (and made mutable again after the test)."""
    files: list[Path] = []
    yield files
    for path in files:
        _run("chattr", "-i", str(path))


async def test_a_service_started_on_a_read_only_database_answers_503_then_reconnects(
    aiohttp_client, tmp_path, clock, immutable
):
    config = Config(
        data_dir=tmp_path / "data", clock=clock, background_tasks=False, store_retry_seconds=0.1
    )
    first = await aiohttp_client(create_app(config))
    token = await add_sensor(first)
    await first.close()  # the database is closed cleanly: no -wal or -shm left
    db = tmp_path / "data" / "clausewarden.db"
    if not _run("chattr", "+i", str(db)):
        pytest.skip("chattr +i is not allowed here (needs root and a filesystem with it)")
    immutable.append(db)

    cli = await aiohttp_client(create_app(config))  # starts, though it cannot write
    status, health, retry = await _healthz(cli)
    assert status == 503 and retry == "30"
    assert health["writes"] == "failing" and "read-only" in health["why"]
    resp = await cli.post("/api/v1/events", json={"events": [event()]}, headers=bearer(token))
    assert resp.status == 503 and resp.headers["Retry-After"] == "30"
    assert "read-only" in (await resp.json())["error"]

    assert _run("chattr", "-i", str(db))  # the admin fixes the file

    async def healthy() -> bool:
        return (await _healthz(cli))[0] == 200

    await _until(healthy, "/healthz ok once the file is writable")
    resp = await cli.post("/api/v1/events", json={"events": [event()]}, headers=bearer(token))
    assert resp.status == 202 and (await resp.json())["stored"] == 1
