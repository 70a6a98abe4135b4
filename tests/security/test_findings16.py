"""Issue 16, section 4 "Smaller findings", each performed against the real CLI and a real
`clausewarden serve` on a real SQLite file:

- a staff report matched to one device through its time, sensor and platform (the database and
  the audit log keep the day only now, and the headteacher's inbox still works);
- a backup whose users table was edited (an admin made headteacher) and whose session key was
  replaced, restored without a word, and `audit verify` calling the result intact (the backup is
  signed with a key kept outside it; user changes are in the audit chain); the proxy's CA key in
  every backup (now only with --include-ca-key);
- a new accounts.yaml entry approved at a restart without the headteacher (it waits now).

The Tell form's one-use token is the proxy's own (proxy_addon/tell.py): not here."""

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.admin_pages import AdminSession
from tests.support.net import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "a-long-password"


def clausewarden(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`clausewarden ARGS` as the IT admin types it on the server."""
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CLAUSEWARDEN_PASSWORD": PASSWORD, **(env or {})},
        timeout=120,
    )


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    done = clausewarden(*args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def serving(data: Path, config: Path) -> Iterator[str]:
    """A real `clausewarden serve` on `data` and `config`; its base URL."""
    port = free_port()
    log = (data.parent / f"{data.name}-serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "clausewarden", "serve", "--host", "127.0.0.1"]
        + ["--port", str(port), "--data-dir", str(data), "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        wait_for_port(port, process, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def config_folder(tmp_path: Path, accounts_yaml: str | None = None) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    if accounts_yaml is not None:
        (folder / "accounts.yaml").write_text(accounts_yaml)
    return folder


def sensor_token(data: Path, config: Path, name: str = "office") -> str:
    out = ok("sensor", "add", name, "--data-dir", str(data), "--config", str(config))
    return out.strip().splitlines()[-1].strip()


def api(base: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1
        return json.load(response)


# --- a staff report matched to one device ----------------------------------------------------

REPORT = {
    "kind": "contact",
    "platform": "facebook",
    "what_happened": "A parent sent me a friend request last night.",
    "name": "Ottoline Vandersteen",
    "contact": "ottoline.v@wycliffe.example",
}
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def test_a_staff_report_keeps_the_day_only_and_no_sensor_or_platform(tmp_path):
    data, config = tmp_path / "data", config_folder(tmp_path)
    ok("user", "add", "head", "--role", "headteacher", "--data-dir", str(data), "--config",
       str(config))  # fmt: skip
    token = sensor_token(data, config, "office-proxy")
    with serving(data, config) as base:
        answer = api(base, "/api/v1/staff-reports", token, REPORT)
        reference = answer["reference"]
        assert not any("T" in str(v) and ":" in str(v) for v in answer.values())  # no time
        inbox = AdminSession(base, "head", PASSWORD).get(
            "/staff-reports"
        )  # the headteacher's inbox works
        assert reference in inbox and "not yet" in inbox

    # what a copy of the database holds about the report, and the audit log's entry for it
    db = sqlite3.connect(data / "clausewarden.db")
    db.row_factory = sqlite3.Row
    try:
        [row] = db.execute("SELECT * FROM staff_reports").fetchall()
        [entry] = db.execute(
            "SELECT * FROM audit_log WHERE action = 'staff_report.received'"
        ).fetchall()
    finally:
        db.close()
    kept = dict(row)
    assert kept["name"] == REPORT["name"]  # the report itself is kept
    assert not {"sensor", "platform", "received_at"} & set(kept), sorted(kept)
    assert DAY.match(kept["received_on"]), kept["received_on"]
    assert "office-proxy" not in json.dumps(kept) and "facebook" not in json.dumps(kept)
    assert DAY.match(entry["at"]), entry["at"]  # no time in the audit entry
    assert "office-proxy" not in entry["actor"] + entry["detail"]
    assert reference in entry["detail"]


# --- a tampered backup, and a users table edited behind the audit log --------------------------


def make_users(data: Path, config: Path) -> None:
    common = ["--data-dir", str(data), "--config", str(config)]
    ok("user", "add", "head", "--role", "headteacher", *common)
    ok("user", "add", "it-admin", "--role", "admin", *common)


def promote_in_sqlite(db_file: Path, name: str) -> None:
    """What someone with a copy of the database does: the admin becomes an approved headteacher."""
    db = sqlite3.connect(db_file)
    try:
        db.execute(
            "UPDATE users SET role = 'headteacher', approved_by = 'cli', granted_by = 'cli' "
            "WHERE name = ?",
            (name,),
        )
        db.commit()
    finally:
        db.close()


def tamper(backup: Path, out: Path, work: Path) -> None:
    """Unpack the backup, promote the admin, swap the session key, fix up the manifest's digests
    (the attacker can compute SHA-256 too), and pack it again."""
    work.mkdir()
    with tarfile.open(backup) as archive:
        archive.extractall(work, filter="data")
    promote_in_sqlite(work / "service" / "clausewarden.db", "it-admin")
    (work / "service" / "session.key").write_bytes(os.urandom(32).hex().encode())
    manifest = json.loads((work / "MANIFEST.json").read_text())
    if "service/session.key" not in manifest["files"]:
        manifest["files"].append("service/session.key")
    manifest["sha256"] = {
        name: hashlib.sha256((work / name).read_bytes()).hexdigest() for name in manifest["files"]
    }
    (work / "MANIFEST.json").write_text(json.dumps(manifest, indent=2))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for path in sorted(p for p in work.rglob("*") if p.is_file()):
            archive.add(path, arcname=str(path.relative_to(work)))
    out.write_bytes(gzip.compress(raw.getvalue()))


def test_restore_refuses_a_backup_whose_users_and_session_key_were_changed(tmp_path):
    config = config_folder(tmp_path)
    env = {"CLAUSEWARDEN_CONFIG": str(config)}  # where the backup key lives
    data = tmp_path / "data"
    make_users(data, config)
    backup, forged = tmp_path / "cw.tar.gz", tmp_path / "forged.tar.gz"
    ok("backup", "--data-dir", str(data), "-o", str(backup), env=env)
    with tarfile.open(backup) as archive:
        assert not any("backup.key" in n for n in archive.getnames())  # the key is outside it
    tamper(backup, forged, tmp_path / "unpacked")

    restored = tmp_path / "restored"
    out = clausewarden("restore", str(forged), "--data-dir", str(restored), env=env)
    assert out.returncode == 2, out.stdout
    assert out.stderr.count("\n") == 1 and "does not match its signature" in out.stderr
    assert not (restored / "clausewarden.db").exists()  # nothing was restored

    # the untouched backup restores, and its users and audit chain verify
    ok("restore", str(backup), "--data-dir", str(restored), env=env)
    assert "intact" in ok("audit", "verify", "--data-dir", str(restored), "--config", str(config))


def test_a_restore_without_the_backup_key_says_where_to_put_it(tmp_path):
    config = config_folder(tmp_path)
    data = tmp_path / "data"
    make_users(data, config)
    backup = tmp_path / "cw.tar.gz"
    ok(
        "backup",
        "--data-dir",
        str(data),
        "-o",
        str(backup),
        env={"CLAUSEWARDEN_CONFIG": str(config)},
    )
    assert oct((config / "backup.key").stat().st_mode & 0o777) == "0o600"
    elsewhere = config_folder(tmp_path / "new-machine")
    out = clausewarden(
        "restore", str(backup), "--data-dir", str(tmp_path / "restored"),
        env={"CLAUSEWARDEN_CONFIG": str(elsewhere)},
    )  # fmt: skip
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert f"no backup key at {elsewhere / 'backup.key'}" in out.stderr
    shutil.copy2(config / "backup.key", elsewhere / "backup.key")  # the copy kept apart
    ok("restore", str(backup), "--data-dir", str(tmp_path / "restored"),
       env={"CLAUSEWARDEN_CONFIG": str(elsewhere)})  # fmt: skip


def test_audit_verify_reports_a_users_table_edited_outside_clausewarden(tmp_path):
    config = config_folder(tmp_path)
    data = tmp_path / "data"
    make_users(data, config)
    common = ("--data-dir", str(data), "--config", str(config))
    assert clausewarden("audit", "verify", *common).returncode == 0
    promote_in_sqlite(data / "clausewarden.db", "it-admin")
    out = clausewarden("audit", "verify", *common)
    assert out.returncode == 1 and "tampered" in out.stdout
    assert "user 'it-admin'" in out.stdout and "changed outside ClauseWarden" in out.stdout


def test_audit_verify_reports_an_api_token_added_in_the_database(tmp_path):
    config = config_folder(tmp_path)
    data = tmp_path / "data"
    make_users(data, config)
    db = sqlite3.connect(data / "clausewarden.db")
    try:  # a token for the headteacher's reporting access, its hash one the intruder knows
        db.execute(
            "INSERT INTO api_tokens (name, user_name, role, token_hash, created_at) "
            "VALUES ('siem', 'head', 'headteacher', ?, '2026-12-07T09:00:00Z')",
            (hashlib.sha256(b"cwa_known").hexdigest(),),
        )
        db.commit()
    finally:
        db.close()
    out = clausewarden("audit", "verify", "--data-dir", str(data), "--config", str(config))
    assert out.returncode == 1 and "API token 1 (head)" in out.stdout


def test_a_user_changed_through_clausewarden_still_verifies(tmp_path):
    config = config_folder(tmp_path)
    data = tmp_path / "data"
    make_users(data, config)
    common = ("--data-dir", str(data), "--config", str(config))
    ok("user", "set", "it-admin", "--role", "viewer", *common)
    ok("user", "set", "it-admin", "--disable", *common)
    assert "intact" in ok("audit", "verify", *common)


def test_the_proxy_ca_key_is_in_a_backup_only_when_asked_for(tmp_path):
    config = config_folder(tmp_path)
    env = {"CLAUSEWARDEN_CONFIG": str(config)}
    data = tmp_path / "data"
    make_users(data, config)
    confdir = tmp_path / "mitmproxy"
    confdir.mkdir()
    (confdir / "mitmproxy-ca.pem").write_text("-----BEGIN PRIVATE KEY-----\nsecret\n")
    (confdir / "mitmproxy-ca-cert.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    plain, with_ca = tmp_path / "plain.tar.gz", tmp_path / "with-ca.tar.gz"
    ok("backup", "--data-dir", str(data), "--confdir", str(confdir), "-o", str(plain), env=env)
    with tarfile.open(plain) as archive:
        assert not any(n.startswith("ca/") for n in archive.getnames()), archive.getnames()
    out = ok(
        "backup", "--data-dir", str(data), "--confdir", str(confdir), "--include-ca-key",
        "-o", str(with_ca), env=env,
    )  # fmt: skip
    assert "ca/mitmproxy-ca.pem" in out
    with tarfile.open(with_ca) as archive:
        assert "ca/mitmproxy-ca.pem" in archive.getnames()


# --- an accounts.yaml entry approved without the headteacher -------------------------------------

ACCOUNTS_YAML = """\
accounts:
  - id: wycliffe-x
    platform: x
    account_id: "2000001"
    label: Wycliffe on X
    approved_by: Miss Newman
    approved_on: 2026-09-01
    expires_on: 2099-08-31
    actions: [browse, post]
"""


def test_a_new_accounts_yaml_entry_waits_for_the_headteacher(tmp_path):
    config = config_folder(tmp_path, "accounts: []\n")
    data = tmp_path / "data"
    ok("user", "add", "head", "--role", "headteacher", "--data-dir", str(data), "--config",
       str(config))  # fmt: skip
    token = sensor_token(data, config)
    with serving(data, config) as base:
        assert api(base, "/api/v1/bundle", token)["accounts"] == []

    # whoever can edit the configuration folder adds an account, and the service restarts
    (config / "accounts.yaml").write_text(ACCOUNTS_YAML)
    with serving(data, config) as base:
        assert api(base, "/api/v1/bundle", token)["accounts"] == []  # not approved by the file
        head = AdminSession(base, "head", PASSWORD)
        pending = head.get("/accounts").split('id="approved"', 1)[0]
        assert "wycliffe-x" in pending and "from accounts.yaml" in pending
        head.approve_school_account("wycliffe-x")
        [account] = api(base, "/api/v1/bundle", token)["accounts"]
        assert account["id"] == "wycliffe-x" and account["approved_by"] == "head"
        assert account["expires_on"] == "2099-08-31"  # the entry's own expiry

    # an approved account stays approved across restarts while its entry is unchanged
    with serving(data, config) as base:
        assert [a["id"] for a in api(base, "/api/v1/bundle", token)["accounts"]] == ["wycliffe-x"]

    # a changed entry (here: another account id) waits for the headteacher again
    (config / "accounts.yaml").write_text(ACCOUNTS_YAML.replace("2000001", "6660666"))
    with serving(data, config) as base:
        assert api(base, "/api/v1/bundle", token)["accounts"] == []
