"""Attacks on the sensors' API limits with one laptop (issue 16, section 1): before, ten Tell the
Headteacher reports from one laptop exhausted the one shared sensor's limit and every other laptop
got 429; empty `{}` bodies, refused with 400, used it up too; account requests likewise. Now each
enrolled laptop has its own credential and limit, only what would be kept counts, and a laptop's
first report of the day is never refused.

Against the real aiohttp application on a real SQLite file, laptops enrolled with real keys."""

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service import enrolment, sensor_store  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import Config  # noqa: E402
from service.keys import ENGINE  # noqa: E402
from tests.support.laptops import Laptop, bearer  # noqa: E402
from tests.support.service import Clock, migrated  # noqa: E402

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
REPORT = {
    "kind": "safeguarding",
    "platform": "instagram",
    "what_happened": "A post about a pupil that worried me.",
    "name": "A member of staff",
    "contact": "staff room",
}


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path, clock: Clock) -> Any:
    config = Config(data_dir=migrated(tmp_path / "service"), clock=clock, background_tasks=False)
    return await aiohttp_client(create_app(config))


async def laptops(cli: Any, n: int) -> list[tuple[Laptop, str]]:
    """`n` enrolled laptops, each with its session token."""
    async with cli.server.app[ENGINE].begin() as conn:
        secret = await sensor_store.add_sensor(conn, "laptops", actor="t", now=NOW, kind="enrol")
        await enrolment.set_fleet_size(conn, 10, actor="t", now=NOW)
    out = []
    for _ in range(n):
        laptop = Laptop()
        out.append((laptop, await laptop.enrolled(cli, secret)))
    return out


async def report(cli: Any, token: str, body: Any = None) -> int:
    resp = await cli.post(
        "/api/v1/staff-reports", json=REPORT if body is None else body, headers=bearer(token)
    )
    return resp.status


async def test_one_laptop_exhausting_its_limit_leaves_the_others_theirs(cli, clock):
    (noisy_laptop, noisy), (_, other) = await laptops(cli, 2)
    statuses = [await report(cli, noisy) for _ in range(12)]
    assert statuses[:10] == [201] * 10 and 429 in statuses[10:]
    # The other laptop is untouched, and refused bodies from it use nothing up.
    assert await report(cli, other) == 201
    assert [await report(cli, other, {}) for _ in range(20)] == [400] * 20
    assert await report(cli, other) == 201
    # The next day the exhausted laptop's first report goes through, its bucket still empty.
    clock.now = NOW + timedelta(days=1)
    noisy = str((await (await noisy_laptop.session(cli)).json())["token"])  # a new session
    assert await report(cli, noisy) == 201
    assert await report(cli, noisy) == 429


async def test_refused_account_requests_use_up_no_limit(cli):
    [(_, token)] = await laptops(cli, 1)
    for _ in range(15):
        resp = await cli.post("/api/v1/account-requests", json={}, headers=bearer(token))
        assert resp.status == 400
    resp = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "facebook", "account_id": "1000555", "label": "Office"},
        headers=bearer(token),
    )
    assert resp.status == 202
