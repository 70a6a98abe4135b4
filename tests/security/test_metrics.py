"""Attacks on /metrics by anyone who can reach the service (a web page a member of staff visits
can too): without an admin's API token it shows no sensor name and no counter that moves with
each single event. Against the real aiohttp application and a real SQLite file."""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service import sensor_store, user_store
from service.app import create_app
from service.config import Config
from service.keys import ENGINE
from tests.support.events import an_event
from tests.support.service import migrated

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "data"), clock=lambda: NOW, background_tasks=False)
    client = await aiohttp_client(create_app(config))
    async with client.server.app[ENGINE].begin() as conn:
        token = await sensor_store.add_sensor(conn, "staffroom-proxy", actor="t", now=NOW)
    event = an_event(id=uuid.uuid4().hex, sensor="staffroom-proxy").to_json()
    resp = await client.post(
        "/api/v1/events", json={"events": [event]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 202
    client.sensor_token = token
    return client


async def token_of(cli: Any, role: str) -> str:
    async with cli.server.app[ENGINE].begin() as conn:
        await user_store.add_user(conn, f"{role}1", role, "a-long-password", actor="t", now=NOW)
        return await user_store.add_api_token(
            conn, "prometheus", user_name=f"{role}1", role=role, now=NOW
        )


def leaks(text: str) -> list[str]:
    return [word for word in ("staffroom-proxy", "clausewarden_events_stored") if word in text]


async def test_metrics_without_a_token_show_no_sensor_name_and_no_per_event_counter(cli):
    resp = await cli.get("/metrics")
    assert leaks(await resp.text()) == []
    assert resp.status == 401


async def test_metrics_with_a_sensor_or_a_viewer_token_show_neither(cli):
    viewer = await token_of(cli, "viewer")
    for token in (cli.sensor_token, viewer, "cwa_made-up"):
        resp = await cli.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert leaks(await resp.text()) == []
        assert resp.status in (401, 403)


async def test_an_admins_api_token_reads_the_metrics(cli):
    token = await token_of(cli, "admin")
    resp = await cli.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    text = await resp.text()
    assert 'clausewarden_sensor_last_seen_seconds{sensor="staffroom-proxy"}' in text
    assert "clausewarden_events_stored_total 1.0" in text
