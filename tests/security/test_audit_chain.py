"""An audit log a database writer cannot rewrite unseen: a plain edit, deleting an entry and
re-hashing the chain after it, and cutting off the newest entries are each caught by
`clausewarden audit verify` (the last against the anchor the audit page shows). Real
`clausewarden` processes, a real SQLite file edited with sqlite3 as an intruder would."""

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from service.app import create_app
from service.config import Config

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "a-long-password"


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


@pytest.fixture(scope="module")
def logged(tmp_path_factory: Any) -> Path:
    """A data folder whose audit log has five entries (made once, copied by each test)."""
    data = tmp_path_factory.mktemp("audit") / "data"
    for name in ("a", "b", "c", "d", "e"):
        assert cw(data, "sensor", "add", name).returncode == 0
    return data


@pytest.fixture
def data(logged: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(logged, copy)
    ok = cw(copy, "audit", "verify")
    assert ok.returncode == 0 and "5 audit log entries verified" in ok.stdout
    return copy


def rows(data: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(data / "clausewarden.db")
    try:
        return db.execute(
            "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log ORDER BY id"
        ).fetchall()
    finally:
        db.close()


def execute(data: Path, sql: str, *params: Any) -> None:
    db = sqlite3.connect(data / "clausewarden.db")
    try:
        db.execute(sql, params)
        db.commit()
    finally:
        db.close()


def rechain(data: Path, entry_hash: Any) -> None:
    """Recompute every entry's links and hashes, as an intruder hiding a deletion would."""
    prev = "0" * 64
    for ident, at, actor, action, detail, _prev, _hash in rows(data):
        new = entry_hash(prev, at, actor, action, detail)
        execute(data, "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", prev, new, ident)
        prev = new


def plain_sha256(prev: str, at: str, actor: str, action: str, detail: str) -> str:
    """The unkeyed chain anyone can recompute (the log's hash before issue 10)."""
    return hashlib.sha256(orjson.dumps([prev, at, actor, action, detail])).hexdigest()


def anchor_of(data: Path) -> str:
    """What the audit page shows the governors to write down: entries and the newest hash."""
    all_rows = rows(data)
    return f"{len(all_rows)}:{all_rows[-1][6][:16]}"


def test_a_plain_edit_of_an_entry_is_detected(data):
    execute(data, "UPDATE audit_log SET detail = ? WHERE id = 3", '{"name":"innocent"}')
    bad = cw(data, "audit", "verify")
    assert bad.returncode == 1 and "entry 3" in bad.stdout


def test_deleting_an_entry_and_rehashing_the_chain_is_detected(data):
    execute(data, "DELETE FROM audit_log WHERE id = 3")
    rechain(data, plain_sha256)
    bad = cw(data, "audit", "verify")
    assert bad.returncode == 1, bad.stdout


def test_cutting_off_the_newest_entries_is_detected_against_the_anchor(data):
    anchor = anchor_of(data)
    assert cw(data, "audit", "verify", "--anchor", anchor).returncode == 0
    execute(data, "DELETE FROM audit_log WHERE id >= 4")
    bad = cw(data, "audit", "verify", "--anchor", anchor)
    assert bad.returncode == 1 and "cut off" in bad.stdout, bad.stdout + bad.stderr


def test_a_rewrite_by_someone_holding_the_data_folder_is_detected_against_the_anchor(data):
    """With the database AND the data folder (a stolen disk), the key is theirs too: the chain
    can be rebuilt, but not to meet the anchor the governors wrote down."""
    import hmac

    anchor = anchor_of(data)
    key = bytes.fromhex((data / "audit.key").read_text().strip())

    def keyed(prev: str, at: str, actor: str, action: str, detail: str) -> str:
        payload = orjson.dumps(["cw-audit-v2", prev, at, actor, action, detail])
        return hmac.new(key, payload, hashlib.sha256).hexdigest()

    execute(data, "DELETE FROM audit_log WHERE id = 2")
    rechain(data, keyed)
    assert cw(data, "audit", "verify").returncode == 0  # the chain alone cannot tell
    bad = cw(data, "audit", "verify", "--anchor", anchor)
    assert bad.returncode == 1, bad.stdout


def test_the_audit_key_is_kept_outside_the_database_and_readable_by_the_owner_only(data):
    import stat

    key = data / "audit.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = key.read_text().strip()
    dump = "\n".join(sqlite3.connect(data / "clausewarden.db").iterdump())
    assert text not in dump


def test_a_wrong_anchor_is_one_clear_line(data):
    bad = cw(data, "audit", "verify", "--anchor", "five")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "COUNT:HASH" in bad.stderr


async def test_the_audit_page_shows_the_head_and_verify_accepts_it(aiohttp_client, data):
    assert cw(data, "user", "add", "helen", "--role", "headteacher").returncode == 0
    cli = await aiohttp_client(
        create_app(Config(data_dir=data, clock=lambda: datetime.now(UTC), background_tasks=False))
    )
    page = await cli.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
    form = {"name": "helen", "password": PASSWORD, "csrf_token": token, "next": "/"}
    assert (await cli.post("/login", data=form, allow_redirects=False)).status == 303
    html = await (await cli.get("/audit")).text()
    shown = re.search(r'id="audit-anchor">(\d+:[0-9a-f]+)<', html)
    assert shown, "the audit page shows no anchor"
    assert shown.group(1) == anchor_of(data)
    ok = cw(data, "audit", "verify", "--anchor", shown.group(1))
    assert ok.returncode == 0, ok.stdout


def test_a_log_from_before_the_key_is_rechained_once_and_says_so(data):
    """Upgrading: a log chained with plain SHA-256 and no key file is checked, re-chained
    under a new key, and the re-chaining is itself an entry."""
    (data / "audit.key").unlink()
    rechain(data, plain_sha256)
    ok = cw(data, "audit", "verify")
    assert ok.returncode == 0, ok.stdout
    actions = [row[3] for row in rows(data)]
    assert actions[-1] == "audit.rechain" and len(actions) == 6
    # but a log re-hashed with plain SHA-256 while the key exists is not "upgraded"
    rechain(data, plain_sha256)
    assert cw(data, "audit", "verify").returncode == 1
