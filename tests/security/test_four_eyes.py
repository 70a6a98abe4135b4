"""Four eyes that are two people: a headteacher must not be able to make a governor and
countersign her own investigation with it, and the command line on the server must not make a
second headteacher or a governor that counts without another's approval. Real `clausewarden`
processes and the real aiohttp application on the same SQLite file."""

import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from service.config import Config

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "a-long-password"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
REASON = "A parent reported a post made from a school laptop during lessons on 24 November."


def cw(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLAUSEWARDEN_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", *args, "--data-dir", str(data)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A school whose first headteacher, helen, was made on the server."""
    folder = tmp_path / "data"
    made = cw(folder, "user", "add", "helen", "--role", "headteacher")
    assert made.returncode == 0, made.stderr
    return folder


@pytest.fixture
async def cli(aiohttp_client: Any, data: Path) -> Any:
    return await aiohttp_client(
        create_app(Config(data_dir=data, clock=lambda: NOW, background_tasks=False))
    )


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def login(cli: Any, name: str) -> int:
    cli.session.cookie_jar.clear()
    token = csrf_from(await (await cli.get("/login")).text())
    resp = await cli.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"},
        allow_redirects=False,
    )
    return resp.status


async def post(cli: Any, page: str, action: str, form: dict[str, str]) -> int:
    html = await (await cli.get(page)).text()
    resp = await cli.post(
        action, data={**form, "csrf_token": csrf_from(html)}, allow_redirects=False
    )
    return resp.status


def countersigned_by(data: Path) -> list[Any]:
    db = sqlite3.connect(data / "clausewarden.db")
    try:
        return [row[0] for row in db.execute("SELECT countersigned_by FROM investigations")]
    finally:
        db.close()


async def open_an_investigation_as_helen(cli: Any) -> None:
    assert await login(cli, "helen") == 303
    form = {"privacy_level": "stable", "k_anonymity": "3", "retention_days": "90"}
    assert await post(cli, "/settings", "/settings", form) == 303
    assert await post(cli, "/investigations", "/investigations", {"reason": REASON}) == 303


async def test_a_headteacher_cannot_make_a_governor_and_countersign_her_own_investigation(
    cli, data
):
    await open_an_investigation_as_helen(cli)
    # helen makes a governor account whose password she knows...
    made = {"name": "gail", "role": "governor", "password": PASSWORD}
    assert await post(cli, "/users", "/users", made) == 303
    # ...and cannot approve it herself
    await post(cli, "/users", "/users/gail/approve", {})
    # as "gail" she cannot log in, let alone countersign
    assert await login(cli, "gail") != 303
    await post(cli, "/investigations", "/investigations/1/countersign", {})
    assert countersigned_by(data) == [None]


async def test_a_governor_approved_by_another_counts_and_may_countersign(cli, data):
    await open_an_investigation_as_helen(cli)
    assert (
        await post(
            cli, "/users", "/users", {"name": "gail", "role": "governor", "password": PASSWORD}
        )
        == 303
    )
    # a governor made on the server also waits, for helen this time (she did not make it)
    assert cw(data, "user", "add", "gordon", "--role", "governor").returncode == 0
    assert await login(cli, "gordon") != 303
    assert await login(cli, "helen") == 303
    page = await (await cli.get("/users")).text()
    assert "gordon" in page and "made on the server" in page  # announced to helen
    assert await post(cli, "/users", "/users/gordon/approve", {}) == 303
    # gordon, not made by helen, approves the governor helen made
    assert await login(cli, "gordon") == 303
    assert await post(cli, "/users", "/users/gail/approve", {}) == 303
    assert await login(cli, "gail") == 303
    assert await post(cli, "/investigations", "/investigations/1/countersign", {}) == 303
    assert countersigned_by(data) == ["gail"]
    audit = await (await cli.get("/audit")).text()
    assert "user.approve" in audit


async def test_the_audit_page_names_the_first_headteacher_made_on_the_server(cli, data):
    assert cw(data, "user", "add", "gordon", "--role", "governor").returncode == 0
    assert await login(cli, "helen") == 303
    assert await post(cli, "/users", "/users/gordon/approve", {}) == 303
    assert await login(cli, "gordon") == 303
    page = await (await cli.get("/audit")).text()
    assert "Accounts made on the server" in page and "helen" in page


def test_the_command_line_makes_only_the_first_headteacher_active(data):
    # helen, the first, is active (the fixture); every later one waits for an approval
    for name, role in (("hugo", "headteacher"), ("gina", "governor")):
        made = cw(data, "user", "add", name, "--role", role)
        assert made.returncode == 0, made.stderr
    assert cw(data, "user", "add", "vic", "--role", "viewer").returncode == 0
    assert cw(data, "user", "set", "vic", "--role", "governor").returncode == 0
    listed = {
        line.split("\t")[0]: line.split("\t")[2]
        for line in cw(data, "user", "list").stdout.splitlines()
    }
    assert listed == {
        "helen": "active",
        "hugo": "waiting for approval",
        "gina": "waiting for approval",
        "vic": "waiting for approval",
    }


async def test_a_headteacher_or_governor_made_on_the_command_line_cannot_log_in_unapproved(
    aiohttp_client, data
):
    assert cw(data, "user", "add", "hugo", "--role", "headteacher").returncode == 0
    assert cw(data, "user", "add", "gina", "--role", "governor").returncode == 0
    cli = await aiohttp_client(
        create_app(Config(data_dir=data, clock=lambda: NOW, background_tasks=False))
    )
    assert await login(cli, "hugo") != 303
    assert await login(cli, "gina") != 303
    assert await login(cli, "helen") == 303


def test_a_password_set_on_the_command_line_puts_a_governor_back_to_waiting(data):
    assert cw(data, "user", "add", "gina", "--role", "governor").returncode == 0
    db = sqlite3.connect(data / "clausewarden.db")
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(users)")}
        assert "approved_by" in columns, "no approvals are kept"
        db.execute("UPDATE users SET approved_by = 'helen' WHERE name = 'gina'")
        db.commit()
    finally:
        db.close()
    assert cw(data, "user", "set", "gina", "--password").returncode == 0
    listed = cw(data, "user", "list").stdout
    assert "gina\tgovernor\twaiting for approval" in listed
