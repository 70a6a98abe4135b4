"""The systemd units under deploy/systemd/: systemd accepts them, they confine the processes as
docs/deploy.md promises, and their ExecStart lines start a working service and proxy as written
(paths and ports moved to a temporary folder, the checkout's `clausewarden` in place of
/opt/clausewarden's)."""

import http.client
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.net import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
SERVICE, PROXY = "clausewarden-service.service", "clausewarden-proxy.service"
CLAUSEWARDEN = Path(sys.executable).with_name("clausewarden")
NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}


def directives(unit: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit (continuation lines joined), every value of each key."""
    text = re.sub(r"\\\n\s*", " ", (UNITS / unit).read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def one(unit: str, key: str) -> str:
    [value] = directives(unit)[key]
    return value


def with_checkout_binary(unit: str, folder: Path) -> Path:
    """The unit with the checkout's clausewarden (systemd-analyze checks ExecStart exists)."""
    text = (UNITS / unit).read_text(encoding="utf-8")
    assert "/opt/clausewarden/bin/clausewarden" in text
    target = folder / unit
    target.write_text(text.replace("/opt/clausewarden/bin/clausewarden", str(CLAUSEWARDEN)))
    return target


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_both_units_without_a_warning(tmp_path):
    units = [str(with_checkout_binary(unit, tmp_path)) for unit in (SERVICE, PROXY)]
    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    # And the check is real: a misspelt directive is reported.
    bad = tmp_path / "bad.service"
    bad.write_text(Path(units[0]).read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    result = subprocess.run(["systemd-analyze", "verify", str(bad)], capture_output=True, text=True)
    assert "Unknown key" in result.stderr


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="no systemd-sysusers here")
def test_the_two_users_are_made_by_systemd_sysusers():
    result = subprocess.run(
        ["systemd-sysusers", "--dry-run", str(UNITS / "clausewarden.sysusers.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for user in ("clausewarden", "clausewarden-proxy"):
        if f"Creating user '{user}'" not in result.stdout + result.stderr:  # made already?
            assert f"{user}:" in Path("/etc/passwd").read_text()


@pytest.mark.parametrize(
    ("unit", "user", "state"),
    [
        (SERVICE, "clausewarden", "clausewarden"),
        (PROXY, "clausewarden-proxy", "clausewarden-proxy"),
    ],
)
def test_each_runs_as_its_own_user_confined_to_its_data_folder(unit, user, state):
    assert one(unit, "User") == user and one(unit, "Group") == user
    assert one(unit, "ProtectSystem") == "strict"
    assert one(unit, "ReadWritePaths") == f"/var/lib/{state}"  # the data folder, nothing else
    assert one(unit, "StateDirectory") == state and one(unit, "StateDirectoryMode") == "0700"
    assert one(unit, "NoNewPrivileges") == "yes"
    assert one(unit, "Restart") == "on-failure"
    assert one(unit, "ProtectHome") == "yes" and one(unit, "PrivateTmp") == "yes"
    assert one(unit, "CapabilityBoundingSet") == ""  # no capability at all
    assert one(unit, "UMask") == "0077"
    command = shlex.split(one(unit, "ExecStart"))
    assert command[command.index("--data-dir") + 1] == f"/var/lib/{state}"
    assert command[command.index("--config") + 1] == "/etc/clausewarden"


def test_the_service_listens_on_loopback_behind_nginx_and_the_proxy_on_the_school_network():
    service = shlex.split(one(SERVICE, "ExecStart"))
    assert service[service.index("--host") + 1] == "127.0.0.1"
    assert service[service.index("--trust-proxy") + 1] == "127.0.0.1"
    proxy = shlex.split(one(PROXY, "ExecStart"))
    assert proxy[proxy.index("--listen-host") + 1] == "0.0.0.0"  # noqa: S104 - the school network
    # The token is a credential of the proxy's unit only, and crosses no network.
    assert one(PROXY, "LoadCredential") == "sensor-token:/etc/clausewarden/proxy.token"
    assert proxy[proxy.index("--sensor-token-file") + 1] == "%d/sensor-token"
    assert proxy[proxy.index("--service-url") + 1].startswith("http://127.0.0.1:")


def as_written(unit: str, tmp: Path, ports: dict[str, int]) -> list[str]:
    """The unit's ExecStart with its paths and ports moved into `tmp`."""
    command = one(unit, "ExecStart")
    for old, new in {
        "/opt/clausewarden/bin/clausewarden": str(CLAUSEWARDEN),
        "/etc/clausewarden": str(tmp / "etc"),
        "/var/lib/": f"{tmp}/var-lib/",
        "%d/": f"{tmp}/credentials/",
        "0.0.0.0": "127.0.0.1",  # noqa: S104
        "127.0.0.1:8000": f"127.0.0.1:{ports['service']}",
        "--port 8000": f"--port {ports['service']}",
        "--listen-port 8080": f"--listen-port {ports['proxy']}",
    }.items():
        command = command.replace(old, new)
    return shlex.split(command)


def test_the_units_commands_start_a_service_and_a_proxy_that_warns(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "etc")
    ports = {"service": free_port(), "proxy": free_port()}
    service_command = as_written(SERVICE, tmp_path, ports)
    data = service_command[service_command.index("--data-dir") + 1]
    added = subprocess.run(
        [str(CLAUSEWARDEN), "sensor", "add", "proxy", "--data-dir", data],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    (tmp_path / "credentials").mkdir()
    (tmp_path / "credentials" / "sensor-token").write_text(added.stdout.strip().splitlines()[-1])
    service = subprocess.Popen(service_command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    proxy = None
    try:
        wait_for_port(ports["service"], service, timeout=60)
        proxy_command = as_written(PROXY, tmp_path, ports)
        proxy = subprocess.Popen(proxy_command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for_port(ports["proxy"], proxy, timeout=60)
        conn = http.client.HTTPConnection("127.0.0.1", ports["proxy"], timeout=30)
        conn.request("GET", "http://www.facebook.com/", headers=NAVIGATE)
        response = conn.getresponse()
        assert response.status == 200 and b"clause" in response.read().lower()
        conn.close()
    finally:
        if proxy is not None:
            stop(proxy)
        stop(service)
    assert service.stdout is not None
    first = service.stdout.readline().decode()
    assert first.startswith(f"Configuration: {tmp_path / 'etc'} (--config); data folder: {data}")
