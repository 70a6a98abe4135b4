"""Staff's own devices and visitors (groups with decrypt_https: false) are tunnelled, never
decrypted: a CONNECT to a platform's page host is recorded as one anonymous `seen` event per
device, platform and 15 minutes, reaching the real service; a CDN or widget host is not; and the
tunnel's bytes pass untouched (the client verifies the far end's own certificate).

Real mitmdump, real service, a real TLS server standing in for www.facebook.com; each device is a
loopback source address of its own (127.0.0.2 and 127.0.0.4 visitors, 127.0.0.3 staff Wi-Fi)."""

import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.captive import groups_config
from tests.support.certs import make_certs
from tests.support.proxy import TIMEOUT, Proxy, wait_shipped
from tests.support.service import Service
from tests.support.tell import proxy_with_service
from tests.support.upstream import BODY, Upstream

VISITOR, OTHER_VISITOR, OWN_PHONE = "127.0.0.2", "127.0.0.4", "127.0.0.3"


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Proxy, Service, Path, Upstream]]:
    folder = tmp_path_factory.mktemp("tunnelled")
    certs = make_certs(folder / "far-end", host="www.facebook.com")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert, certs.key)
    far_end = Upstream(context)  # every tunnel reaches it (map_tunnels), never the internet
    plain = Upstream()
    config = groups_config(
        folder / "config",
        visitors=[f"{VISITOR}/32", f"{OTHER_VISITOR}/32"],
        staff_wifi=[f"{OWN_PHONE}/32"],
    )
    (folder / "run").mkdir()
    try:
        with proxy_with_service(
            folder / "run", plain.port, config, [f"map_tunnels=127.0.0.1:{far_end.port}"]
        ) as (proxy, service):
            yield proxy, service, certs.ca, far_end
    finally:
        far_end.close()
        plain.close()


def through_tunnel(proxy: Proxy, source: str, host: str, ca: Path, sni: bool = True) -> bytes:
    """CONNECT from `source` to host:443, then TLS with the far end itself (verified against its
    own CA, SNI `host` unless `sni` is false) and one request: the answer's body."""
    sock = socket.create_connection(("127.0.0.1", proxy.port), TIMEOUT, (source, 0))
    with sock:
        sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head
        context = ssl.create_default_context(cafile=str(ca))
        context.check_hostname = False  # the far end's certificate names www.facebook.com only
        with context.wrap_socket(sock, server_hostname=host if sni else None) as tls:
            tls.sendall(f"GET /private/path?q=1 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    return answer.partition(b"\r\n\r\n")[2]


def seen_events(service: Service) -> list[dict[str, object]]:
    return [e for e in service.events() if e["action"] == "seen"]


def test_tunnelled_devices_are_seen_once_per_platform_and_period_and_never_decrypted(
    setup: tuple[Proxy, Service, Path, Upstream],
) -> None:
    proxy, service, ca, _ = setup
    for _ in range(3):  # a page opens many connections: one record
        assert through_tunnel(proxy, VISITOR, "www.facebook.com", ca) == BODY
    assert through_tunnel(proxy, VISITOR, "static.xx.fbcdn.net", ca) == BODY  # CDN
    assert through_tunnel(proxy, VISITOR, "connect.facebook.net", ca) == BODY  # widget SDK
    assert through_tunnel(proxy, VISITOR, "m.facebook.com", ca) == BODY  # same platform
    assert through_tunnel(proxy, OTHER_VISITOR, "www.facebook.com", ca) == BODY
    assert through_tunnel(proxy, OWN_PHONE, "www.linkedin.com", ca) == BODY
    # A client that sends no SNI: the CONNECT's name is all there is, and it is enough.
    assert through_tunnel(proxy, OTHER_VISITOR, "www.reddit.com", ca, sni=False) == BODY
    wait_shipped(proxy, 4)
    events = seen_events(service)
    assert sorted((e["platform"], e["device_group"], e["rule"]) for e in events) == [
        ("facebook", "visitors", "visitor-seen"),
        ("facebook", "visitors", "visitor-seen"),
        ("linkedin", "staff-wifi", "own-device-seen"),
        ("reddit", "visitors", "visitor-seen"),
    ]
    by_platform = {e["platform"]: e for e in events}
    assert json.loads(str(by_platform["facebook"]["clauses"])) == ["3.2", "7"]
    assert json.loads(str(by_platform["linkedin"]["clauses"])) == ["4.2", "7"]
    assert {e["outcome"] for e in events} == {"log"}
    assert {e["account"] for e in events} == {"unknown"}
    facebook_devices = {e["device"] for e in events if e["platform"] == "facebook"}
    assert len(facebook_devices) == 2 and None not in facebook_devices  # two devices, two events
    text = repr(service.events()) + proxy.output()
    assert "/private/path" not in text and VISITOR not in text


def test_the_tunnelled_request_reached_the_far_end_as_the_client_sent_it(
    setup: tuple[Proxy, Service, Path, Upstream],
) -> None:
    proxy, _, ca, far_end = setup
    assert through_tunnel(proxy, OWN_PHONE, "www.instagram.com", ca) == BODY
    # Not decrypted: the far end's own certificate was verified, and it read the bytes sent.
    assert (
        far_end.requests[-1] == b"GET /private/path?q=1 HTTP/1.1\r\nHost: www.instagram.com\r\n\r\n"
    )
