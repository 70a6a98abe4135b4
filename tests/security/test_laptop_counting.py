"""Attack on "k everywhere" with one laptop's credential (issue 16, section 1): a device with 5
held posts in a day is hidden by k = 3; before, posting one event each from two invented
pseudonyms made the cell appear with 7 events (7 - 2 = the victim's exact 5). An enrolled
laptop's credential adds at most one device to any k count per day, whatever pseudonyms its
batches claim; and what is stored does not link a laptop's events across days.

Against the real aiohttp application on a real SQLite file, laptops enrolled with real keys."""

import sqlite3
import sys
import uuid
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
from tests.support.events import an_event  # noqa: E402
from tests.support.laptops import Laptop, bearer  # noqa: E402
from tests.support.service import Clock, add_user, login, migrated  # noqa: E402

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HELD_POST = {"platform": "linkedin", "category": "professional_network", "action": "post"}


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path, clock: Clock) -> Any:
    config = Config(data_dir=migrated(tmp_path / "service"), clock=clock, background_tasks=False)
    return await aiohttp_client(create_app(config))


def held_post(sensor: str, device: str, time: str = "2026-11-25T09:45:00Z") -> dict[str, Any]:
    fields = {**HELD_POST, "outcome": "block", "clauses": ("6.2",)}
    return an_event(sensor=sensor, device=device, time=time, **fields).to_json()


async def post(cli: Any, token: str, events: list[dict[str, Any]]) -> None:
    resp = await cli.post("/api/v1/events", json={"events": events}, headers=bearer(token))
    assert resp.status == 202, await resp.text()


async def setup(cli: Any) -> tuple[str, str]:
    """A proxy's token and the enrolment secret; a fleet of 10; the victim's 5 held posts."""
    async with cli.server.app[ENGINE].begin() as conn:
        proxy = await sensor_store.add_sensor(conn, "proxy1", actor="t", now=NOW)
        secret = await sensor_store.add_sensor(conn, "laptops", actor="t", now=NOW, kind="enrol")
        await enrolment.set_fleet_size(conn, 10, actor="t", now=NOW)
    victim = uuid.uuid4().hex
    await post(cli, proxy, [held_post("proxy1", victim) for _ in range(5)])
    return proxy, secret


async def linkedin_cell(cli: Any) -> str:
    """What an API token of an admin reads of the day's events (cells on at least k devices)."""
    resp = await cli.get("/api/v1/events", headers=bearer(cli.api_token))
    assert resp.status == 200
    return await resp.text()


async def reader(cli: Any) -> None:
    from service import user_store

    await add_user(cli, "alice", "admin")
    await login(cli, "alice")
    async with cli.server.app[ENGINE].begin() as conn:
        cli.api_token = await user_store.add_api_token(
            conn, "tool", user_name="alice", role="admin", now=NOW
        )


def stored(tmp_path: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(tmp_path / "service" / "clausewarden.db") as db:
        return list(db.execute("SELECT sensor, device FROM events ORDER BY time, id"))


async def test_two_invented_pseudonyms_from_one_laptop_do_not_reveal_a_hidden_cell(cli, tmp_path):
    _proxy, secret = await setup(cli)
    await reader(cli)
    assert "linkedin" not in await linkedin_cell(cli)  # 1 device < k = 3: hidden
    laptop = Laptop()
    token = await laptop.enrolled(cli, secret)
    invented = [uuid.uuid4().hex, uuid.uuid4().hex]
    await post(cli, token, [held_post(laptop.name, d) for d in invented])
    # Still hidden: the laptop is one device, however many pseudonyms it claims.
    assert "linkedin" not in await linkedin_cell(cli)
    rows = stored(tmp_path)
    laptop_rows = [r for r in rows if r[0] != "proxy1"]
    assert len(laptop_rows) == 2 and len({d for _s, d in laptop_rows}) == 1
    assert not {d for _s, d in rows} & set(invented)
    # Below level stable the laptop's own (lasting) name is not stored either.
    assert {s for s, _d in laptop_rows} == {"enrolled-laptops"}

    # The test can see the cell: two more laptops make it rest on three devices.
    for _ in range(2):
        other = Laptop()
        other_token = await other.enrolled(cli, secret)
        await post(cli, other_token, [held_post(other.name, uuid.uuid4().hex)])
    assert "linkedin" in await linkedin_cell(cli)


async def test_one_laptops_tags_differ_from_day_to_day(cli, clock, tmp_path):
    _proxy, secret = await setup(cli)
    laptop = Laptop()
    token = await laptop.enrolled(cli, secret)
    await post(cli, token, [held_post(laptop.name, uuid.uuid4().hex)])
    clock.now = NOW + timedelta(days=1)
    token = str((await (await laptop.session(cli)).json())["token"])
    await post(cli, token, [held_post(laptop.name, uuid.uuid4().hex, time="2026-11-26T09:45:00Z")])
    tags = [d for s, d in stored(tmp_path) if s == "enrolled-laptops"]
    assert len(tags) == 2 and tags[0] != tags[1]


async def test_the_privacy_page_says_what_the_service_can_link_and_for_how_long(cli):
    html = await (await cli.get("/privacy")).text()
    assert "at most one device in any figure on any day" in html
    assert "counting key it holds in memory for that day only" in html
    assert "never written to the database or to a backup" in html
    assert "A proxy&#39;s credential stays as it is" in html or "A proxy's credential" in html


async def test_events_recorded_before_enrolment_finished_are_taken_as_the_laptops(cli, tmp_path):
    # An event recorded while the laptop was offline names the policy's sensor ("laptops"): the
    # credential says which laptop sent it, and it is stored as that laptop's, not refused.
    _proxy, secret = await setup(cli)
    laptop = Laptop()
    token = await laptop.enrolled(cli, secret)
    await post(cli, token, [held_post("laptops", uuid.uuid4().hex)])
    assert [s for s, _d in stored(tmp_path) if s != "proxy1"] == ["enrolled-laptops"]
