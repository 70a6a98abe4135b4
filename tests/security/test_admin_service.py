"""Attacks on the admin service by someone with a browser, a stolen cookie or token, or a shell
on the server: an open redirect through login's `next`, emptying or abusing the login limiter,
sessions and tokens that outlive a logout, a password change, disabling or a role change, a data
folder others can read, and text from the URL shown on a page. Against the real aiohttp
application and a real SQLite file, a real `clausewarden serve` process, and Chromium.

Other client addresses are real: Linux routes all of 127.0.0.0/8 to the loopback interface, so a
client bound to 127.0.0.2 reaches the server as 127.0.0.2."""

import asyncio
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import update
from yarl import URL

from service import user_store
from service.app import create_app
from service.config import Config
from service.db import users
from service.keys import ENGINE, SERVICES
from tests.support.browser import CHROMIUM, chromium_args, have_chromium
from tests.support.service import Service, migrated

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "a-long-password"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "data"), clock=lambda: NOW, background_tasks=False)
    return await aiohttp_client(create_app(config))


async def add_user(cli: Any, name: str, role: str) -> None:
    """A user as the site's setting up leaves them (a headteacher or governor approved)."""
    async with cli.server.app[ENGINE].begin() as conn:
        await user_store.add_user(conn, name, role, PASSWORD, actor="test", now=NOW)
        if "approved_by" in users.c:
            await conn.execute(update(users).where(users.c.name == name).values(approved_by="test"))


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class Browser:
    """A client of its own (its own cookies), from a given loopback address."""

    def __init__(self, cli: Any, address: str = "127.0.0.1") -> None:
        self.base = str(cli.make_url("/")).rstrip("/")
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            connector=aiohttp.TCPConnector(local_addr=(address, 0), force_close=True),
        )
        self.csrf = ""

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.session.get(self.base + path, allow_redirects=False, **kw)

    async def post(self, path: str, data: dict[str, str], page: str = "/login") -> Any:
        if not self.csrf:
            self.csrf = csrf_from(await (await self.get(page)).text())
        return await self.session.post(
            self.base + path, data={**data, "csrf_token": self.csrf}, allow_redirects=False
        )

    async def login(self, name: str, password: str = PASSWORD, next_: str = "/") -> int:
        resp = await self.post("/login", {"name": name, "password": password, "next": next_})
        return resp.status

    async def close(self) -> None:
        await self.session.close()


# -- login's next ------------------------------------------------------------------------------


def _as_a_browser_reads(location: str) -> str:
    """A browser drops tabs and newlines from a URL and reads a backslash as a slash."""
    return re.sub(r"[\t\n\r]", "", location).replace("\\", "/")


NEXTS = [
    "/%09/evil.example/x",
    "/%0a/evil.example/x",
    "/%0d%0a/evil.example/x",
    "/%5c/evil.example/x",
    "/%5C%5Cevil.example",
    "//evil.example/x",
    "https://evil.example/x",
    "/%20/evil.example",
]


@pytest.mark.parametrize("next_", NEXTS)
async def test_login_next_never_sends_the_browser_to_another_site(cli, next_):
    await add_user(cli, "alice", "admin")
    browser = Browser(cli)
    try:
        page = await browser.get(f"/login?next={next_}")
        html = await page.text()
        browser.csrf = csrf_from(html)
        hidden = re.search(r'name="next" value="([^"]*)"', html)
        assert hidden is not None
        import html as html_lib

        value = html_lib.unescape(hidden.group(1))
        resp = await browser.post("/login", {"name": "alice", "password": PASSWORD, "next": value})
        assert resp.status == 303
        where = _as_a_browser_reads(resp.headers["Location"])
        assert where.startswith("/") and not where.startswith("//"), where
    finally:
        await browser.close()


@pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
def test_chromium_lands_on_the_sites_own_page_after_logging_in_with_a_tab_in_next(tmp_path):
    """(Chromium also refuses the off-site redirect of a form post by the pages' CSP
    form-action 'self'; the HTTP test above is what shows the Location header itself.)"""
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    env = {**os.environ, "CLAUSEWARDEN_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "clausewarden"]
    added = subprocess.run(
        [*cmd, "user", "add", "alice", "--role", "admin", "--data-dir", str(data)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    service = Service(data, environ=env)
    port = service.port
    try:
        service.start()
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=chromium_args("--host-resolver-rules=MAP * 127.0.0.1"),
            )
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/login?next=/%09/evil.example/x")
            page.fill("input[name=name]", "alice")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"http://127.0.0.1:{port}/", wait_until="commit")
            went_to = page.url
            browser.close()
        assert urlsplit(went_to).hostname == "127.0.0.1", went_to
    finally:
        service.stop()


# -- the login limiter -------------------------------------------------------------------------


async def test_one_address_cannot_lock_a_named_user_out(cli):
    await add_user(cli, "helen", "headteacher")
    attacker = Browser(cli, "127.0.0.2")
    helen = Browser(cli, "127.0.0.1")
    try:
        statuses = [await attacker.login("helen", f"guess-number-{i}") for i in range(8)]
        assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
        # helen, at her own computer, still logs in
        assert await helen.login("helen") == 303
    finally:
        await attacker.close()
        await helen.close()


async def test_ten_thousand_and_one_requests_do_not_empty_the_login_limiter(cli):
    await add_user(cli, "helen", "headteacher")
    attacker = Browser(cli, "127.0.0.2")
    other = Browser(cli, "127.0.0.3")
    try:
        for i in range(5):
            await attacker.login("helen", f"guess-{i}")
        assert await attacker.login("helen", "guess-5") == 429
        # 10,001 logins with made-up names, then one failure from elsewhere: a limiter that
        # forgets everything once it holds 10,000 names would let the guessing go on
        sem = asyncio.Semaphore(32)

        async def one(i: int) -> int:
            async with sem:
                return await attacker.login(f"nobody-{i}", "x")

        statuses = await asyncio.gather(*(one(i) for i in range(10_001)))
        assert 500 not in statuses
        assert await other.login("someone-else", "x") == 401
        assert await attacker.login("helen", "guess-6") == 429
    finally:
        await attacker.close()
        await other.close()


async def test_the_limiter_stays_bounded_and_keeps_its_blocks_under_a_flood_of_addresses(cli):
    """The same flood as a botnet would send it (10,001 addresses, each failing for its own
    name), on the service's own limiter: checking a password for each through HTTP would take
    an hour of argon2, which is the point of it."""
    limiter = cli.server.app[SERVICES].logins
    for i in range(5):
        limiter.fail("helen", "10.9.9.9", 1000.0 + i)
    assert limiter.blocked("helen", "10.9.9.9", 1010.0)
    for i in range(10_001):
        address = f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"
        limiter.fail(f"name-{i}", address, 1010.0 + i / 1000)
    assert limiter.blocked("helen", "10.9.9.9", 1030.0)
    assert len(limiter.pair.keys) <= 10_000 and len(limiter.address.keys) <= 10_000
    assert len(limiter.name.keys) <= 10_000
    # and the block expires: no one stays locked out for good
    assert not limiter.blocked("helen", "10.9.9.9", 1000.0 + 2 * 3600)


async def test_backoff_doubles_for_an_address_that_keeps_guessing(cli):
    limiter = cli.server.app[SERVICES].logins
    t = 0.0
    blocks = []
    for _ in range(3):
        for _ in range(5):
            limiter.fail("helen", "10.1.1.1", t)
        assert limiter.blocked("helen", "10.1.1.1", t)
        start = t
        while limiter.blocked("helen", "10.1.1.1", t):
            t += 1.0
        blocks.append(t - start)
    assert blocks[1] >= 2 * blocks[0] - 1 and blocks[2] >= 2 * blocks[1] - 1


# -- sessions and tokens -----------------------------------------------------------------------


async def _stolen_cookie(cli: Any, name: str) -> tuple[Browser, Browser]:
    """`name` logs in; an attacker copies the session cookie into a browser of their own."""
    victim = Browser(cli)
    assert await victim.login(name) == 303
    cookie = next(c for c in victim.session.cookie_jar if c.key == "clausewarden_session")
    thief = Browser(cli, "127.0.0.4")
    thief.session.cookie_jar.update_cookies(
        {"clausewarden_session": cookie.value}, response_url=URL(victim.base)
    )
    assert (await thief.get("/")).status == 200  # the stolen cookie works, for now
    return victim, thief


async def test_a_stolen_session_cookie_stops_working_when_its_user_logs_out(cli):
    await add_user(cli, "alice", "admin")
    victim, thief = await _stolen_cookie(cli, "alice")
    try:
        victim.csrf = csrf_from(await (await victim.get("/")).text())
        resp = await victim.post("/logout", {})
        assert resp.status == 303
        page = await thief.get("/")
        assert page.status == 303 and page.headers["Location"].startswith("/login")
    finally:
        await victim.close()
        await thief.close()


async def test_a_stolen_session_cookie_stops_working_when_the_password_is_changed(cli):
    await add_user(cli, "alice", "admin")
    victim, thief = await _stolen_cookie(cli, "alice")
    try:
        async with cli.server.app[ENGINE].begin() as conn:
            await user_store.set_user(
                conn, "alice", actor="alice", now=NOW, password="a-new-long-password"
            )
        page = await thief.get("/")
        assert page.status == 303 and page.headers["Location"].startswith("/login")
    finally:
        await victim.close()
        await thief.close()


async def test_a_user_changes_their_own_password_on_a_page_and_every_session_ends(cli):
    await add_user(cli, "alice", "admin")
    victim, thief = await _stolen_cookie(cli, "alice")
    try:
        page = await victim.get("/password")
        assert page.status == 200
        victim.csrf = csrf_from(await page.text())
        data = {"present": PASSWORD, "new": "another-long-one", "again": "another-long-one"}
        resp = await victim.post("/password", data)
        assert resp.status == 303
        assert (await thief.get("/")).status == 303
        assert (await victim.get("/")).status == 303
        fresh = Browser(cli)
        try:
            assert await fresh.login("alice", "another-long-one") == 303
        finally:
            await fresh.close()
    finally:
        await victim.close()
        await thief.close()


@pytest.mark.parametrize("change", [{"disabled": "yes", "role": "admin"}, {"role": "viewer"}])
async def test_a_stolen_session_cookie_stops_working_when_its_user_is_disabled_or_demoted(
    cli, change
):
    await add_user(cli, "alice", "admin")
    await add_user(cli, "helen", "headteacher")
    victim, thief = await _stolen_cookie(cli, "alice")
    head = Browser(cli)
    try:
        assert await head.login("helen") == 303
        head.csrf = csrf_from(await (await head.get("/users")).text())
        resp = await head.post("/users/alice", {"disabled": "no", **change})
        assert resp.status == 303
        page = await thief.get("/")
        assert page.status == 303 and page.headers["Location"].startswith("/login")
    finally:
        await victim.close()
        await thief.close()
        await head.close()


async def test_an_api_token_stops_working_when_its_owner_is_disabled(cli):
    await add_user(cli, "alice", "admin")
    await add_user(cli, "helen", "headteacher")
    alice = Browser(cli)
    head = Browser(cli)
    try:
        assert await alice.login("alice") == 303
        alice.csrf = csrf_from(await (await alice.get("/users")).text())
        page = await alice.post("/tokens", {"name": "siem"})
        token = re.search(r'id="new-api-token">([^<]+)<', await page.text()).group(1)
        auth = {"Authorization": f"Bearer {token}"}
        assert (await alice.get("/api/v1/events", headers=auth)).status == 200
        assert await head.login("helen") == 303
        head.csrf = csrf_from(await (await head.get("/users")).text())
        assert (await head.post("/users/alice", {"role": "admin", "disabled": "yes"})).status == 303
        assert (await alice.get("/api/v1/events", headers=auth)).status in (401, 403)
    finally:
        await alice.close()
        await head.close()


# -- pages show no text from the URL -------------------------------------------------------------

PLANTED = "Your account is suspended call 0800 000 000"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts?message=",
        "/settings?message=",
        "/investigations?result=",
        "/users?done=",
        "/users?message=",
        "/login?done=",
        "/login?error=",
        "/audit?message=",
    ],
)
async def test_a_page_never_shows_text_taken_from_the_query_string(cli, path):
    await add_user(cli, "helen", "headteacher")
    browser = Browser(cli)
    try:
        assert await browser.login("helen") == 303
        page = await browser.get(path + PLANTED.replace(" ", "%20"))
        assert PLANTED not in await page.text()
    finally:
        await browser.close()


# -- the data folder ---------------------------------------------------------------------------


def test_the_data_folder_and_database_are_the_service_users_alone(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "CLAUSEWARDEN_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "clausewarden"]
    old_umask = os.umask(0o022)  # as a shell usually has it
    try:
        made = subprocess.run(
            [*cmd, "user", "add", "alice", "--role", "admin", "--data-dir", str(data)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        service = Service(data, environ=env)
        port = service.port
        try:
            service.start()
            import urllib.request

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as r:  # noqa: S310
                assert r.status == 200
        finally:
            service.stop()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name
    assert stat.S_IMODE((data / "clausewarden.db").stat().st_mode) == 0o600
