"""Attacks on the sensors' API by a sensor token holder (the extension's token is on every school
laptop): made-up ids in events, a flood of batches, and account requests of the wrong types.
Against the real aiohttp application and a real SQLite file."""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from service.config import Config
from service.keys import ENGINE
from tests.support.events import an_event
from tests.support.service import migrated

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "data"), clock=lambda: NOW, background_tasks=False)
    return await aiohttp_client(create_app(config))


async def sensor_token(cli: Any, name: str = "proxy1") -> str:
    from service import sensor_store

    async with cli.server.app[ENGINE].begin() as conn:
        return await sensor_store.add_sensor(conn, name, actor="test", now=NOW)


def event(**fields: Any) -> dict[str, Any]:
    return an_event(id=uuid.uuid4().hex, **fields).to_json()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def stored_count(cli: Any) -> int:
    async with cli.server.app[ENGINE].connect() as conn:
        result = await conn.exec_driver_sql("SELECT count(*) FROM events")
        return int(result.scalar_one())


async def test_a_good_event_is_still_stored(cli):
    token = await sensor_token(cli)
    resp = await cli.post("/api/v1/events", json={"events": [event()]}, headers=auth(token))
    assert resp.status == 202, await resp.text()
    assert await stored_count(cli) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("platform", "made-up-network"),
        ("rule", "a-rule-nobody-wrote"),
        ("clauses", ["99.9"]),
        ("device_group", "the-headteachers-laptop"),
        ("policy_version", "a-version-never-published"),
    ],
)
async def test_an_event_naming_an_id_the_catalogue_does_not_have_is_refused(cli, field, value):
    token = await sensor_token(cli)
    bad = event(**{field: value})
    resp = await cli.post("/api/v1/events", json={"events": [event(), bad]}, headers=auth(token))
    assert resp.status == 400
    body = await resp.json()
    assert [p["field"] for p in body["problems"]] == [field]
    assert await stored_count(cli) == 0  # all or nothing


async def test_an_event_with_a_made_up_continue_reason_is_refused(cli):
    token = await sensor_token(cli)
    bad = event(response="continued", reason_category="because-i-said-so")
    resp = await cli.post("/api/v1/events", json={"events": [bad]}, headers=auth(token))
    assert resp.status == 400
    assert [p["field"] for p in (await resp.json())["problems"]] == ["reason_category"]
    good = event(response="continued", reason_category="teaching-resource")
    resp = await cli.post("/api/v1/events", json={"events": [good]}, headers=auth(token))
    assert resp.status == 202


async def test_a_flood_from_one_sensor_gets_429_with_retry_after_and_never_a_5xx(cli):
    token = await sensor_token(cli)
    other = await sensor_token(cli, "proxy2")
    statuses = []
    retry_after = None
    for _ in range(200):
        resp = await cli.post("/api/v1/events", json={"events": []}, headers=auth(token))
        statuses.append(resp.status)
        if resp.status == 429:
            retry_after = resp.headers.get("Retry-After")
            break
    assert 429 in statuses, statuses
    assert set(statuses) <= {202, 429}
    assert retry_after is not None and int(retry_after) >= 1
    # Another sensor is not held up by the first one's flood.
    resp = await cli.post(
        "/api/v1/events", json={"events": [event(sensor="proxy2")]}, headers=auth(other)
    )
    assert resp.status == 202


@pytest.mark.parametrize(
    "body",
    [
        {"platform": 5, "account_id": "1000123", "label": "Year 6"},
        {"platform": ["facebook"], "account_id": "1000123", "label": "Year 6"},
        {"platform": {"id": "facebook"}, "account_id": "1000123", "label": "Year 6"},
        {"platform": None, "account_id": "1000123", "label": "Year 6"},
        {"platform": "facebook", "account_id": 1000123, "label": "Year 6"},
        {"platform": "facebook", "account_id": ["1000123"], "label": None},
        {"platform": "facebook", "account_id": "1000123", "label": {"x": 1}},
        [1, 2, 3],
        "facebook",
        None,
    ],
)
async def test_an_account_request_of_the_wrong_types_is_answered_400_not_500(cli, body):
    token = await sensor_token(cli)
    resp = await cli.post("/api/v1/account-requests", json=body, headers=auth(token))
    assert resp.status == 400, await resp.text()


async def test_a_flood_of_account_requests_gets_429_with_retry_after(cli):
    token = await sensor_token(cli)
    statuses = []
    for i in range(100):
        resp = await cli.post(
            "/api/v1/account-requests",
            json={"platform": "facebook", "account_id": f"9{i:06d}", "label": "Year 6"},
            headers=auth(token),
        )
        statuses.append(resp.status)
        if resp.status == 429:
            assert int(resp.headers["Retry-After"]) >= 1
            break
    assert 429 in statuses and set(statuses) <= {202, 429}, statuses
