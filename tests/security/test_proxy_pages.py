"""Attacks on the proxy by web pages and bad input, against a real `clausewarden proxy` (mitmdump)
and a real Chromium through it: a social site's script reading what this device recorded today, a
gzip bomb posted to a social host, and the proxy's log after a client refuses its CA."""

import re
import socket
import ssl
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, chromium_args, have_chromium
from tests.support.net import stop
from tests.support.proxy import Proxy, start_proxy

SELF_VIEW = "What this device has recorded today"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, upstream) -> Iterator[Proxy]:
    running = start_proxy(tmp_path_factory.mktemp("proxy-pages"), upstream.port, None)
    yield running
    stop(running.process)


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1))  # type: ignore[union-attr]


# --- a script on a social site --------------------------------------------------------------


@pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
def test_a_script_on_a_social_site_cannot_read_what_this_device_recorded_today(proxy):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_args(),
            proxy={"server": f"http://127.0.0.1:{proxy.port}"},
        )
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        # The member of staff is warned (an event is recorded), continues, and the site loads.
        page.goto("https://www.facebook.com/")
        page.get_by_label("A teaching resource for a lesson").check()  # no reason is preselected
        page.get_by_role("button", name="This is school business — continue").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="UPSTREAM PAGE").is_visible()
        # The site's own script now tries to read the day's warnings, every way it can.
        read = page.evaluate(
            """async () => {
                const out = [];
                for (const url of ['/.clausewarden/mine', 'https://clausewarden.internal/mine',
                                   'http://clausewarden.internal/mine']) {
                    try { out.push(await (await fetch(url, {credentials: 'include'})).text()); }
                    catch (e) { out.push('refused: ' + e); }
                }
                const w = window.open('/.clausewarden/mine');
                await new Promise((resolve) => setTimeout(resolve, 1500));
                try { out.push(w.document.documentElement.outerHTML); }
                catch (e) { out.push('refused: ' + e); }
                return out;
            }"""
        )
        for text in read:
            assert SELF_VIEW not in text and "<td>facebook</td>" not in text, text[:300]
        # The member of staff still reaches the page from the warning page's link.
        staff = context.new_page()
        staff.goto("https://www.instagram.com/")
        staff.get_by_role("link", name=SELF_VIEW).click()
        staff.wait_for_load_state()
        assert staff.url.startswith("https://clausewarden.internal/")
        assert staff.get_by_role("heading", name=SELF_VIEW).is_visible()
        assert "Facebook" in staff.content()  # the platform by its name, as staff read it
        context.close()
        browser.close()


def test_a_social_sites_request_for_the_self_view_is_sent_away_from_its_origin(proxy):
    status, headers, body = proxy.get(
        "https", "www.facebook.com", "/.clausewarden/mine", {"Sec-Fetch-Mode": "cors"}
    )
    assert SELF_VIEW.encode() not in body
    assert status == 303 and headers["location"] == "https://clausewarden.internal/mine"


def test_the_proxys_own_host_answers_a_script_nothing(proxy):
    cors = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Sec-Fetch-Site": "cross-site"}
    status, headers, body = proxy.get("http", "clausewarden.internal", "/mine", cors)
    assert status == 403 and SELF_VIEW.encode() not in body
    assert "access-control-allow-origin" not in headers


def test_continue_posted_by_a_script_is_refused(proxy):
    from tests.support.proxy import ticket_of

    _, _, warning = proxy.get("https", "www.linkedin.com", "/feed/")
    form = f"ticket={ticket_of(warning)}&return_to=/&reason=teaching-resource".encode()
    script = {
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Dest": "empty",
        "Sec-Fetch-Site": "same-origin",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, headers, _ = proxy.get(
        "https", "www.linkedin.com", "/.clausewarden/continue", script, "POST", form
    )
    assert status == 403 and "set-cookie" not in headers


# --- a gzip bomb ----------------------------------------------------------------------------


def gzip_bomb(expanded: int) -> bytes:
    """`expanded` bytes of zeros, gzip-compressed (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk) for _ in range(expanded >> 20)]
    return b"".join(parts) + packer.flush()


def test_a_gzip_bomb_posted_to_a_social_host_is_not_decompressed_beyond_the_look(proxy):
    expanded = 800 << 20  # 800 MiB once decompressed; under 1 MB on the wire
    bomb = gzip_bomb(expanded)
    assert len(bomb) < 1_000_000
    before = peak_rss_kb(proxy.process.pid)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Encoding": "gzip",
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Dest": "empty",
    }
    status, _, _ = proxy.get("https", "www.facebook.com", "/api/graphql/", headers, "POST", bomb)
    assert status in (200, 403)  # decided and answered: the proxy is alive
    grown_mb = (peak_rss_kb(proxy.process.pid) - before) / 1024
    assert grown_mb < 200, f"mitmdump's peak memory grew by {grown_mb:.0f} MB"
    assert proxy.process.poll() is None


# --- the log --------------------------------------------------------------------------------


def test_the_log_names_no_client_address_or_host_after_a_client_refuses_the_ca(tmp_path, upstream):
    running = start_proxy(tmp_path, upstream.port, None)
    try:
        sock = socket.create_connection(("127.0.0.1", running.port), timeout=10)
        client_port = sock.getsockname()[1]
        sock.sendall(b"CONNECT www.facebook.com:443 HTTP/1.1\r\nHost: www.facebook.com:443\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context()  # trusts the system's CAs, not the proxy's
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(sock, server_hostname="www.facebook.com").do_handshake()
        sock.close()
        # The proxy is still serving (so it has handled the refusal) before it is stopped.
        assert running.get("http", "www.bbc.co.uk", "/")[0] == 200
    finally:
        stop(running.process)
    log = (tmp_path / "proxy.log").read_text(errors="replace")
    assert f"127.0.0.1:{client_port}" not in log
    assert "facebook" not in log
    assert not re.search(r"\[127\.0\.0\.1:\d+\]", log), log
