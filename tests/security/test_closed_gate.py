"""The proxy is a closed gate (issue 16, section 2), against a real `clausewarden proxy` (mitmdump).

A client on the school network is played by a connection from this machine's network address
(not loopback, so the proxy does not take it for its own host); a server that is NOT on the
proxy's host sits in a network namespace behind a veth pair. Each spelling of loopback, the
unspecified address, link-local (cloud metadata) and the host's own network address is refused
where the proxy connects, for a request and a CONNECT tunnel; a client in no device group gets
a 403 page saying why and is counted (never its address) for `clausewarden doctor`; behind a
front on the host, only the front's X-Forwarded-For names the client; the service on loopback
cannot be reached through the proxy, and the proxy's own calls to the service carry no
forwarded header a client sent.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.net import own_network_address, stop
from tests.support.proxy import Proxy, start_proxy
from tests.support.service import start_service
from tests.support.upstream import Upstream

COUNTING_SERVER = Path(__file__).with_name("counting_server.py")
NO_MAPPING = "map_upstream="  # the test addon's mapping off: the proxy connects where asked
SOURCE = own_network_address()
need_network_address = pytest.mark.skipif(
    SOURCE is None, reason="this machine has no network address besides loopback"
)
pytestmark = need_network_address


def config_with_client(tmp: Path, networks: str) -> Path:
    """config/ with `networks` (YAML list items) added to the staff devices group."""
    folder = tmp / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    groups = folder / "device_groups.yaml"
    text = groups.read_text(encoding="utf-8")
    assert "networks: [127.0.0.0/8," in text
    groups.write_text(
        text.replace("networks: [127.0.0.0/8,", f"networks: [{networks}, 127.0.0.0/8,")
    )
    return folder


def plain(proxy: Proxy, target: str, source: str | None = None, headers: str = "") -> bytes:
    request = f"GET http://{target}/admin HTTP/1.1\r\nHost: {target}\r\n{headers}\r\n"
    return _answer(proxy.port, source or str(SOURCE), request.encode())


def _answer(port: int, source: str, request: bytes) -> bytes:
    """The whole answer (the connection is closed after it)."""
    with socket.create_connection(("127.0.0.1", port), source_address=(source, 0)) as s:
        s.settimeout(15)
        s.sendall(request.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
        return data


def tunnel(proxy: Proxy, target: str, source: str | None = None) -> bytes:
    """CONNECT, then a request inside the tunnel: everything the client got back."""
    with socket.create_connection(
        ("127.0.0.1", proxy.port), source_address=(source or str(SOURCE), 0)
    ) as s:
        s.settimeout(15)
        s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
        if not data.startswith(b"HTTP/1.1 200"):
            return data
        try:
            s.sendall(b"GET /inside HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            while chunk := s.recv(65536):
                data += chunk
        except (TimeoutError, ConnectionResetError, BrokenPipeError):
            pass
        return data


def loopback_name() -> str | None:
    """A name (not "localhost") that /etc/hosts or DNS maps to loopback here."""
    for name in (socket.gethostname(), "ip6-localhost"):
        try:
            found = {i[4][0] for i in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
        except OSError:
            continue
        if found and all(a.startswith("127.") for a in found) and name != "localhost":
            return name
    return None


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    server = Upstream()  # on 127.0.0.1: the proxy host's loopback service
    yield server
    server.close()


@pytest.fixture(scope="module")
def gate(tmp_path_factory, upstream) -> Iterator[Proxy]:
    """A proxy whose staff group holds this machine's network address (the network client)."""
    tmp = tmp_path_factory.mktemp("gate")
    proxy = start_proxy(
        tmp, upstream.port, config_with_client(tmp, f"{SOURCE}/32"), extra=[NO_MAPPING]
    )
    yield proxy
    stop(proxy.process)


@pytest.fixture(autouse=True)
def fresh(upstream):
    upstream.requests.clear()


LOOPBACK_FORMS = ["127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0"]


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_no_spelling_of_loopback_reaches_the_proxy_hosts_services(gate, upstream, form):
    answer = plain(gate, f"{form}:{upstream.port}")
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert b"refused" in answer and b"UPSTREAM PAGE" not in answer, answer[:600]
    assert upstream.requests == []


def test_a_name_mapped_to_loopback_reaches_nothing_either(gate, upstream):
    name = loopback_name()
    if name is None:
        pytest.skip("no name other than localhost maps to loopback on this machine")
    answer = plain(gate, f"{name}:{upstream.port}")
    assert b"refused" in answer and b"UPSTREAM PAGE" not in answer, answer[:600]
    inside = tunnel(gate, f"{name}:{upstream.port}")
    assert b"UPSTREAM PAGE" not in inside, inside[:600]
    assert upstream.requests == []


@pytest.mark.parametrize("form", ["127.1", "0x7f000001", "0"])
def test_a_connect_tunnel_to_loopback_is_never_opened(gate, upstream, form):
    inside = tunnel(gate, f"{form}:{upstream.port}")
    assert b"UPSTREAM PAGE" not in inside, inside[:600]
    assert upstream.requests == []


def test_the_hosts_own_network_address_and_link_local_metadata_are_refused(gate):
    listener = socket.socket()
    listener.bind((str(SOURCE), 0))  # a service of the proxy's host on its network address
    listener.listen(8)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    try:
        answer = plain(gate, f"{SOURCE}:{port}")
        assert b"refused" in answer and b"own host" in answer, answer[:600]
        inside = tunnel(gate, f"{SOURCE}:{port}")
        assert b"HTTP/1.1 200 OK\r\nContent" not in inside
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever connected to it
    finally:
        listener.close()
    metadata = plain(gate, "169.254.169.254:80")
    assert b"refused" in metadata and b"cloud metadata" in metadata, metadata[:600]
    link_local = plain(gate, "169.254.1.1:80")
    assert b"refused" in link_local and b"link-local" in link_local, link_local[:600]


def test_the_proxy_host_itself_still_reaches_its_own_services(gate, upstream):
    answer = plain(gate, f"127.1:{upstream.port}", source="127.0.0.1")
    assert answer.startswith(b"HTTP/1.1 200") and b"UPSTREAM PAGE" in answer, answer[:300]


# --- a server on another machine (a network namespace), reached as before -----------------------


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[tuple[str, int]]:
    """An HTTP server at 10.231.<n>.2 in its own network namespace: not the proxy's host."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
    n = os.getpid() % 250
    ns, host_end, ns_end = f"cwgate{n}", f"cwgh{n}", f"cwgn{n}"
    there = f"10.231.{n}.2"
    steps = [
        ["ip", "netns", "add", ns],
        ["ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end],
        ["ip", "link", "set", ns_end, "netns", ns],
        ["ip", "addr", "add", f"10.231.{n}.1/30", "dev", host_end],
        ["ip", "link", "set", host_end, "up"],
        ["ip", "netns", "exec", ns, "ip", "addr", "add", f"{there}/30", "dev", ns_end],
        ["ip", "netns", "exec", ns, "ip", "link", "set", ns_end, "up"],
    ]
    for step in steps:
        if subprocess.run(step, capture_output=True).returncode != 0:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            pytest.skip(f"cannot make a network namespace here ({' '.join(step)})")
    port = 18000 + n
    server = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, str(COUNTING_SERVER), there, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection((there, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield there, port
    finally:
        stop(server)
        subprocess.run(["ip", "link", "del", host_end], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_a_network_client_still_reaches_a_server_on_another_machine(gate, elsewhere):
    there, port = elsewhere
    answer = plain(gate, f"{there}:{port}")
    assert answer.startswith(b"HTTP/1.1 200") and b"\r\n\r\nconnection " in answer, answer[:300]
    inside = tunnel(gate, f"{there}:{port}")
    assert inside.startswith(b"HTTP/1.1 200") and b"\r\n\r\nconnection " in inside, inside[:300]


def test_a_name_checked_and_pinned_still_reuses_its_connection(gate, elsewhere):
    """Asked by another spelling than the address connected to (hexadecimal here, as a DNS name
    would be), the connection keeps the name asked for: later requests reuse it."""
    there, port = elsewhere
    name = "0x" + bytes(int(part) for part in there.split(".")).hex()
    answers = []
    with socket.create_connection(("127.0.0.1", gate.port), source_address=(str(SOURCE), 0)) as s:
        s.settimeout(15)
        for _ in range(3):
            s.sendall(f"GET http://{name}:{port}/ HTTP/1.1\r\nHost: {name}:{port}\r\n\r\n".encode())
            data = b""
            while not re.search(rb"\r\n\r\nconnection \d+\n$", data):
                chunk = s.recv(65536)
                assert chunk, data
                data += chunk
            answers.append(data.rsplit(b"\r\n\r\n", 1)[1])
    assert answers[0].startswith(b"connection ") and len(set(answers)) == 1, answers


# --- only the school's clients are served ------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, upstream) -> Iterator[Proxy]:
    """The shipped device groups: this machine's network address (TEST-NET) is in none."""
    tmp = tmp_path_factory.mktemp("shipped")
    proxy = start_proxy(tmp, upstream.port, None)
    yield proxy
    stop(proxy.process)


def test_a_client_in_no_group_gets_a_403_page_saying_why_and_no_tunnel(shipped, upstream):
    answer = plain(shipped, "www.example.org")
    assert answer.startswith(b"HTTP/1.1 403"), answer[:300]
    assert b"<h1>Not a school device</h1>" in answer and b"device_groups.yaml" in answer
    assert b'<html lang="en-GB">' in answer  # the proxy's own accessible page, as its others
    refused = tunnel(shipped, "www.example.org:443")
    assert refused.startswith(b"HTTP/1.1 403"), refused[:300]
    assert upstream.requests == []
    # Counted by kind for `clausewarden doctor`, never by address.
    counts_file = shipped.data / "refused_clients.json"

    def counted() -> str:  # the file may exist before this refusal is in it (saved in a thread)
        text = counts_file.read_text(encoding="utf-8") if counts_file.exists() else ""
        return text if text.strip() not in ("", "{}") else ""

    deadline = time.monotonic() + 30
    while not counted() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = counted()
    assert str(SOURCE) not in text
    [(day, kinds)] = json.loads(text).items()
    assert sum(kinds.values()) >= 1 and day.startswith("20")  # more within a minute
    doctor = subprocess.run(
        [sys.executable, "-m", "clausewarden", "doctor", "--proxy-data-dir", str(shipped.data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    [line] = [x for x in doctor.stdout.splitlines() if "] refused clients:" in x]
    assert line.startswith("[warn]") and "device_groups.yaml" in line, doctor.stdout


def test_an_explicit_list_of_networks_serves_the_clients_it_names(tmp_path, upstream, elsewhere):
    listed = [f"clausewarden_allowed_clients=10.9.0.0/16, {SOURCE}/32", NO_MAPPING]
    proxy = start_proxy(tmp_path, upstream.port, None, extra=listed)
    there, port = elsewhere
    try:
        answer = plain(proxy, f"{there}:{port}")
        assert b"\r\n\r\nconnection " in answer, answer[:300]
    finally:
        stop(proxy.process)


def test_behind_a_front_only_the_fronts_last_forwarded_hop_names_the_client(tmp_path, upstream):
    proxy = start_proxy(
        tmp_path, upstream.port, None, extra=["clausewarden_fronts=127.0.0.1", NO_MAPPING]
    )
    try:
        # The front (on loopback) says the client is 203.0.113.9, in no group: refused, even
        # though that client wrote a staff address first.
        outsider = plain(
            proxy, "www.example.org", "127.0.0.1", "X-Forwarded-For: 10.1.2.3, 203.0.113.9\r\n"
        )
        assert outsider.startswith(b"HTTP/1.1 403") and b"Not a school device" in outsider
        # A staff device behind the front is served, but it is not the proxy host itself:
        # loopback is refused to it as to any other network client.
        staff = "X-Forwarded-For: 10.1.2.3\r\n"
        ordinary = plain(proxy, f"127.1:{upstream.port}", "127.0.0.1", staff)
        assert b"refused" in ordinary and b"UPSTREAM PAGE" not in ordinary, ordinary[:400]
        unnamed = plain(proxy, "www.example.org", "127.0.0.1")
        assert unnamed.startswith(b"HTTP/1.1 403"), unnamed[:300]
        assert upstream.requests == []
    finally:
        stop(proxy.process)


# --- the service on loopback, and the proxy's own calls to it ----------------------------------


def test_the_services_login_limiter_cannot_be_defeated_through_the_proxy(tmp_path, gate):
    """The service believes X-Forwarded-For from 127.0.0.1 (its nginx); through the proxy a
    network client would come from 127.0.0.1 with a fresh address each try."""
    service = start_service(tmp_path / "service", "--trust-proxy", "127.0.0.1")
    try:
        for n in range(10):
            body = urlencode({"name": "alice", "password": f"guess-{n}"})
            request = (
                f"POST http://127.1:{service.port}/login HTTP/1.1\r\n"
                f"Host: 127.1:{service.port}\r\nX-Forwarded-For: 198.51.100.{n}\r\n"
                "X-Forwarded-Proto: https\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}"
            )
            answer = _answer(gate.port, str(SOURCE), request.encode())
            assert b"refused" in answer and b"loopback" in answer, answer[:400]
    finally:
        service.stop()


def test_the_proxys_own_calls_to_the_service_carry_no_forwarded_header_a_client_sent(tmp_path):
    upstream, service = Upstream(), Upstream()  # the service: records the proxy's own calls
    token = tmp_path / "token"
    token.write_text("sensor_test-token\n")
    proxy = start_proxy(
        tmp_path, upstream.port, None, service=(f"http://127.0.0.1:{service.port}", token)
    )
    forged = {
        "X-Forwarded-For": "203.0.113.66",
        "X-Real-IP": "203.0.113.66",
        "Forwarded": "for=203.0.113.66;proto=https",
        "X-Forwarded-Proto": "https",
    }
    try:
        navigate = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
        _, _, form_page = proxy.get(
            "http", "clausewarden.internal", "/tell", {**navigate, **forged}
        )
        token_value = form_page.decode().split('name="token" value="', 1)[1].split('"', 1)[0]
        body = urlencode(
            {"token": token_value, "kind": "contact", "platform": "instagram",
             "what_happened": "A parent messaged me.", "name": "", "contact": ""}
        )  # fmt: skip
        headers = {
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document",
            "Sec-Fetch-Site": "same-origin",
            "Content-Type": "application/x-www-form-urlencoded",
            **forged,
        }
        proxy.get("http", "clausewarden.internal", "/tell", headers, "POST", body.encode())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            r.startswith(b"POST") for r in service.requests
        ):
            time.sleep(0.1)
        posts = [r for r in service.requests if r.startswith(b"POST")]
        assert posts, "the proxy never relayed the report to the service"
        for sent in service.requests:
            head = sent.split(b"\r\n\r\n", 1)[0].lower()
            assert b"203.0.113.66" not in head and b"forwarded" not in head, head
            assert b"x-real-ip" not in head, head
    finally:
        stop(proxy.process)
        upstream.close()
        service.close()


# --- with --upstream, the upstream filter is what the proxy connects to -------------------------


def test_with_an_upstream_filter_the_filter_is_reached_and_loopback_names_refused(tmp_path):
    from tests.support.deploy import ChainedProxy

    chained = ChainedProxy()  # the Local Authority's filter, here on this host's loopback
    config = config_with_client(tmp_path, f"{SOURCE}/32")
    proxy = start_proxy(
        tmp_path / "proxy",
        config=config,
        now=None,
        args=["--upstream", f"http://127.0.0.1:{chained.port}"],
    )
    try:
        request = b"GET http://www.bbc.co.uk/news HTTP/1.1\r\nHost: www.bbc.co.uk\r\n\r\n"
        answer = _answer(proxy.port, str(SOURCE), request)
        assert answer.startswith(b"HTTP/1.1 200") and b"X-Chained: yes" in answer, answer[:300]
        for target in ("127.0.0.1:8000", "localhost:8000"):
            request = f"GET http://{target}/ HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
            refused = _answer(proxy.port, str(SOURCE), request)
            assert refused.startswith(b"HTTP/1.1 403"), refused[:300]
        assert chained.seen == ["GET http://www.bbc.co.uk/news HTTP/1.1"]
    finally:
        proxy.stop()
        chained.close()
