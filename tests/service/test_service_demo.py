"""`clausewarden demo`: the service and a real proxy (mitmdump) together; a navigation through
the proxy becomes an event that the admin sees on the dashboard; Ctrl-C stops both."""

import http.client
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

from policy.configdir import load_policy
from tests.support.net import free_port, wait_for_port


def recent_working_time() -> str:
    policy = load_policy(None)
    at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for _ in range(24 * 60):
        if policy.working_time(at):
            return at.isoformat()
        at -= timedelta(hours=1)
    raise AssertionError("no working time in the last 60 days")


def _seen_by_admin(url: str, password: str) -> tuple[str, str]:
    """(dashboard HTML, event log HTML) as the admin sees them."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{url}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    form = urllib.parse.urlencode(
        {"name": "admin", "password": password, "csrf_token": token, "next": "/"}
    ).encode()
    opener.open(f"{url}/login", data=form, timeout=10).read()
    log = opener.open(f"{url}/events?platform=facebook", timeout=10).read().decode()
    dashboard = opener.open(f"{url}/", timeout=10).read().decode()
    return dashboard, log


def test_demo_runs_service_and_proxy_and_proxy_events_reach_the_dashboard(tmp_path):
    port, proxy_port = free_port(), free_port()
    password = "demo-password-123"
    env = {**os.environ, "CLAUSEWARDEN_ADMIN_PASSWORD": password}
    command = [sys.executable, "-m", "clausewarden", "demo", "--port", str(port)]
    command += ["--proxy-port", str(proxy_port), "--data-dir", str(tmp_path / "data")]
    command += ["--confdir", str(tmp_path / "mitmproxy")]
    for option in (
        f"clausewarden_now={recent_working_time()}",
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
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=30)
    text = output.decode()
    assert f"Proxy:      127.0.0.1:{proxy_port}" in text
    assert str(tmp_path / "mitmproxy" / "mitmproxy-ca-cert.pem") in text
    assert f"Admin:      {url}/" in text
    assert "Stopping." in text
    assert demo.returncode == 0
