"""`clausewarden backup` and `restore`: a backup taken while a real `clausewarden serve` runs,
restored into an empty folder, serves the same events and users, with the same keys (the audit
chain verifies) and the proxy's CA; every file 0600."""

import http.cookiejar
import json
import sqlite3
import stat
import tarfile
import urllib.request
from datetime import UTC, datetime

from tests.support.deploy import cli
from tests.support.events import an_event
from tests.support.forms import csrf_from
from tests.support.proxy import start_proxy
from tests.support.service import start_service

PASSWORD = "a-long-password"
ENV = {"CLAUSEWARDEN_PASSWORD": PASSWORD}


def post_events(port: int, token: str, count: int) -> list[str]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    now = now.replace(minute=now.minute - now.minute % 15)
    events = [
        an_event(sensor="office", time=now.strftime("%Y-%m-%dT%H:%M:%SZ")).to_json()
        for _ in range(count)
    ]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/events",
        data=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http://127.0.0.1
        assert response.status == 202 and json.load(response)["stored"] == count
    return sorted(e["id"] for e in events)


def stored_ids(data_dir) -> list[str]:  # type: ignore[no-untyped-def]
    db = sqlite3.connect(data_dir / "clausewarden.db")
    try:
        return sorted(row[0] for row in db.execute("SELECT id FROM events"))
    finally:
        db.close()


def logs_in(port: int, name: str) -> bool:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/login", timeout=10).read().decode()
    form = urllib.parse.urlencode(
        {"name": name, "password": PASSWORD, "csrf_token": csrf_from(page)}
    ).encode()
    with opener.open(f"{base}/login", data=form, timeout=10) as response:
        return response.url.rstrip("/") == base and b"Log out" in response.read()


def test_a_backup_of_a_running_service_restores_into_an_empty_folder(tmp_path):
    data = tmp_path / "data"
    cli("user", "add", "head", "--role", "headteacher", "--data-dir", str(data), env=ENV)
    token = cli("sensor", "add", "office", "--data-dir", str(data)).stdout.strip().splitlines()[-1]
    proxy = start_proxy(tmp_path / "proxy")  # makes the CA
    proxy.stop()
    confdir = proxy.folder / "mitmproxy"
    service = start_service(data)
    try:
        ids = post_events(service.port, token, 5)
        backup = tmp_path / "backups" / "cw.tar.gz"
        out = cli(
            "backup", "--data-dir", str(data), "--confdir", str(confdir), "--include-ca-key",
            "--key", str(tmp_path / "backup.key"), "-o", str(backup),
        )  # fmt: skip
        assert "service/clausewarden.db" in out.stdout and "ca/mitmproxy-ca.pem" in out.stdout
    finally:
        service.stop()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with tarfile.open(backup) as archive:
        names = set(archive.getnames())
    assert {"service/session.key", "service/audit.key", "ca/mitmproxy-ca-cert.pem"} <= names
    assert not any("allowance" in n or "salt" in n for n in names)

    restored, new_confdir = tmp_path / "restored", tmp_path / "restored-mitmproxy"
    cli(
        "restore", str(backup), "--data-dir", str(restored), "--confdir", str(new_confdir),
        "--key", str(tmp_path / "backup.key"),
    )  # fmt: skip
    for path in [*restored.iterdir(), *new_confdir.iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(restored.stat().st_mode) == 0o700
    assert stored_ids(restored) == ids
    for name in ("session.key", "audit.key"):
        assert (restored / name).read_bytes() == (data / name).read_bytes()
    assert (new_confdir / "mitmproxy-ca.pem").read_bytes() == (
        confdir / "mitmproxy-ca.pem"
    ).read_bytes()
    assert cli("audit", "verify", "--data-dir", str(restored)).returncode == 0
    assert "head" in cli("user", "list", "--data-dir", str(restored)).stdout

    again = start_service(restored)
    try:
        assert logs_in(again.port, "head")
        assert stored_ids(restored) == ids  # the service started on it and kept every event
        post_events(again.port, token, 1)  # the sensor's token still works
    finally:
        again.stop()


def test_restore_refuses_a_folder_that_is_not_empty_in_one_line(tmp_path):
    data = tmp_path / "data"
    cli("sensor", "add", "office", "--data-dir", str(data))
    backup = tmp_path / "cw.tar.gz"
    key = ("--key", str(tmp_path / "backup.key"))
    cli("backup", "--data-dir", str(data), "-o", str(backup), *key)
    out = cli("restore", str(backup), "--data-dir", str(data), *key, check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "restore into an empty folder" in out.stderr


def test_backup_of_postgresql_says_how_to_use_pg_dump(tmp_path):
    out = cli(
        "backup", "--data-dir", str(tmp_path), "-o", str(tmp_path / "b.tar.gz"),
        "--database", "postgresql+asyncpg://cw:secret@db/cw", "--key", str(tmp_path / "k"),
    )  # fmt: skip
    assert "pg_dump --format=custom" in out.stdout and "'postgresql://cw@db/cw'" in out.stdout
    assert "secret" not in out.stdout + out.stderr


def test_serve_says_it_runs_the_migrations_and_which_upgrade_it_made(tmp_path):
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from service import db

    data = tmp_path / "data"
    cli("sensor", "add", "office", "--data-dir", str(data))
    engine = create_engine(f"sqlite:///{data / 'clausewarden.db'}")
    with engine.begin() as conn:
        head = MigrationContext.configure(conn).get_current_revision()
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(db.Path(db.__file__).parent / "migrations"))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")  # as if the data were from the version before
        older = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    service = start_service(data)
    service.stop()
    assert f"database upgraded from schema revision {older} to {head}" in service.output()
    again = start_service(data)
    again.stop()
    assert f"database schema up to date (revision {head}" in again.output()
