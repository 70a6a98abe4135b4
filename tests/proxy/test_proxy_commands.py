"""`clausewarden ca`, `pac` and `outbox export`, run as a school's IT admin would."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from clausewarden.cli import main
from policy.event import Event
from proxy_addon.outbox import Outbox
from tests.support.proxy import start_proxy


class Ran:
    def __init__(self, stdout: str, stderr: str) -> None:
        self.stdout, self.stderr = stdout, stderr


@pytest.fixture
def run(capsys):
    """Run a `clausewarden` command in this process; its exit code must be 0."""

    def run(*args: str) -> Ran:
        capsys.readouterr()
        assert main(list(args)) == 0
        out = capsys.readouterr()
        return Ran(out.out, out.err)

    return run


def test_ca_says_where_the_certificate_is_and_how_to_deploy_it(run, tmp_path):
    out = run("ca", "--confdir", str(tmp_path)).stdout
    assert str(tmp_path / "mitmproxy-ca-cert.pem") in out
    for where in ("Group Policy", "configuration profile", "Admin console", "Firefox"):
        assert where in out
    assert "not created yet" in out


PAC_CHECK = """
const fs = require("fs");
eval(fs.readFileSync(process.argv[2], "utf8"));
const hosts = JSON.parse(process.argv[3]);
console.log(JSON.stringify(hosts.map((h) => FindProxyForURL("https://" + h + "/", h))));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the PAC file")
def test_pac_sends_social_media_to_the_proxy_and_everything_else_direct(run, tmp_path):
    pac = tmp_path / "proxy.pac"
    run("pac", "--proxy", "proxy.school.lan:3128", "-o", str(pac))
    hosts = ["www.facebook.com", "WWW.Instagram.com", "www.bbc.co.uk", "notfacebook.com"]
    script = tmp_path / "check.js"
    script.write_text(PAC_CHECK)
    out = subprocess.run(
        ["node", str(script), str(pac), json.dumps(hosts)], capture_output=True, text=True
    )
    assert json.loads(out.stdout) == [
        "PROXY proxy.school.lan:3128",
        "PROXY proxy.school.lan:3128",
        "DIRECT",
        "DIRECT",
    ]


def test_pac_all_sends_every_site_to_the_proxy(run):
    out = run("pac", "--all", "--proxy", "10.0.0.2:8080").stdout
    assert '"PROXY 10.0.0.2:8080"' in out and "FindProxyForURL" in out


def event(i: int) -> Event:
    return Event(
        id=uuid.uuid4().hex,
        time="2026-11-25T10:00:00Z",
        sensor="proxy",
        device=None,
        platform="facebook",
        category="social_network",
        action="message",
        outcome="warn",
        clauses=("7", "6.2"),
        may_apply=("11.4.3", "8.1"),
        rule="social-working-time",
        working_time=True,
        device_group="staff-devices",
        account="unknown",
        school_account=None,
        policy_version="v1",
    )


def test_outbox_export_prints_events_and_the_count_it_could_not_keep(run, tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.sqlite3", max_pending=2)
    for i in range(3):
        outbox.add(event(i), "2026-11-25", "tag")
    outbox.close()
    jsonl = run("outbox", "export", "--data-dir", str(tmp_path))
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(rows) == 2 and rows[0]["clauses"] == ["7", "6.2"]
    assert rows[0]["may_apply"] == ["11.4.3", "8.1"]
    assert "1 could not be kept" in jsonl.stderr
    csv_out = run("outbox", "export", "--format", "csv", "--data-dir", str(tmp_path)).stdout
    header, first = csv_out.splitlines()[:2]
    assert header.startswith("id,time,sensor,device,platform") and ",7 6.2," in first
    assert header.endswith(",held,may_apply,outbox_state") and ",11.4.3 8.1," in first


def test_proxy_command_runs_mitmdump_with_the_addon_and_lets_set_replace_its_defaults():
    import argparse

    from clausewarden.commands import proxy

    parser = argparse.ArgumentParser()
    proxy.register(parser.add_subparsers())
    args = parser.parse_args(
        ["proxy", "--listen-port", "3128", "--config", "/etc/cw", "--set", "flow_detail=2",
         "--set", "allow_hosts=extra", "--sensor-name", "office"]
    )  # fmt: skip
    command = proxy.mitmdump_command(args)
    assert command[command.index("-s") + 1].endswith("proxy_addon/addon.py")
    sets = [command[i + 1] for i, part in enumerate(command) if part == "--set"]
    assert "connection_strategy=lazy" in sets and "clausewarden_config=/etc/cw" in sets
    assert "flow_detail=2" in sets and "flow_detail=0" not in sets
    assert "clausewarden_sensor=office" in sets and "allow_hosts=extra" in sets
    assert "tcp_timeout=120" in sets  # a hung upstream is let go (docs/service.md)


def test_the_outbox_is_private_to_the_proxys_user_when_run_by_hand(tmp_path: Path) -> None:
    # By hand (no systemd UMask=0077), a shell's umask 022 would make it readable by all.
    before = os.umask(0o022)
    try:
        proxy = start_proxy(tmp_path)
    finally:
        os.umask(before)
    try:
        status, _, _ = proxy.get("http", "www.facebook.com", "/")
        assert status == 200
    finally:
        proxy.stop()
    files = sorted(proxy.data.glob("outbox.sqlite3*"))
    assert files, "no outbox was written"
    assert {f.name: f.stat().st_mode & 0o777 for f in files} == {f.name: 0o600 for f in files}
