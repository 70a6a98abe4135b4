"""Attacks on the way ClauseWarden's parts talk over the school network: a session cookie issued
over TLS caught on plain http, forged X-Forwarded-* headers, one person's login flood locking out
everyone behind the reverse proxy, and a sensor token sent in clear to a plain-http service that
someone on the network can read.

Real processes: `clausewarden serve`, Debian's nginx with the shipped site file, mitmdump through
`clausewarden proxy`, the extension in Chromium. The eavesdropper is a plain HTTP listener that
records what reaches it (its port is "the network"): with the defences, the token and the cookie
never arrive there; with the school's explicit permission, the token does (so the test can see).
Another machine's address is this machine's own non-loopback address (a sensor must treat it
exactly as a remote one)."""

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service import user_store
from service.app import create_app
from service.config import Config
from service.keys import ENGINE
from tests.support.browser import CHROMIUM, chromium_args, have_chromium
from tests.support.net import free_port, stop
from tests.support.nginx_site import HOST, PASSWORD, need_nginx, running_site

ROOT = Path(__file__).resolve().parents[2]

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TOKEN = "cws_" + "e" * 43


class Eavesdropper:
    """Records the headers of every request that reaches it; answers "ok"."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        seen: list[dict[str, str]] = []
        self.seen = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                seen.append({k.lower(): v for k, v in self.headers.items()} | {":path": self.path})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.host, self.port = host, self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tokens(self) -> list[str]:
        return [s["authorization"] for s in self.seen if "authorization" in s]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def other_machine_address() -> str:
    """This machine's own address on its network (not loopback), or skip."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
            address = probe.getsockname()[0]
    except OSError:
        address = ""
    if not address or address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address to stand in for another one")
    return address


# --- the service: cookies over TLS, forwarded headers --------------------------------------------


@need_nginx
@pytest.mark.skipif(not have_chromium(), reason=f"no Chromium at {CHROMIUM}")
def test_a_session_cookie_issued_over_tls_is_never_sent_to_plain_http_on_the_same_host(tmp_path):
    """Cookies ignore ports: without Secure, the admin's session cookie from
    https://HOST/ goes to any http://HOST:PORT/ a page links to, readable on the network."""
    from playwright.sync_api import sync_playwright

    listener = Eavesdropper()
    try:
        with running_site(tmp_path) as site, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=chromium_args(f"--host-resolver-rules=MAP {HOST} 127.0.0.1"),
            )
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            page.goto(f"{site.url}/login")
            page.get_by_label("Name").fill("alice")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{site.url}/")
            page.goto(f"http://{HOST}:{listener.port}/bait")
            wait_for(lambda: listener.seen, "the plain-http request")
            browser.close()
        assert "clausewarden_session" not in listener.seen[0].get("cookie", "")
    finally:
        listener.close()


async def _cli(aiohttp_client: Any, tmp_path: Path, trusted: tuple[str, ...]) -> Any:
    config = Config(
        data_dir=tmp_path / "data",
        clock=lambda: NOW,
        background_tasks=False,
        trusted_proxies=trusted,
    )
    cli = await aiohttp_client(create_app(config))
    async with cli.server.app[ENGINE].begin() as conn:
        await user_store.add_user(conn, "alice", "admin", PASSWORD, actor="test", now=NOW)
    return cli


async def _login(
    cli: Any, password: str, headers: dict[str, str], source: str | None = None
) -> int:
    import re

    import aiohttp

    connector = aiohttp.TCPConnector(local_addr=(source, 0)) if source else None
    jar = aiohttp.CookieJar(unsafe=True)  # keep the service's cookies for an IP address
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        url = cli.make_url("/login")
        page = await (await session.get(url, headers=headers)).text()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf, page[:300]
        data = {"name": "alice", "password": password, "csrf_token": csrf.group(1), "next": "/"}
        response = await session.post(url, data=data, headers=headers, allow_redirects=False)
        return response.status


async def test_a_forged_x_forwarded_for_from_an_untrusted_client_does_not_escape_the_login_limiter(
    aiohttp_client, tmp_path
):
    cli = await _cli(aiohttp_client, tmp_path, trusted=("127.0.0.1",))
    statuses = [
        await _login(cli, "wrong-guess", {"X-Forwarded-For": f"10.9.0.{i}"}, source="127.0.0.2")
        for i in range(7)
    ]
    # A name from one address is blocked after 5 failures: a new forged address each time
    # changes nothing, since 127.0.0.2 is no trusted proxy.
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


async def test_behind_the_reverse_proxy_one_persons_login_flood_does_not_lock_out_everyone(
    aiohttp_client, tmp_path
):
    cli = await _cli(aiohttp_client, tmp_path, trusted=("127.0.0.1",))
    flooder = {"X-Forwarded-For": "10.1.2.3"}
    statuses = [await _login(cli, "wrong-guess", flooder) for _ in range(7)]
    assert statuses[-1] == 429  # the flooder is blocked ...
    colleague = {"X-Forwarded-For": "10.1.2.99"}
    assert await _login(cli, PASSWORD, colleague) == 303  # ... not everyone behind nginx


# --- the sensors: no token in clear to another machine -------------------------------------------


def _start_proxy(tmp_path: Path, service_url: str, *extra: str) -> subprocess.Popen[str]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    command = [sys.executable, "-m", "clausewarden", "proxy", "--listen-port", str(free_port())]
    command += ["--service-url", service_url, "--sensor-token-file", str(token_file)]
    command += ["--data-dir", str(tmp_path / "proxy-data"), "--confdir", str(tmp_path / "mitm")]
    return subprocess.Popen(
        [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_the_proxy_never_sends_its_token_to_a_plain_http_service_on_another_machine(tmp_path):
    listener = Eavesdropper(other_machine_address())
    url = f"http://{listener.host}:{listener.port}"
    process = _start_proxy(tmp_path, url)
    try:
        wait_for(lambda: process.poll() is not None or listener.seen, "the proxy to start or stop")
        assert listener.tokens() == []
        assert process.wait(30) == 1
        assert process.stdout is not None
        lines = process.stdout.read().strip().splitlines()
        assert len(lines) == 1 and "plain http to another machine" in lines[0], lines
        assert "--allow-plain-http" in lines[0] and "https://" in lines[0]
    finally:
        stop(process)
        listener.close()


def test_the_proxy_addon_itself_refuses_a_plain_http_service_on_another_machine(tmp_path):
    """For a school that runs mitmdump with the addon directly, not through `clausewarden`."""
    listener = Eavesdropper(other_machine_address())
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    mitmdump = Path(sys.executable).with_name("mitmdump")
    process = subprocess.Popen(
        [str(mitmdump), "--listen-port", str(free_port()), "-s", str(ROOT / "proxy_addon/addon.py")]
        + ["--set", f"clausewarden_service=http://{listener.host}:{listener.port}"]
        + ["--set", f"clausewarden_token_file={token_file}"]
        + ["--set", f"clausewarden_data_dir={tmp_path / 'data'}", "--set", f"confdir={tmp_path}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: process.poll() is not None or listener.seen, "mitmdump to start or stop")
        assert listener.tokens() == []
        assert process.wait(30) != 0
        assert process.stdout is not None
        assert "clausewarden_allow_plain_http=true" in process.stdout.read()
    finally:
        stop(process)
        listener.close()


def test_with_the_schools_explicit_permission_the_proxy_does_send_it(tmp_path):
    listener = Eavesdropper(other_machine_address())
    url = f"http://{listener.host}:{listener.port}"
    process = _start_proxy(tmp_path, url, "--allow-plain-http")
    try:
        wait_for(listener.tokens, "the bundle request")
        assert listener.tokens()[0] == f"Bearer {TOKEN}"
    finally:
        stop(process)
        listener.close()


@pytest.fixture(scope="module")
def extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import zipfile

    folder = tmp_path_factory.mktemp("transport-extension")
    archive = folder / "extension.zip"
    subprocess.run(
        ["node", str(ROOT / "extension/build.mjs"), "--zip", "--out", str(archive)], check=True
    )
    with zipfile.ZipFile(archive) as z:
        z.extractall(folder / "unpacked")
    return folder / "unpacked"


@contextmanager
def _extension_with(
    extension: Path, profile: Path, settings: dict[str, Any]
) -> Iterator[tuple[Eavesdropper, Callable[[], str]]]:
    from playwright.sync_api import sync_playwright

    listener = Eavesdropper()
    host = "clausewarden.school.test"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=False,
            args=chromium_args(
                "--headless=new",
                f"--disable-extensions-except={extension}",
                f"--load-extension={extension}",
                f"--host-resolver-rules=MAP {host} 127.0.0.1",
            ),
        )
        try:
            worker = (
                context.service_workers[0]
                if context.service_workers
                else (context.wait_for_event("serviceworker", timeout=15_000))
            )
            override = {
                "service_url": f"http://{host}:{listener.port}",
                "sensor_token": TOKEN,
                "sensor_name": "laptop",
                **settings,
            }
            worker.evaluate("o => chrome.storage.local.set({'test.managed_override': o})", override)
            options = context.new_page()
            options.goto(worker.url.rsplit("/", 2)[0] + "/options.html")

            def settings_line() -> str:
                options.reload()
                cell = options.locator('dd[data-field="Settings"]')
                cell.wait_for(timeout=15_000)  # the page fills itself in from the worker
                return cell.inner_text()

            yield listener, settings_line
        finally:
            context.close()
            listener.close()


@pytest.mark.skipif(not have_chromium(), reason=f"no Chromium at {CHROMIUM}")
def test_the_extension_never_sends_its_token_to_a_plain_http_service_on_another_machine(
    extension, tmp_path
):
    with _extension_with(extension, tmp_path / "profile", {}) as (listener, settings_line):
        line = wait_for(
            lambda: listener.seen or "plain http" in settings_line() and settings_line(),
            "the extension to ask the service or to refuse",
        )
        assert listener.tokens() == []
        assert "is plain http to another machine" in str(line) and "allow_plain_http" in str(line)


@pytest.mark.skipif(not have_chromium(), reason=f"no Chromium at {CHROMIUM}")
def test_with_allow_plain_http_the_extension_does_send_it(extension, tmp_path):
    settings = {"allow_plain_http": True}
    with _extension_with(extension, tmp_path / "profile", settings) as (listener, _):
        wait_for(listener.tokens, "the bundle request")
        assert listener.tokens()[0] == f"Bearer {TOKEN}"
