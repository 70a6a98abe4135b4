"""Faults a real site meets, on the real service and a real SQLite file: a full disk and a
read-only (immutable) database file. The store's refusal is a 503 with Retry-After in JSON,
/healthz says writes fail, and the service reconnects by itself once the file can be written.

A full disk is a small tmpfs mounted for the test; a read-only file is `chattr +i` (root ignores
file modes). Where the machine does not allow either, the test is skipped and says why."""

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.app import create_app
from service.config import Config
from tests.support.disk import fill, small_disk
from tests.support.service import add_sensor, bearer, event


def _run(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, timeout=30).returncode == 0


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk") as mounted:
        yield mounted


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
    aiohttp_client, disk, clock
):
    config = Config(
        data_dir=disk / "data", clock=clock, background_tasks=False, store_retry_seconds=0.1
    )
    cli = await aiohttp_client(create_app(config))
    token = await add_sensor(cli)
    assert (await _healthz(cli))[:2] == (200, {"status": "ok", "writes": "ok"})
    filler = fill(disk)
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


async def _sensors_page(cli) -> str:
    from tests.support.service import add_user, login

    await add_user(cli, "ivan", "admin")
    await login(cli, "ivan")
    return await (await cli.get("/sensors")).text()


async def test_events_of_a_sensor_whose_clock_is_two_days_ahead_are_kept_for_later_not_refused(
    cli, clock
):
    token = await add_sensor(cli)
    good, ahead = event(), event(time="2026-11-27T10:00:00Z")  # the clock says 2026-11-25 10:00
    status = {
        "outbox_pending": 2,
        "outbox_dropped": 0,
        "outbox_rejected": 3,
        "oldest_pending": "2026-11-25T09:45:00Z",
        "sent_at": "2026-11-27T10:00:00Z",
    }
    resp = await cli.post(
        "/api/v1/events", json={"events": [good, ahead], "sensor_status": status},
        headers=bearer(token),
    )  # fmt: skip
    assert resp.status == 202
    body = await resp.json()
    assert body["stored"] == 1 and body["deferred"] == [1]
    assert body["clock_ahead_seconds"] == 2 * 86400
    assert body["service_time"] == "2026-11-25T10:00:00Z"
    html = await _sensors_page(cli)
    assert "<strong>48.0 h ahead</strong>: set its clock (NTP)" in html
    assert "its events more than a day ahead wait on the sensor" in html
    assert "<td>3</td>" in html  # refused by the service for good, as the outbox counts them


async def test_the_backlog_a_sensor_reports_on_draining_is_written_at_once(cli):
    token = await add_sensor(cli)
    backlog = {"outbox_pending": 700, "outbox_dropped": 0, "oldest_pending": "2026-11-25T09:45:00Z"}
    drained = {"outbox_pending": 0, "outbox_dropped": 0, "oldest_pending": None}
    for status in (backlog, drained):  # within the same second: last_seen is not due again
        resp = await cli.post(
            "/api/v1/events", json={"events": [event()], "sensor_status": status},
            headers=bearer(token),
        )  # fmt: skip
        assert resp.status == 202
    html = await _sensors_page(cli)
    row = html.split("<td>proxy1</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>700</td>" not in row and "<td>0</td><td>-</td>" in row
