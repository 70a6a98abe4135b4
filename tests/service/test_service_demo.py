"""`clausewarden demo`: the service and a real proxy (mitmdump) together; a navigation through
the proxy becomes an event that the admin sees on the dashboard; Ctrl-C stops both."""

import http.client
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from tests.support.net import free_port, wait_for_port


def _logged_in(url: str, name: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{url}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    form = urllib.parse.urlencode(
        {"name": name, "password": password, "csrf_token": token, "next": "/"}
    ).encode()
    opener.open(f"{url}/login", data=form, timeout=10).read()
    return opener


def _seen_by_admin(url: str, password: str) -> tuple[str, str]:
    """(dashboard HTML, event log HTML) as the admin sees them."""
    opener = _logged_in(url, "admin", password)
    log = opener.open(f"{url}/events?platform=facebook", timeout=10).read().decode()
    dashboard = opener.open(f"{url}/", timeout=10).read().decode()
    return dashboard, log


AT = "2027-01-13T10:00:00+00:00"
"""A Wednesday morning of the spring term, weeks after the real clock of the tests' machine: a
demo --at there works only if the service takes the same time as the proxy."""


def test_demo_runs_service_and_proxy_and_proxy_events_reach_the_dashboard(tmp_path):
    port, proxy_port = free_port(), free_port()
    password, head_password = "demo-password-123", "head-password-456"
    env = {
        **os.environ,
        "CLAUSEWARDEN_ADMIN_PASSWORD": password,
        "CLAUSEWARDEN_HEADTEACHER_PASSWORD": head_password,
    }
    command = [sys.executable, "-m", "clausewarden", "demo", "--port", str(port)]
    command += ["--proxy-port", str(proxy_port), "--data-dir", str(tmp_path / "data")]
    command += ["--confdir", str(tmp_path / "mitmproxy"), "--at", AT]
    for option in (
        "clausewarden_ship_delay=0.2",
        "clausewarden_ship_max_delay=0.5",
    ):
        command += ["--proxy-set", option]
    demo = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, demo, timeout=60)
        wait_for_port(proxy_port, demo, timeout=60)
        token_file = tmp_path / "data" / "demo-proxy.token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=10)
        conn.request(
            "GET",
            "http://www.facebook.com/",
            headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
        )
        page = conn.getresponse().read().decode()
        assert "Clause" in page or "clause" in page
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            dashboard, log = _seen_by_admin(url, password)
            if ">facebook</td><td>hidden<" in dashboard:
                break
            time.sleep(0.5)
        # one device is fewer than k=3: the admin's dashboard shows no count for it, and the
        # event log neither the event nor the sensor
        assert ">facebook</td><td>hidden<" in dashboard
        assert "<td>facebook</td>" not in log and "demo-proxy" not in log
        # the headteacher the demo made can log in and sees the Users page's approvals
        users = _logged_in(url, "headteacher", head_password).open(f"{url}/users", timeout=10)
        assert users.status == 200 and "<h1>Users</h1>" in users.read().decode()
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=30)
    text = output.decode()
    assert f"Proxy:      127.0.0.1:{proxy_port}" in text
    assert str(tmp_path / "mitmproxy" / "mitmproxy-ca-cert.pem") in text
    assert f"Admin:      {url}/" in text
    assert "Stopping." in text
    assert "Headteacher: headteacher / from CLAUSEWARDEN_HEADTEACHER_PASSWORD" in text
    assert f"Time:       {AT}" in text
    assert demo.returncode == 0
    db = sqlite3.connect(tmp_path / "data" / "clausewarden.db")
    assert db.execute("SELECT time FROM events WHERE platform = 'facebook'").fetchall() == [
        ("2027-01-13T10:00:00Z",)
    ]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_second_demo_is_one_line_and_sigterm_or_sighup_stop_service_and_proxy(tmp_path, signum):
    port, proxy_port = free_port(), free_port()
    command = [sys.executable, "-m", "clausewarden", "demo", "--port", str(port)]
    command += ["--proxy-port", str(proxy_port), "--data-dir", str(tmp_path / "data")]
    command += ["--confdir", str(tmp_path / "mitmproxy")]
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, demo, timeout=60)
        wait_for_port(proxy_port, demo, timeout=60)
        second = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        [line] = second.stderr.strip().splitlines()
        assert line.startswith(f"clausewarden demo: a demo is already running from {tmp_path}")
        assert f"(process {demo.pid})" in line and "--mode" not in line
        elsewhere = subprocess.run(
            [*command[:-4], "--data-dir", str(tmp_path / "other")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        [line] = elsewhere.stderr.strip().splitlines()
        assert f"127.0.0.1:{port} is already in use" in line and "--port" in line
    finally:
        demo.send_signal(signum)
        output, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0, output.decode()
    assert f"Stopping ({signal.Signals(signum).name})." in output.decode()
    assert not _port_open(port) and not _port_open(proxy_port)
