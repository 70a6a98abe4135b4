"""Attacks on the settings that decide what is kept and shown (k, the retention period, the
privacy level) by an admin acting alone, against the real aiohttp application and a real SQLite
file: each change waits for the headteacher's approval, and every step is in the audit log."""

import inspect
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service import audit, user_store
from service.app import create_app
from service.config import Config
from service.db import audit_log
from service.keys import ENGINE, SERVICES
from tests.support.forms import csrf_from
from tests.support.service import migrated

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PASSWORD = "a-long-password"


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "data"), clock=lambda: NOW, background_tasks=False)
    client = await aiohttp_client(create_app(config))
    extra = {}
    if "from_cli" in inspect.signature(user_store.add_user).parameters:
        extra["from_cli"] = True  # the first headteacher, made on the server
    async with client.server.app[ENGINE].begin() as conn:
        for name, role in (("helen", "headteacher"), ("alice", "admin"), ("adam", "admin")):
            await user_store.add_user(conn, name, role, PASSWORD, actor="cli", now=NOW, **extra)
    return client


async def login(cli: Any, name: str) -> None:
    cli.session.cookie_jar.clear()
    token = csrf_from(await (await cli.get("/login")).text())
    resp = await cli.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"},
        allow_redirects=False,
    )
    assert resp.status == 303


async def post_settings(cli: Any, form: dict[str, str]) -> Any:
    token = csrf_from(await (await cli.get("/settings")).text())
    return await cli.post("/settings", data={**form, "csrf_token": token}, allow_redirects=False)


async def in_force(cli: Any) -> Any:
    services = cli.server.app[SERVICES]
    services.bundles.invalidate()
    async with cli.server.app[ENGINE].connect() as conn:
        return await services.bundles.settings(conn)


async def actions(cli: Any) -> list[tuple[str, str]]:
    async with cli.server.app[ENGINE].connect() as conn:
        rows = await conn.execute(audit_log.select().order_by(audit_log.c.id))
        return [(r.actor, r.action) for r in rows]


WANTED = {"privacy_level": "daily", "k_anonymity": "3", "retention_days": "90"}


async def test_an_admin_alone_cannot_set_k_to_1(cli):
    await login(cli, "alice")
    await post_settings(cli, {**WANTED, "k_anonymity": "1"})
    assert (await in_force(cli)).k_anonymity == 3


async def test_an_admin_alone_cannot_keep_events_for_ten_years(cli):
    await login(cli, "alice")
    await post_settings(cli, {**WANTED, "retention_days": "3650"})
    assert (await in_force(cli)).retention_days == 90


async def test_an_admin_alone_cannot_change_the_privacy_level(cli):
    await login(cli, "alice")
    for level in ("stable", "none"):
        await post_settings(cli, {**WANTED, "privacy_level": level})
        assert (await in_force(cli)).privacy_level == "daily"


async def test_another_admin_cannot_approve_an_admins_proposal(cli):
    await login(cli, "alice")
    await post_settings(cli, {**WANTED, "k_anonymity": "1"})
    await login(cli, "adam")
    resp = await post_settings(cli, {"decision": "approve"})
    assert resp.status == 403
    await login(cli, "alice")
    resp = await post_settings(cli, {"decision": "approve"})
    assert resp.status == 403
    assert (await in_force(cli)).k_anonymity == 3


async def test_the_change_takes_effect_when_the_headteacher_approves_and_all_is_audited(cli):
    await login(cli, "alice")
    resp = await post_settings(cli, {**WANTED, "k_anonymity": "5", "retention_days": "30"})
    assert resp.status == 303
    await login(cli, "helen")
    page = await (await cli.get("/settings")).text()
    assert 'id="pending-settings"' in page and "Proposed by alice" in page
    resp = await post_settings(cli, {"decision": "approve"})
    assert resp.status == 303
    settings = await in_force(cli)
    assert (settings.k_anonymity, settings.retention_days) == (5, 30)
    log = await actions(cli)
    assert ("alice", "settings.propose") in log and ("helen", "settings.approve") in log
    async with cli.server.app[ENGINE].connect() as conn:
        _count, problems = await audit.verify(conn)
    assert problems == []


async def test_a_rejected_proposal_changes_nothing_and_the_headteacher_changes_directly(cli):
    await login(cli, "alice")
    await post_settings(cli, {**WANTED, "k_anonymity": "1"})
    await login(cli, "helen")
    resp = await post_settings(cli, {"decision": "reject"})
    assert resp.status == 303
    assert (await in_force(cli)).k_anonymity == 3
    assert ("helen", "settings.reject") in await actions(cli)
    await post_settings(cli, {**WANTED, "k_anonymity": "4"})
    assert (await in_force(cli)).k_anonymity == 4
