"""End to end: a real `clausewarden proxy` (mitmdump) process and a real HTTP client through it,
over HTTP and HTTPS; social hosts reach a local upstream through a test-only mapping addon."""

import http.client
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from proxy_addon import allowance
from tests.support.proxy import (
    NAVIGATE,
    Proxy,
    accounts_config,
    outbox_events,
    start_proxy,
    ticket_of,
)
from tests.support.upstream import BODY, Upstream, response_bytes, tls_context_for_localhost


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, upstream) -> Iterator[Proxy]:
    tmp = tmp_path_factory.mktemp("proxy")
    running = start_proxy(tmp, upstream.port, accounts_config(tmp / "config"))
    yield running
    running.stop()


SCHEMES = pytest.mark.parametrize("scheme", ["http", "https"])


@SCHEMES
def test_facebook_navigation_is_answered_with_the_warning_and_never_goes_upstream(
    proxy, upstream, scheme
):
    before = len(upstream.requests)
    status, headers, page = proxy.get(scheme, "www.facebook.com", "/some/page?x=1")
    assert status == 200 and b"Clause 7" in page and b"school business" in page
    assert headers["content-type"].startswith("text/html")
    assert len(upstream.requests) == before


@SCHEMES
def test_continue_sets_an_allowance_and_the_page_then_loads(proxy, upstream, scheme):
    host = "www.instagram.com"
    _, _, page = proxy.get(scheme, host, "/")
    form = urlencode(
        {"ticket": ticket_of(page), "return_to": "/explore/", "reason": "teaching-resource"}
    )
    status, headers, _ = proxy.get(
        scheme,
        host,
        "/.clausewarden/continue",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "POST",
        form.encode(),
    )
    assert status == 303 and headers["location"] == "/explore/"
    cookie = headers["set-cookie"].split(";", 1)[0]
    status, _, body = proxy.get(scheme, host, "/explore/", {**NAVIGATE, "Cookie": cookie})
    assert status == 200 and body == BODY
    assert allowance.COOKIE.encode() not in upstream.requests[-1]
    assert b"Host: www.instagram.com" in upstream.requests[-1]


@SCHEMES
def test_forged_and_expired_allowances_are_refused(proxy, scheme):
    secret = bytes.fromhex((proxy.data / "allowance.key").read_text())
    tag = allowance.device_tag(secret, "127.0.0.1")
    expired = allowance.sign(secret, "allow", "facebook", tag, int(time.time()) - 3600 * 24 * 400)
    forged = allowance.sign(b"not the key" * 3, "allow", "facebook", tag, 4_000_000_000)
    for token in (expired, forged):
        status, _, page = proxy.get(
            scheme, "www.facebook.com", "/", {**NAVIGATE, "Cookie": f"{allowance.COOKIE}={token}"}
        )
        assert status == 200 and b"Before you continue" in page


@SCHEMES
def test_blocked_platform_gets_the_page_without_continue(proxy, scheme):
    status, _, page = proxy.get(scheme, "www.tiktok.com", "/@someone")
    assert status == 403 and b"not available here" in page and b"school business" not in page


@SCHEMES
def test_school_account_is_allowed_and_an_expired_one_is_warned(proxy, upstream, scheme):
    status, _, body = proxy.get(
        scheme, "www.facebook.com", "/", {**NAVIGATE, "Cookie": "c_user=1000123"}
    )
    assert status == 200 and body == BODY
    status, _, page = proxy.get(
        scheme, "www.facebook.com", "/", {**NAVIGATE, "Cookie": "c_user=1000999"}
    )
    assert b"Register this as a school account" in page


@SCHEMES
def test_embedded_widget_is_passed_through(proxy, scheme):
    headers = {
        "Sec-Fetch-Mode": "no-cors",
        "Sec-Fetch-Dest": "script",
        "Sec-Fetch-Site": "cross-site",
    }
    status, _, body = proxy.get(scheme, "connect.facebook.net", "/en_GB/sdk.js", headers)
    assert status == 200 and body == BODY


def test_non_social_http_request_passes_byte_for_byte(proxy, upstream):
    # (Optional whitespace around a header value is not part of it, RFC 9110 5.5, and mitmproxy
    # trims it whatever the addon does; everything else must arrive exactly as sent.)
    sent_headers = {
        "X-Odd-Header": "Mixed\tCase  value",
        "Cookie": "a=1; b=2",
        "Accept": "text/html",
    }
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.putrequest(
        "POST",
        f"http://127.0.0.1:{upstream.port}/path?q=1",
        skip_host=True,
        skip_accept_encoding=True,
    )
    conn.putheader("Host", f"127.0.0.1:{upstream.port}")
    for name, value in sent_headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", "5")
    conn.endheaders(b"hello")
    response = conn.getresponse()
    raw_headers = response.getheaders()
    body = response.read()
    conn.close()
    expected = (
        f"POST /path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:{upstream.port}\r\n"
        "X-Odd-Header: Mixed\tCase  value\r\nCookie: a=1; b=2\r\nAccept: text/html\r\n"
        "Content-Length: 5\r\n\r\nhello"
    ).encode()
    assert upstream.requests[-1] == expected
    assert body == BODY
    sent_back = response_bytes(BODY).split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
    assert [f"{k}: {v}".encode() for k, v in raw_headers] == sent_back


def test_non_social_https_is_tunnelled_not_decrypted(proxy, tmp_path):
    context, ca = tls_context_for_localhost(tmp_path)
    server = Upstream(context)
    try:
        conn = proxy.connect("https", f"localhost:{server.port}", trust=ca)
        conn.putrequest("GET", "/secret?q=1", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"localhost:{server.port}")
        conn.putheader("X-Odd-Header", "Mixed\tCase  value")
        conn.putheader("Cookie", "a=1; b=2")
        conn.endheaders()
        response = conn.getresponse()
        # Verified against the upstream's own CA: the proxy did not decrypt this connection.
        assert response.status == 200 and response.read() == BODY
        assert (
            server.requests[-1]
            == (
                f"GET /secret?q=1 HTTP/1.1\r\nHost: localhost:{server.port}\r\n"
                "X-Odd-Header: Mixed\tCase  value\r\nCookie: a=1; b=2\r\n\r\n"
            ).encode()
        )
    finally:
        server.close()


def test_events_are_in_the_outbox_without_path_or_address(proxy):
    proxy.get("http", "www.facebook.com", "/private/path?who=me")
    events = outbox_events(proxy)
    assert events and all(e["sensor"] == "proxy" for e in events)
    text = json.dumps(events)
    assert "/private/path" not in text and "who=me" not in text and "127.0.0.1" not in text
    assert {"warn", "block", "allow"} <= {e["outcome"] for e in events}


def test_proxy_is_still_alive_and_its_log_names_no_page(proxy):
    assert proxy.process.poll() is None
    log = (proxy.data.parent / "proxy.log").read_text()
    assert "/private/path" not in log and "/some/page" not in log


def test_proxy_refuses_to_start_on_a_bad_option_naming_it(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "clausewarden", "proxy", "--listen-port", "0",
         "--config", str(tmp_path / "missing"), "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode != 0
    assert (
        f"clausewarden_config: '{tmp_path / 'missing'}' is not a folder" in out.stdout + out.stderr
    )


def test_a_broken_config_on_reload_keeps_the_last_good_policy_and_says_why(tmp_path, upstream):
    from policy.configdir import DEFAULT_CONFIG_DIR
    from tests.support.net import stop

    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    running = start_proxy(tmp_path, upstream.port, config, extra=["clausewarden_refresh=0.2"])
    try:
        assert b"Clause 7" in running.get("http", "www.facebook.com")[2]
        (config / "rules.yaml").write_text("rules:\n  - id: [broken\n", encoding="utf-8")
        log = tmp_path / "proxy.log"
        deadline = time.monotonic() + 20
        while "keeping the last good policy" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "keeping the last good policy" in log.read_text()
        assert "rules.yaml" in log.read_text()
        assert b"Clause 7" in running.get("http", "www.facebook.com")[2]
        assert running.process.poll() is None
    finally:
        stop(running.process)
