"""Attacks on clause 7's setting (personal use outside working time: warn, the default, or record
only) by an admin acting alone, against the real aiohttp application and a real SQLite file: only
the headteacher relaxes it (an admin's change is a proposal), and the bundle the sensors get
follows the setting in force."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from policy import Facts, Policy, decide
from service import user_store
from service.app import create_app
from service.config import Config
from service.keys import ENGINE, SERVICES
from tests.support.forms import csrf_from
from tests.support.service import migrated

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
EVENING = datetime(2026, 11, 25, 19, 30, tzinfo=UTC)
PASSWORD = "a-long-password"
FORM = {"privacy_level": "daily", "k_anonymity": "3", "retention_days": "90"}
NAV = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "data"), clock=lambda: NOW, background_tasks=False)
    client = await aiohttp_client(create_app(config))
    async with client.server.app[ENGINE].begin() as conn:
        for name, role in (("helen", "headteacher"), ("alice", "admin")):
            await user_store.add_user(
                conn, name, role, PASSWORD, actor="cli", now=NOW, from_cli=True
            )
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


async def served_policy(cli: Any) -> Policy:
    services = cli.server.app[SERVICES]
    services.bundles.invalidate()
    async with cli.server.app[ENGINE].connect() as conn:
        bundle, _etag = await services.bundles.bundle(conn, NOW)
    return Policy.from_bundle(bundle)


def facebook_at(policy: Policy, at: datetime) -> str:
    facts = Facts.from_url("https://www.facebook.com/", headers=NAV, at=at, client="10.0.0.5")
    return decide(facts, policy).outcome


async def test_an_admin_alone_cannot_turn_clause_7_warnings_outside_working_time_into_records(
    cli: Any,
) -> None:
    await login(cli, "alice")
    resp = await post_settings(cli, {**FORM, "personal_use_outside_working_time": "log"})
    assert resp.status == 303
    assert facebook_at(await served_policy(cli), EVENING) == "warn"
    page = await (await cli.get("/settings")).text()
    assert 'id="pending-settings"' in page and "Record only" in page


async def test_the_headteachers_approval_makes_the_served_bundle_record_only_outside_working_time(
    cli: Any,
) -> None:
    await login(cli, "alice")
    await post_settings(cli, {**FORM, "personal_use_outside_working_time": "log"})
    await login(cli, "helen")
    assert (await post_settings(cli, {"decision": "approve"})).status == 303
    policy = await served_policy(cli)
    assert facebook_at(policy, EVENING) == "log"
    assert facebook_at(policy, NOW) == "warn"  # working time is unchanged


async def test_the_headteacher_sets_it_at_once_and_an_unknown_value_is_refused(cli: Any) -> None:
    await login(cli, "helen")
    resp = await post_settings(cli, {**FORM, "personal_use_outside_working_time": "allow"})
    assert resp.status == 400
    assert facebook_at(await served_policy(cli), EVENING) == "warn"
    assert (
        await post_settings(cli, {**FORM, "personal_use_outside_working_time": "log"})
    ).status == 303
    assert facebook_at(await served_policy(cli), EVENING) == "log"
    # The form without the field (an older page) leaves the setting as it is.
    assert (await post_settings(cli, FORM)).status == 303
    assert facebook_at(await served_policy(cli), EVENING) == "log"
