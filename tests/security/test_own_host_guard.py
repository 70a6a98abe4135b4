"""A client on the school network cannot use the proxy to reach the proxy host's loopback
services (the service on 127.0.0.1 believes the forwarded headers of a reverse proxy there)."""

import socket
from collections.abc import Iterator

import pytest

from tests.support.net import own_network_address
from tests.support.proxy import Proxy, start_proxy
from tests.support.upstream import Upstream


def _ask(proxy_port: int, source: str, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy_port), source_address=(source, 0)) as s:
        s.settimeout(10)
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


@pytest.fixture(scope="module")
def guard_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proxy, Upstream]]:
    """One proxy for the module. Its upstream is also the loopback service the tests aim at, so
    whatever the proxy let through, by either path, reaches that one server."""
    upstream = Upstream()
    proxy = start_proxy(tmp_path_factory.mktemp("own-host-guard"), upstream.port, None)
    try:
        yield proxy, upstream
    finally:
        proxy.stop()
        upstream.close()


@pytest.fixture
def proxied(guard_proxy: tuple[Proxy, Upstream]) -> tuple[Proxy, Upstream]:
    proxy, upstream = guard_proxy
    upstream.requests.clear()  # what reached it from now on is this test's
    return proxy, upstream


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_a_client_on_the_network_cannot_reach_the_proxy_hosts_loopback_services(proxied, host):
    proxy, upstream = proxied
    source = own_network_address()
    if source is None:
        pytest.skip("this machine has no network address besides loopback")
    target = f"{host}:{upstream.port}"
    plain = _ask(
        proxy.port, source, f"GET http://{target}/admin HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
    )
    assert plain.startswith(b"HTTP/1.1 403"), plain[:200]
    tunnel = _ask(
        proxy.port, source, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
    )
    assert tunnel.startswith(b"HTTP/1.1 403"), tunnel[:200]
    assert upstream.requests == []


def test_a_client_on_the_proxy_host_itself_still_passes(proxied):
    proxy, upstream = proxied
    target = f"127.0.0.1:{upstream.port}"
    answer = _ask(
        proxy.port,
        "127.0.0.1",
        f"GET http://{target}/x HTTP/1.1\r\nHost: {target}\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
