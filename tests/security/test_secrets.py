"""Attacks on "secrets stay where they are used" (issue 10, section 1): a holder of a sensor token
(the extension's is on every school laptop), an admin who makes a sensor, a headteacher alone,
and someone with a copy of the service's data folder, each trying to get the salt or key that
maps a device pseudonym to a device; and a device given two pseudonyms in one day around midnight.

Against the real aiohttp application with a real SQLite file, a real `clausewarden serve` with a
real proxy (`clausewarden proxy`, mitmdump) shipping to it, and the proxy's own addons in
mitmproxy's test harness where the test must move the proxy's clock (`clausewarden_now`)."""

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mitmproxy.test import taddons, tflow
from sqlalchemy import update

from service import audit, sensor_store, settings_store, user_store
from service.app import create_app
from service.config import Config
from service.db import users
from service.keys import ENGINE, SERVICES
from tests.support.addon_chain import AddonChain
from tests.support.service import migrated

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "a-long-password"
REASON = "A parent reported a post made from a school laptop during lessons on 24 November."
NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}
HEX64 = re.compile(r"[0-9a-f]{64}")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path, clock: Clock) -> Any:
    config = Config(data_dir=migrated(tmp_path / "service"), clock=clock, background_tasks=False)
    return await aiohttp_client(create_app(config))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add_user(cli: Any, name: str, role: str) -> None:
    """A user as the site's setting up leaves them (a headteacher or governor approved)."""
    async with cli.server.app[ENGINE].begin() as conn:
        await user_store.add_user(conn, name, role, PASSWORD, actor="test", now=datetime.now(UTC))
        if "approved_by" in users.c:
            await conn.execute(update(users).where(users.c.name == name).values(approved_by="test"))


async def add_sensor(cli: Any, name: str = "proxy1") -> str:
    async with cli.server.app[ENGINE].begin() as conn:
        return await sensor_store.add_sensor(conn, name, actor="test", now=datetime.now(UTC))


async def set_level(cli: Any, level: str) -> None:
    """The privacy level as the headteacher set it (the settings pages are tested elsewhere)."""
    async with cli.server.app[ENGINE].begin() as conn:
        await settings_store.put_setting(conn, "privacy_level", level)
    cli.server.app[SERVICES].bundles.invalidate()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def login(cli: Any, name: str) -> None:
    token = csrf_from(await (await cli.get("/login")).text())
    form = {"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"}
    resp = await cli.post("/login", data=form, allow_redirects=False)
    assert resp.status in (302, 303), await resp.text()


async def logout(cli: Any) -> None:
    html = await (await cli.get("/privacy")).text()
    await cli.post("/logout", data={"csrf_token": csrf_from(html)}, allow_redirects=False)
    cli.session.cookie_jar.clear()


async def post_form(cli: Any, page: str, action: str, data: dict[str, str]) -> Any:
    token = csrf_from(await (await cli.get(page)).text())
    return await cli.post(action, data={**data, "csrf_token": token}, allow_redirects=False)


def secrets_in(bundle: dict[str, Any]) -> list[str]:
    """Every 64-hex-digit string anywhere in the bundle (a salt or key looks like one)."""
    return HEX64.findall(json.dumps(bundle))


# --- the bundle ------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["daily", "stable"])
async def test_a_sensor_token_holder_finds_no_salt_or_key_in_the_bundle(cli, level):
    token = await add_sensor(cli, "extension")  # the token on every school laptop
    await set_level(cli, level)
    resp = await cli.get("/api/v1/bundle", headers=bearer(token))
    assert resp.status == 200
    bundle = await resp.json()
    assert bundle["privacy"] == {"level": level}
    assert secrets_in(bundle) == []


async def test_an_admin_who_creates_a_sensor_cannot_read_the_stable_key(cli):
    await add_user(cli, "alice", "admin")
    await set_level(cli, "stable")
    await login(cli, "alice")
    page = await post_form(cli, "/sensors", "/sensors", {"name": "alices-sensor"})
    assert page.status == 200
    token = re.search(r'<pre id="new-token">([^<]+)</pre>', await page.text()).group(1)
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    assert bundle["privacy"] == {"level": "stable"} and "key" not in bundle["privacy"]
    assert secrets_in(bundle) == []


async def test_a_headteacher_alone_cannot_get_a_device_checked(cli):
    # She can make a sensor, open an investigation and ask for a test; without a governor's
    # countersignature nothing is tested, no check reaches a sensor, no key is hers to use.
    await add_user(cli, "helen", "headteacher")
    await set_level(cli, "stable")
    await login(cli, "helen")
    page = await post_form(cli, "/sensors", "/sensors", {"name": "helens-sensor"})
    token = re.search(r'<pre id="new-token">([^<]+)</pre>', await page.text()).group(1)
    resp = await post_form(cli, "/investigations", "/investigations", {"reason": REASON})
    assert resp.status == 303
    resp = await post_form(
        cli, "/investigations", "/investigations/1/test", {"device": "10.0.0.42"}
    )
    assert resp.status == 403
    resp = await post_form(cli, "/investigations", "/investigations/1/countersign", {})
    assert resp.status == 403  # not her own countersignature either
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    assert secrets_in(bundle) == []
    checks = await cli.get("/api/v1/investigation-checks", headers=bearer(token))
    assert checks.status == 200 and await checks.json() == {"checks": []}
    answer = await cli.post(
        "/api/v1/investigation-checks/1", json={"device": "ab" * 16}, headers=bearer(token)
    )
    assert answer.status == 404
    async with cli.server.app[ENGINE].connect() as conn:
        actions = [e.action for e in await audit.recent(conn)]
    assert "investigation.test" not in actions


# --- one pseudonym per device per day ------------------------------------------------------


@pytest.fixture
async def proxy(tmp_path: Path, cli: Any) -> AsyncIterator[tuple[AddonChain, Any]]:
    """The proxy's addons, shipping to the service `cli` serves, on the proxy's settable clock."""
    token_file = tmp_path / "sensor-token"
    token_file.write_text(await add_sensor(cli, "proxy") + "\n")
    addon = AddonChain()
    with taddons.context(addon) as ctx:
        ctx.configure(
            addon,
            clausewarden_data_dir=str(tmp_path / "proxy"),
            clausewarden_now="2026-11-25T10:00:00+00:00",
            clausewarden_service=str(cli.make_url("/")),
            clausewarden_token_file=str(token_file),
        )
        yield addon, ctx
        await addon.close()


async def visit(addon: AddonChain, url: str = "https://www.facebook.com/") -> None:
    f = tflow.tflow()
    f.request.url = url
    f.request.headers.clear()
    f.request.headers["Host"] = f.request.host
    for name, value in NAVIGATE.items():
        f.request.headers[name] = value
    await addon.request(f)


def devices(addon: AddonChain) -> list[str | None]:
    return [e["device"] for _, e in addon.outbox.all_events()]


async def test_a_device_gets_exactly_one_pseudonym_per_local_day_across_midnight(cli, clock, proxy):
    addon, ctx = proxy
    clock.now = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)  # London is UTC in November
    ctx.configure(addon, clausewarden_now="2026-11-25T23:59:00+00:00")
    await addon.refresh()  # the proxy's regular look at the service's bundle
    await visit(addon)
    ctx.configure(addon, clausewarden_now="2026-11-25T23:59:59+00:00")
    await visit(addon)
    # Midnight: the proxy's clock has moved, its bundle is still the one fetched before.
    clock.now = datetime(2026, 11, 26, 0, 0, 5, tzinfo=UTC)
    ctx.configure(addon, clausewarden_now="2026-11-26T00:00:05+00:00")
    await visit(addon)
    await addon.refresh()  # within 30 s the bundle is refreshed
    ctx.configure(addon, clausewarden_now="2026-11-26T00:00:40+00:00")
    await visit(addon)
    before, just_before, after, later = devices(addon)
    assert before == just_before and after == later
    assert before is not None and after is not None and before != after


async def test_a_device_check_goes_to_the_proxy_and_comes_back_as_an_audited_count(cli, proxy):
    addon, ctx = proxy
    await set_level(cli, "stable")
    await addon.refresh()
    for url in ("https://www.facebook.com/", "https://x.com/", "https://www.linkedin.com/"):
        await visit(addon, url)
    events = [e for _, e in addon.outbox.pending(10)]
    token = addon.shared.token
    resp = await cli.post("/api/v1/events", json={"events": events}, headers=bearer(token))
    assert resp.status == 202  # as the shipper sends them

    await add_user(cli, "helen", "headteacher")
    await add_user(cli, "gill", "governor")
    await login(cli, "helen")
    await post_form(cli, "/investigations", "/investigations", {"reason": REASON})
    await logout(cli)
    await login(cli, "gill")
    resp = await post_form(cli, "/investigations", "/investigations/1/countersign", {})
    assert resp.status == 303
    await logout(cli)
    await login(cli, "helen")
    resp = await post_form(
        cli, "/investigations", "/investigations/1/test", {"device": "127.0.0.1"}
    )
    assert resp.status == 303
    assert "Waiting for the proxy" in await (await cli.get("/investigations")).text()

    assert await addon.recorder.answer_checks() == 1  # the proxy's regular look for checks
    assert await addon.recorder.answer_checks() == 0  # answered once
    page = await (await cli.get("/investigations")).text()
    assert "3 stored events match that device" in page
    for device in set(devices(addon)):
        assert device not in page  # a count, never a pseudonym
    async with cli.server.app[ENGINE].connect() as conn:
        entries = [(e.actor, e.action) for e in await audit.recent(conn)]
    assert ("helen", "investigation.test") in entries
    assert ("sensor:proxy", "investigation.test.answer") in entries


# --- the service's data folder and database ------------------------------------------------


def test_the_services_data_folder_and_database_hold_no_salt_or_key_after_both_levels(
    tmp_path, monkeypatch
):
    from tests.support.net import stop
    from tests.support.proxy import recent_working_time, start_proxy, wait_shipped
    from tests.support.service import Service
    from tests.support.upstream import Upstream

    # The service and the proxy run as processes of this checkout's code (not an installed copy).
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    upstream = Upstream()
    folder = tmp_path / "service"
    folder.mkdir()
    service = Service(folder, sensor="proxy", log=folder / "service.log")
    now = recent_working_time()
    fast = ["clausewarden_ship_delay=0.2", "clausewarden_ship_max_delay=0.5"]
    held: set[str] = set()  # every salt and key the proxy has held
    try:
        shipped = 0
        for level in ("daily", "stable"):
            asyncio.run(_put_level(folder, level))
            service.start()
            proxy = start_proxy(
                tmp_path, upstream.port, None, now, fast, (service.url, service.token_file)
            )
            try:
                for host in ("www.facebook.com", "x.com"):
                    status, _, _ = proxy.get("http", host, "/")
                    assert status in (200, 403)
                shipped += 2
                wait_shipped(proxy, shipped)
            finally:
                stop(proxy.process)
                service.stop()
            held |= _proxy_secrets(proxy.data)
            # The next run must decide from the service's new level, not the last good copy it
            # may start on while its first fetch is under way.
            (proxy.data / "bundle.json").unlink(missing_ok=True)
        assert len(held) >= 2, "the proxy held no day's salt and stable key"
        with sqlite3.connect(folder / "clausewarden.db") as db:
            [(stored,)] = db.execute("SELECT count(*) FROM events")
        assert stored == shipped
        found = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            for secret in held:
                if secret.encode() in data or bytes.fromhex(secret) in data:
                    found.append(path.name)
        assert found == [], f"a salt or key of the proxy is in the service's {found}"
    finally:
        service.stop()
        upstream.close()


async def _put_level(folder: Path, level: str) -> None:
    from service.cli_support import open_store

    config = Config(data_dir=folder.resolve(), config_dir=None, database_url=None)
    async with open_store(config) as engine, engine.begin() as conn:
        await settings_store.put_setting(conn, "privacy_level", level)


def _proxy_secrets(data: Path) -> set[str]:
    """The salts and keys in the proxy's data folder (its own files, or the bundle's copy)."""
    found: set[str] = set()
    for path in data.glob("*"):
        if path.is_file() and path.suffix in (".json", ".key"):
            found |= set(HEX64.findall(path.read_text(errors="replace")))
    found.discard("0" * 64)
    allowance = (data / "allowance.key").read_text().strip()
    found.discard(allowance)  # signs the proxy's tickets; not a pseudonym's key
    return found


# --- the proxy's outbox --------------------------------------------------------------------


@pytest.fixture
async def lone_proxy(tmp_path: Path) -> AsyncIterator[tuple[AddonChain, Any]]:
    """The proxy's addons with no service: everything it records stays unsent in its outbox."""
    addon = AddonChain()
    with taddons.context(addon) as ctx:
        ctx.configure(
            addon,
            clausewarden_data_dir=str(tmp_path / "proxy"),
            clausewarden_now="2026-11-25T10:00:00+00:00",
        )
        yield addon, ctx
        await addon.close()


def outbox_rows(addon: AddonChain) -> list[tuple[str, str]]:
    """(day, device tag) of each row, read from the outbox's SQLite file itself."""
    with sqlite3.connect(addon.outbox.path) as db:
        return list(db.execute("SELECT day, self_tag FROM events ORDER BY seq"))


async def test_the_outbox_device_tag_rotates_daily_and_a_past_days_cannot_be_recomputed(
    lone_proxy,
):
    addon, ctx = lone_proxy
    await visit(addon)
    ctx.configure(addon, clausewarden_now="2026-11-26T10:00:00+00:00")
    await visit(addon)
    [(day1, tag1), (day2, tag2)] = outbox_rows(addon)
    assert (day1, day2) == ("2026-11-25", "2026-11-26")
    assert tag1 and tag2 and tag1 != tag2  # the same device, a different tag each day
    await addon.recorder.tidy()  # the proxy's housekeeping after midnight
    [(_, tag1), (_, tag2)] = outbox_rows(addon)
    assert tag1 == "" and tag2  # a past day's tag is gone with that day's salt


async def test_unsent_outbox_rows_older_than_the_retention_period_are_deleted(lone_proxy):
    addon, ctx = lone_proxy
    await visit(addon)  # 2026-11-25; the service is never reached
    ctx.configure(addon, clausewarden_now="2027-01-10T10:00:00+00:00")  # 46 days on
    await visit(addon)
    await addon.recorder.tidy()
    assert [day for day, _ in outbox_rows(addon)] == ["2026-11-25", "2027-01-10"]
    ctx.configure(addon, clausewarden_now="2027-02-24T10:00:00+00:00")  # 91 days on: past 90
    await addon.recorder.tidy()
    assert [day for day, _ in outbox_rows(addon)] == ["2027-01-10"]
    assert addon.outbox.status()["outbox_pending"] == 1
