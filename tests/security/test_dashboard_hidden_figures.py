"""What the dashboard says about the figures it hides, against the real aiohttp application and a
real SQLite file: it counts only figures a person could be shown, and a hidden clause is not
named (that someone tried a reference is itself a figure on fewer than k devices)."""

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from service import sensor_store, settings_store, user_store
from service.app import create_app
from service.config import Config
from service.db import daily_counts
from service.keys import ENGINE
from tests.support.events import an_event
from tests.support.forms import csrf_from
from tests.support.service import migrated

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PASSWORD = "a-long-password"


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "data"), clock=lambda: NOW, background_tasks=False)
    client = await aiohttp_client(create_app(config))
    async with client.server.app[ENGINE].begin() as conn:
        await user_store.add_user(conn, "alice", "admin", PASSWORD, actor="test", now=NOW)
    token = csrf_from(await (await client.get("/login")).text())
    resp = await client.post(
        "/login",
        data={"name": "alice", "password": PASSWORD, "csrf_token": token, "next": "/"},
        allow_redirects=False,
    )
    assert resp.status == 303
    return client


async def send(cli: Any, events: list[dict[str, Any]]) -> None:
    async with cli.server.app[ENGINE].begin() as conn:
        token = await sensor_store.add_sensor(conn, "proxy1", actor="test", now=NOW)
    for e in events:
        e["sensor"] = "proxy1"
    resp = await cli.post(
        "/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 202, await resp.text()


def event(device: str, **fields: Any) -> dict[str, Any]:
    return an_event(id=uuid.uuid4().hex, device=device, **fields).to_json()


async def hidden_figures(cli: Any) -> int:
    html = await (await cli.get("/?days=7")).text()
    found = re.search(r"(\d+) figures are hidden", html)
    assert found is not None, "the dashboard says how many figures are hidden"
    return int(found.group(1))


async def test_a_day_of_ten_devices_doing_the_same_hides_nothing(cli):
    # k = 3 (the default); every figure of the day rests on the same ten devices
    devices = [uuid.uuid4().hex for _ in range(10)]
    await send(
        cli,
        [event(d) for d in devices] + [event(d, response="went_back") for d in devices],
    )
    assert await hidden_figures(cli) == 0


async def test_rollup_rows_no_figure_reads_are_not_counted_as_hidden(cli):
    # a day as an earlier version wrote it: ten devices, and rows no chart reads (device group,
    # working time, the warnings' own "none" response) with no distinct devices
    day = "2026-11-24"
    async with cli.server.app[ENGINE].begin() as conn:
        await conn.execute(
            insert(daily_counts),
            [
                {"day": day, "dim": "all", "value": "", "n": 10, "devices": 10},
                {"day": day, "dim": "group", "value": "staff-devices", "n": 10, "devices": None},
                {"day": day, "dim": "working", "value": "yes", "n": 10, "devices": None},
                {"day": day, "dim": "response", "value": "none", "n": 10, "devices": None},
            ],
        )
    assert await hidden_figures(cli) == 0


async def test_a_day_below_k_devices_counts_its_hidden_figures(cli):
    # two devices, fewer than k = 3: the day's devices, its outcome, platform, hour and two
    # clauses are each a hidden figure
    await send(cli, [event(uuid.uuid4().hex) for _ in range(2)])
    assert await hidden_figures(cli) == 6


async def test_a_clause_tried_on_one_device_is_not_named_on_the_dashboard(cli):
    ten = [uuid.uuid4().hex for _ in range(10)]
    five = ten[:5]
    # one device tried to write a reference (clause 6.2) on LinkedIn: fewer than k = 3 devices
    await send(
        cli,
        [event(d, clauses=["7"]) for d in ten]
        + [event(d, clauses=["6.1.9"], action="post") for d in five]
        + [
            event(
                ten[0],
                platform="linkedin",
                category="professional_network",
                action="reference",
                outcome="block",
                clauses=["6.2"],
            )
        ],
    )
    html = await (await cli.get("/?days=7")).text()
    assert "clause 7" in html  # shown: ten devices
    # 6.2 is hidden, and so is 6.1.9 (the smallest shown clause, by secondary suppression):
    # neither is named, nor how many clauses are hidden, only the rule
    assert "6.2" not in html, "the dashboard named a clause tried on one device"
    assert "6.1.9" not in html, "the dashboard named the clause hidden with it"
    assert not re.search(r"\d+ (other )?clauses? (are )?hidden", html)
    assert "Only clauses with a figure shown are listed" in html


async def test_with_level_none_a_clause_below_ten_events_is_not_named(cli):
    async with cli.server.app[ENGINE].begin() as conn:
        await settings_store.put_setting(conn, "privacy_level", "none")
    await send(
        cli,
        [event(None, clauses=["7"]) for _ in range(30)]
        + [
            event(
                None,
                platform="linkedin",
                category="professional_network",
                action="reference",
                outcome="block",
                clauses=["6.2"],
            )
        ],
    )
    html = await (await cli.get("/?days=7")).text()
    assert "clause 7" in html and "at least 30" in html
    assert "6.2" not in html, "the dashboard named a clause tried once"


async def test_the_charts_do_not_say_which_outcome_or_hour_is_hidden(cli):
    ten = [uuid.uuid4().hex for _ in range(10)]
    # ten devices warned at 09:45; one blocked, at 06:00: the block and its hour rest on one
    await send(
        cli,
        [event(d) for d in ten]
        + [event(ten[0], outcome="block", action="post", time="2026-11-25T06:00:00Z")],
    )
    html = await (await cli.get("/?days=7")).text()
    assert "<title>2026-11-25 warn: " not in html  # hidden with the block (secondary)
    titles = re.findall(r"<title>(2026-11-25[^<]*)</title>", html)
    assert "2026-11-25: some figures hidden" in titles
    assert not [t for t in titles if t.endswith(": hidden")], (
        f"a chart named a hidden figure: {titles}"
    )
    # the blocked hour looks and reads as an hour with no events
    square = r'fill="([^"]+)"><title>Wed {}:00: ([^<]+)</title>'
    six, five = re.search(square.format("06"), html), re.search(square.format("05"), html)
    assert six is not None and five is not None
    assert six.groups() == five.groups() == ("#f5f5f5", "nothing shown")


def clause_rows(html: str) -> dict[str, tuple[str, str]]:
    """The dashboard's "By clause" table: clause -> (applies, may apply), as the page says them."""
    found = re.findall(
        r'<th scope="row">clause ([0-9.]+)</th><td>([^<]*)</td><td>([^<]*)</td>', html
    )
    return {clause: (applies, may) for clause, applies, may in found}


def message(device: str, **fields: Any) -> dict[str, Any]:
    """A message held under the rules: clause 7 applies, 8.1 only may (issue 17)."""
    return event(
        device,
        platform="linkedin",
        category="professional_network",
        action="message",
        rule="message-working-time",
        clauses=("7",),
        may_apply=("8.1",),
        **fields,
    )


async def test_the_dashboard_counts_a_clause_that_applies_apart_from_one_that_may(cli):
    ten = [uuid.uuid4().hex for _ in range(10)]
    await send(cli, [event(d, clauses=("7",)) for d in ten] + [message(d) for d in ten[:4]])
    rows = clause_rows(await (await cli.get("/?days=7")).text())
    # Four messages: 8.1 may apply to them (is the person a pupil or a parent?), never "applies".
    assert rows == {"7": ("14", "0"), "8.1": ("0", "4")}


async def test_a_clauses_two_figures_are_hidden_together_each_day(cli):
    ten = [uuid.uuid4().hex for _ in range(10)]
    monday, tuesday = "2026-11-23T09:45:00Z", "2026-11-24T09:45:00Z"
    # Monday: ten devices' events from older sensors name 8.1 as applying; one device's message
    # says it only may. That one is a figure on fewer than k = 3 devices: hidden, and its partner
    # with it, or Monday's "events citing 8.1" (an older export, a total) less the one shown
    # would give it. Tuesday: ten devices' messages, 8.1 may apply.
    older = [event(d, action="message", clauses=("8.1", "7"), time=monday) for d in ten]
    tuesdays = [message(d, time=tuesday) for d in ten]
    await send(cli, [*older, message(ten[0], time=monday), *tuesdays])
    html = await (await cli.get("/?days=7")).text()
    # Hidden together on Monday, 8.1 "applies" has no day shown: the clause is not named.
    assert clause_rows(html) == {"7": ("21", "0")}
    assert "8.1" not in html, "a clause whose 'may apply' figure is hidden was named"
    assert "A clause's two figures are shown or hidden together" in html
