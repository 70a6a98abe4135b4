"""Attacks with the browser's prefetch and prerender (`Sec-Purpose`) against a real
`clausewarden proxy` (mitmdump): a prerendered social media page shown later without a new
request would skip the warning, so it is declined; a prefetch is never warned nor recorded."""

import http.client
from collections.abc import Iterator

import pytest

from tests.support.net import stop
from tests.support.proxy import Proxy, outbox_events, start_proxy
from tests.support.upstream import Upstream

PRERENDER = {
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Site": "none",
    "Sec-Purpose": "prefetch;prerender",
    "Accept": "text/html",
}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proxy, Upstream]]:
    """One proxy for the module: no test here makes it record anything (each checks so)."""
    upstream = Upstream()
    proxy = start_proxy(tmp_path_factory.mktemp("prefetch"), upstream.port, None)
    yield proxy, upstream
    stop(proxy.process)
    upstream.close()


def ask(proxy: Proxy, host: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", f"http://{host}{path}", headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def test_a_prerendered_facebook_page_is_declined_so_opening_it_is_warned(running) -> None:
    proxy, upstream = running
    status, body = ask(proxy, "www.facebook.com", "/", PRERENDER)
    assert status == 503 and body == b""
    assert not any(b"www.facebook.com" in r for r in upstream.requests)
    assert outbox_events(proxy) == []  # no warning shown, so none recorded


def test_a_prefetch_of_a_page_opened_without_a_warning_passes_and_records_nothing(
    running,
) -> None:
    proxy, upstream = running
    status, _ = ask(proxy, "www.linkedin.com", "/learning/", PRERENDER)
    assert status == 200
    assert any(b"/learning/" in r for r in upstream.requests)
    assert outbox_events(proxy) == []
