"""`clausewarden backup` and `restore`: a backup taken while a real `clausewarden serve` runs,
restored into an empty folder, serves the same events and users, with the same keys (the audit
chain verifies) and the proxy's CA; every file 0600."""

import http.cookiejar
import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import tarfile
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from policy.configdir import DEFAULT_CONFIG_DIR
from service.crx import read_package
from tests.support.crx import signed_package
from tests.support.deploy import ROOT, cli
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


def school_config(folder):  # type: ignore[no-untyped-def]
    """A school's /etc/clausewarden: its YAML files, TLS files, a service.env, the proxy's token
    and the backup key."""
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    (folder / "schedule.yaml").write_text(
        (folder / "schedule.yaml").read_text() + "\n# St Aidan's closures\n"
    )
    (folder / "tls").mkdir(mode=0o755)
    (folder / "tls" / "fullchain.pem").write_text("-----BEGIN CERTIFICATE-----\nschool\n")
    (folder / "tls" / "privkey.pem").write_text("-----BEGIN PRIVATE KEY-----\nschool\n")
    (folder / "tls" / "privkey.pem").chmod(0o600)
    (folder / "service.env").write_text("CLAUSEWARDEN_SMTP_HOST=mail.school.lan\n")
    (folder / "service.env").chmod(0o600)
    (folder / "proxy.token").write_text("cws_" + "T" * 43 + "\n")
    return folder


def test_a_backup_holds_the_configuration_tls_files_and_extension_package(tmp_path):
    """What a school cannot make again is all in it; after a restore on a new machine the
    service answers /extension/updates.xml with the school's package at once."""
    config, data = school_config(tmp_path / "etc"), tmp_path / "data"
    cli("sensor", "add", "office", "--data-dir", str(data), "--config", str(config))
    crx = signed_package(tmp_path)
    (data / "extension").mkdir()
    shutil.copy(crx, data / "extension" / "clausewarden.crx")
    backup = tmp_path / "cw.tar.gz"
    out = cli("backup", "--data-dir", str(data), "--config", str(config), "-o", str(backup))
    assert "service/extension/clausewarden.crx" in out.stdout and "config/ (" in out.stdout
    with tarfile.open(backup) as archive:
        names = set(archive.getnames())
    assert {"config/schedule.yaml", "config/settings.yaml", "config/tls/fullchain.pem",
            "config/tls/privkey.pem", "config/service.env",
            "service/extension/clausewarden.crx"} <= names  # fmt: skip
    assert "config/backup.key" not in names and "config/proxy.token" not in names

    # A new machine: only the backup key put back in its configuration folder (as documented).
    new_config, new_data = tmp_path / "new-etc", tmp_path / "new-data"
    new_config.mkdir()
    shutil.copy(config / "backup.key", new_config / "backup.key")
    (new_config / "backup.key").chmod(0o600)
    restored = cli("restore", str(backup), "--data-dir", str(new_data), "--config", str(new_config))
    assert "files of" in restored.stdout, restored.stdout
    for name in ("schedule.yaml", "tls/fullchain.pem", "tls/privkey.pem", "service.env"):
        assert (new_config / name).read_bytes() == (config / name).read_bytes(), name
        mode = stat.S_IMODE((new_config / name).stat().st_mode)
        assert mode == stat.S_IMODE((config / name).stat().st_mode), name
    assert stat.S_IMODE((new_config / "tls" / "privkey.pem").stat().st_mode) == 0o600
    assert not (new_config / "proxy.token").exists()
    assert cli("config", "validate", str(new_config)).returncode == 0
    service = start_service(new_data, config=new_config)
    try:
        with urllib.request.urlopen(  # noqa: S310 - http://127.0.0.1
            f"{service.url}/extension/updates.xml", timeout=10
        ) as response:
            assert response.status == 200
            assert read_package(crx.read_bytes()).extension_id in response.read().decode()
    finally:
        service.stop()


def test_restore_stops_before_writing_when_a_configuration_file_differs(tmp_path):
    config, data = school_config(tmp_path / "etc"), tmp_path / "data"
    cli("sensor", "add", "office", "--data-dir", str(data), "--config", str(config))
    backup = tmp_path / "cw.tar.gz"
    cli("backup", "--data-dir", str(data), "--config", str(config), "-o", str(backup))
    (config / "schedule.yaml").write_text("time_zone: Europe/London\n")  # changed since
    out = cli(
        "restore", str(backup), "--data-dir", str(tmp_path / "new"), "--config", str(config),
        check=False,
    )  # fmt: skip
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert f"{config / 'schedule.yaml'} exists" in out.stderr
    assert not (tmp_path / "new").exists()


CRON_FILE = ROOT / "deploy" / "cron" / "clausewarden-backup"


def cron_commands(text: str) -> list[str]:
    """The commands of an /etc/cron.d file's entries (after 5 time fields and the user), with
    cron's own reading of %: `\\%` is a %."""
    commands = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]:
            commands.append(line.split(None, 6)[6].replace("\\%", "%"))
    return commands


def test_the_documented_cron_line_backs_up_under_crons_path(tmp_path):
    config, data = school_config(tmp_path / "etc"), tmp_path / "data"
    cli("sensor", "add", "office", "--data-dir", str(data), "--config", str(config))
    backups = tmp_path / "backups"
    installed = Path(sys.executable).parent / "clausewarden"  # the venv's, as /opt/clausewarden's
    assert installed.exists()
    entries = CRON_FILE.read_text()
    backup_line, prune_line = cron_commands(entries)
    for entry in entries.splitlines():  # the docs show the file's lines as they are
        if entry.startswith("15 2"):
            assert entry in (ROOT / "docs" / "operating.md").read_text()
    for documented, here in (
        ("/opt/clausewarden/bin/clausewarden", str(installed)),
        ("/var/lib/clausewarden", str(data)),
        ("/etc/clausewarden", str(config)),
        ("/var/backups/clausewarden", str(backups)),
    ):
        assert documented in backup_line
        backup_line = backup_line.replace(documented, here)
    cron_env = ["env", "-i", "PATH=/usr/bin:/bin", "sh", "-c"]
    ran = subprocess.run([*cron_env, backup_line], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and ran.stdout == "", ran.stderr
    [made] = backups.iterdir()
    assert made.name.startswith("cw-20") and made.name.endswith(".tar.gz")
    with tarfile.open(made) as archive:
        assert "service/clausewarden.db" in archive.getnames()
    pruned = subprocess.run(
        [*cron_env, prune_line.replace("/var/backups/clausewarden", str(backups))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert pruned.returncode == 0 and made.exists()  # a backup of today is kept
    # The line an admin would write from habit fails there: cron's PATH has no clausewarden.
    bare = subprocess.run(
        [*cron_env, backup_line.replace(str(installed), "clausewarden")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bare.returncode == 127 and "not found" in bare.stderr
