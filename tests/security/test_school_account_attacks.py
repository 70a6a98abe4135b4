"""Attacks on school accounts (clause 10.1) against the real aiohttp application and a real
SQLite file, each decision taken by the policy core from the bundle the service serves its
sensors: a person's own profile passing as the school's Facebook Page, an account nobody could
ever recognise approved as if it were, messaging approved without the headteacher choosing it,
and an account taken out of accounts.yaml still passing after a restart."""

import inspect
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from policy import Facts, Policy, decide
from policy.configdir import DEFAULT_CONFIG_DIR
from service import account_store, sensor_store, user_store
from service.app import create_app
from service.config import Config
from service.keys import ENGINE
from tests.support.forms import csrf_from

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PASSWORD = "a-long-password"
PAGE_ID = "100000000000001"  # the school's Facebook Page
MANAGER = "100000000000777"  # the office manager's own profile, who runs the Page
NAVIGATE = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}


async def start(aiohttp_client: Any, config: Config) -> tuple[Any, str]:
    """The service with a headteacher and an admin; a sensor's token."""
    client = await aiohttp_client(create_app(config))
    extra = {}
    if "from_cli" in inspect.signature(user_store.add_user).parameters:
        extra["from_cli"] = True
    async with client.server.app[ENGINE].begin() as conn:
        for name, role in (("helen", "headteacher"), ("alice", "admin")):
            if await user_store.get_user(conn, name) is None:
                await user_store.add_user(conn, name, role, PASSWORD, actor="cli", now=NOW, **extra)
        token = await sensor_store.add_sensor(conn, f"proxy{id(client)}", actor="cli", now=NOW)
    return client, token


@pytest.fixture
def config(tmp_path: Path) -> Config:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    return Config(
        data_dir=tmp_path / "data", config_dir=folder, clock=lambda: NOW, background_tasks=False
    )


async def login(cli: Any, name: str) -> None:
    cli.session.cookie_jar.clear()
    token = csrf_from(await (await cli.get("/login")).text())
    resp = await cli.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"},
        allow_redirects=False,
    )
    assert resp.status == 303


async def served_policy(cli: Any, token: str) -> Policy:
    resp = await cli.get("/api/v1/bundle", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    return Policy.from_bundle(await resp.json())


def facebook(policy: Policy, cookies: dict[str, str], **extra: Any) -> str:
    facts = Facts.from_url(
        "https://www.facebook.com/", headers=NAVIGATE, cookies=cookies, at=NOW, **extra
    )
    return decide(facts, policy).account


async def approve_as_the_form_offers(cli: Any, account: str) -> Any:
    """The headteacher presses Approve with whatever the approval form holds as it is shown."""
    await login(cli, "helen")
    html = await (await cli.get("/accounts")).text()
    form = html.split(f'action="/accounts/{account}/approve"', 1)[1].split("</form>", 1)[0]
    fields: list[tuple[str, str]] = [("csrf_token", csrf_from(html))]
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name[1] == "csrf_token" or not value:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        fields.append((name[1], value[1]))
    return await cli.post(f"/accounts/{account}/approve", data=fields, allow_redirects=False)


async def test_the_office_managers_own_profile_does_not_pass_as_the_schools_facebook_page(
    aiohttp_client, config
):
    cli, token = await start(aiohttp_client, config)
    await login(cli, "alice")
    html = await (await cli.get("/accounts")).text()
    form = {
        "csrf_token": csrf_from(html),
        "id": "wycliffe-page",
        "platform": "facebook",
        "account_id": PAGE_ID,
        "label": "Wycliffe CE Primary Facebook Page",
        "kind": "page",
        "actions": "browse",
    }
    assert (await cli.post("/accounts", data=form, allow_redirects=False)).status == 303
    assert (await approve_as_the_form_offers(cli, "wycliffe-page")).status == 303
    policy = await served_policy(cli, token)
    # acting as the Page: the school's account
    assert facebook(policy, {"c_user": MANAGER, "i_user": PAGE_ID}) == "school"
    # the same person browsing as themselves, and the Page's id put in the login cookie: personal
    assert facebook(policy, {"c_user": MANAGER}) == "personal"
    assert facebook(policy, {"c_user": PAGE_ID}) == "personal"


async def test_an_account_on_a_platform_whose_cookies_carry_no_id_cannot_be_asked_for_or_added(
    aiohttp_client, config
):
    cli, token = await start(aiohttp_client, config)
    resp = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "linkedin", "account_id": "wycliffe", "label": "Wycliffe on LinkedIn"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 400
    await login(cli, "alice")
    html = await (await cli.get("/accounts")).text()
    form = {
        "csrf_token": csrf_from(html),
        "id": "wycliffe-linkedin",
        "platform": "linkedin",
        "account_id": "wycliffe",
        "label": "Wycliffe on LinkedIn",
        "actions": "browse",
    }
    assert (await cli.post("/accounts", data=form, allow_redirects=False)).status == 400
    async with cli.server.app[ENGINE].connect() as conn:
        assert await account_store.list_accounts(conn) == []


async def test_messaging_is_not_approved_unless_the_headteacher_ticks_it(aiohttp_client, config):
    cli, token = await start(aiohttp_client, config)
    resp = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "x", "account_id": "2000001", "label": "Wycliffe on X"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 202
    async with cli.server.app[ENGINE].connect() as conn:
        [row] = await account_store.list_accounts(conn)
    assert (await approve_as_the_form_offers(cli, row.id)).status == 303
    policy = await served_policy(cli, token)
    [account] = policy.bundle["accounts"]
    assert "message" not in account["actions"] and account["expires_on"] == "2027-08-31"
    dm = Facts.from_url(
        "https://x.com/i/api/1.1/dm/new2.json",
        method="POST",
        headers={"sec-fetch-mode": "cors", "sec-fetch-dest": "empty"},
        cookies={"twid": "u%3D2000001"},
        body=b"{}",
        at=NOW,
    )
    decision = decide(dm, policy)
    assert decision.action == "message" and decision.account == "personal"


ACCOUNTS = """\
accounts:
  - id: wycliffe-x
    platform: x
    account_id: "2000001"
    label: Wycliffe on X
    approved_by: Miss Newman
    approved_on: 2026-09-01
    actions: [browse, post]
"""


async def test_an_account_taken_out_of_accounts_yaml_stops_passing_at_the_next_start(
    aiohttp_client, config
):
    assert config.config_dir is not None
    (config.config_dir / "accounts.yaml").write_text(ACCOUNTS)
    cli, token = await start(aiohttp_client, config)
    x = Facts.from_url(
        "https://x.com/home", headers=NAVIGATE, cookies={"twid": "u%3D2000001"}, at=NOW
    )
    # the file's entry waits for the headteacher (issue 16); she approves it
    assert decide(x, await served_policy(cli, token)).account == "personal"
    await login(cli, "helen")
    page = await (await cli.get("/accounts")).text()
    resp = await cli.post(
        "/accounts/wycliffe-x/approve",
        data={"csrf_token": csrf_from(page)},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert decide(x, await served_policy(cli, token)).account == "school"
    await cli.close()
    # the account is compromised: the IT admin takes it out of the file and restarts
    (config.config_dir / "accounts.yaml").write_text("accounts: []\n")
    cli, token = await start(aiohttp_client, replace(config))
    assert decide(x, await served_policy(cli, token)).account == "personal"
