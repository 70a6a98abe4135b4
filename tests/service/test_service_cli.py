"""The service's commands as an admin runs them: real processes, a real SQLite file."""

import csv
import io
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support.net import free_port, stop, wait_for_port
from tests.support.service import Service

ENV = {**os.environ, "CLAUSEWARDEN_PASSWORD": "a-long-password"}


def cw(*args: str, data: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env or ENV,
        timeout=120,
    )


def test_sensor_add_prints_the_token_alone_on_the_last_line_and_stores_only_a_hash(tmp_path):
    result = cw("sensor", "add", "library-proxy", data=tmp_path)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("cws_") and " " not in token
    db = sqlite3.connect(tmp_path / "clausewarden.db")
    [(stored,)] = db.execute("SELECT token_hash FROM sensors").fetchall()
    assert token not in stored and len(stored) == 64
    again = cw("sensor", "add", "library-proxy", data=tmp_path)
    assert again.returncode == 1 and "already" in again.stderr
    assert cw("sensor", "revoke", "library-proxy", data=tmp_path).returncode == 0
    assert "revoked" in cw("sensor", "list", data=tmp_path).stdout


def test_user_add_takes_the_password_from_the_environment_never_an_argument(tmp_path):
    result = cw("user", "add", "helen", "--role", "headteacher", data=tmp_path)
    assert result.returncode == 0, result.stderr
    db = sqlite3.connect(tmp_path / "clausewarden.db")
    [(role, hashed)] = db.execute("SELECT role, password_hash FROM users").fetchall()
    assert role == "headteacher" and hashed.startswith("$argon2id$")
    no_password = {k: v for k, v in ENV.items() if k != "CLAUSEWARDEN_PASSWORD"}
    result = subprocess.run(
        [sys.executable, "-m", "clausewarden", "user", "add", "x", "--role", "viewer"]
        + ["--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=no_password,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode != 0 and "CLAUSEWARDEN_PASSWORD" in result.stderr


def test_audit_verify_passes_then_fails_after_an_entry_is_deleted(tmp_path):
    from tests.support.service import seed_store

    seed_store(tmp_path, {}, ["a", "b", "c"])
    ok = cw("audit", "verify", data=tmp_path)
    assert ok.returncode == 0 and "3 audit log entries verified" in ok.stdout
    db = sqlite3.connect(tmp_path / "clausewarden.db")
    db.execute("DELETE FROM audit_log WHERE id = 2")
    db.commit()
    bad = cw("audit", "verify", data=tmp_path)
    assert bad.returncode == 1 and "changed or deleted" in bad.stdout


def test_dpia_draft_is_generated_from_the_settings(tmp_path):
    result = cw("dpia", data=tmp_path)
    assert result.returncode == 0
    assert "Privacy level: **daily**" in result.stdout
    assert "deleted after 90 days" in result.stdout
    # Devices not decrypted (issue 17): what is recorded of them, and what they are shown.
    assert "never opened: Staff Wi-Fi (own devices), Visitors and contractors" in result.stdout
    assert "the action 'seen' and no act" in result.stdout


@pytest.fixture
def served(tmp_path):
    """A real `clausewarden serve` process with a sensor; yields (url, token, data)."""
    token = cw("sensor", "add", "proxy1", data=tmp_path).stdout.strip().splitlines()[-1]
    service = Service(tmp_path, env=ENV)
    try:
        service.start()
        yield service.url, token, tmp_path
        assert service.process is not None and service.process.poll() is None
    finally:
        service.stop()


def _post(url: str, token: str, body: dict) -> int:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - loopback test server
        url,
        data=orjson.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status


def test_events_export_streams_what_the_served_api_stored(served):
    from datetime import UTC, datetime

    from tests.support.service import event

    url, token, data = served
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:00:00Z")
    # three devices each: k=3, so both cells are shown (events become cells of a day)
    batch = [event(time=now, outcome="warn") for _ in range(3)] + [
        event(time=now, outcome="block", rule="social-working-time") for _ in range(3)
    ]
    assert _post(f"{url}/api/v1/events", token, {"events": batch}) == 202
    csv_out = cw("events", "export", "--format", "csv", data=data)
    *lines, note = csv_out.stdout.splitlines()
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert sorted((r["outcome"], r["events"]) for r in rows) == [("block", "3"), ("warn", "3")]
    assert note.startswith("# 0 cells hidden")
    lines = cw("events", "export", "--format", "jsonl", data=data).stdout.splitlines()
    cells = [orjson.loads(line) for line in lines]
    assert "id" not in cells[0] and "device" not in cells[0] and cells[-1]["hidden_cells"] == 0
    empty = cw("events", "export", "--to", "2000-01-02", "--format", "jsonl", data=data)
    assert [orjson.loads(line)["hidden_cells"] for line in empty.stdout.splitlines()] == [0]


def test_retention_run_deletes_old_events_but_keeps_the_daily_totals(tmp_path):
    import asyncio
    from datetime import UTC, datetime, timedelta

    from policy.event import Event
    from service.cli_support import bundle_source, open_store
    from service.config import Config
    from service.ingest import Rollup, store_events
    from tests.support.service import event

    config = Config(data_dir=tmp_path)
    _school, _bundles, tz = bundle_source(config)
    old = (datetime.now(UTC) - timedelta(days=100)).strftime("%Y-%m-%dT10:00:00Z")
    new = datetime.now(UTC).strftime("%Y-%m-%dT%H:00:00Z")

    async def seed() -> None:
        async with open_store(config) as engine, engine.begin() as conn:
            checked = [Event.from_json(event(time=t)) for t in (old, old, new)]
            await store_events(conn, checked, Rollup(tz))

    asyncio.run(seed())
    result = cw("retention", "run", data=tmp_path)
    assert result.returncode == 0 and "Deleted 2 events" in result.stdout
    db = sqlite3.connect(tmp_path / "clausewarden.db")
    assert db.execute("SELECT count(*) FROM events").fetchone() == (1,)
    old_day = old[:10]
    [(n, devices)] = db.execute(
        "SELECT n, devices FROM daily_counts WHERE day = ? AND dim = 'all'", (old_day,)
    ).fetchall()
    assert (n, devices) == (2, 2)
    assert db.execute(
        "SELECT count(*) FROM daily_devices WHERE day = ?", (old_day,)
    ).fetchone() == (0,)


def test_data_folder_secrets_are_readable_by_the_owner_only(served):
    url, token, data = served
    import urllib.request

    request = urllib.request.Request(  # noqa: S310
        f"{url}/api/v1/bundle", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("session.key", "audit.key", "clausewarden.db"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    assert not (data / "daily-salt.json").exists()  # the sensors keep their own salts


def _serve(port: int, data: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "clausewarden", "serve", "--port", str(port)]
        + ["--data-dir", str(data), *extra],
        env={**ENV, "CLAUSEWARDEN_DATABASE": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _healthy(port: int) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:  # noqa: S310
        return orjson.loads(r.read())


def test_serve_takes_a_plain_sqlite_url_and_runs_it_on_aiosqlite(tmp_path):
    port, db = free_port(), tmp_path / "school.db"
    process = _serve(port, tmp_path / "data", "--database", f"sqlite:///{db}")
    try:
        wait_for_port(port, process, timeout=60)
        assert _healthy(port) == {"status": "ok", "writes": "ok"}
    finally:
        stop(process)
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert "events" in tables


def test_serve_with_no_users_says_how_to_make_the_first_headteacher(tmp_path):
    port = free_port()
    process = _serve(port, tmp_path / "data")
    try:
        wait_for_port(port, process, timeout=60)
    finally:
        stop(process)
    out = process.stdout.read()
    assert "clausewarden user add NAME --role headteacher" in out
    assert (
        cw("user", "add", "helen", "--role", "headteacher", data=tmp_path / "data").returncode == 0
    )
    port = free_port()
    process = _serve(port, tmp_path / "data")
    try:
        wait_for_port(port, process, timeout=60)
    finally:
        stop(process)
    assert "user add" not in process.stdout.read()


def _pg_database(admin_url: str) -> str:
    """A fresh PostgreSQL database; its plain postgres:// URL (as psql or a host would give it)."""
    import asyncio
    import uuid

    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"cw_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return dsn.rsplit("/", 1)[0].replace("postgresql://", "postgres://") + "/" + name


@pytest.fixture
def pg_url(pg_admin_url):
    if pg_admin_url is None:
        pytest.skip("PostgreSQL is not available here")
    return _pg_database(pg_admin_url)


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_serve_takes_a_plain_postgres_url_and_runs_it_on_asyncpg(tmp_path, pg_url, scheme):
    port = free_port()
    url = pg_url.replace("postgres://", scheme, 1)
    process = _serve(port, tmp_path / "data", "--database", url)
    try:
        wait_for_port(port, process, timeout=60)
        assert _healthy(port) == {"status": "ok", "writes": "ok"}
    finally:
        stop(process)
    assert not (tmp_path / "data" / "clausewarden.db").exists()


def test_a_wrong_postgresql_password_is_one_line_naming_the_fix(tmp_path, pg_url):
    user_part = pg_url.split("://", 1)[1].split("@", 1)[0]
    wrong = pg_url.replace(user_part, user_part.split(":")[0] + ":not-the-password")
    process = _serve(free_port(), tmp_path / "data", "--database", wrong)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "Traceback" not in err, err
    [line] = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("clausewarden serve: PostgreSQL at 127.0.0.1:5432")
    assert "refused the user name and password in --database" in line
    assert "not-the-password" not in line
