"""Faults a real site meets, between a real proxy (mitmdump) and a real `clausewarden serve` (or
something worse in its place): a proxy clock days ahead, an HTML error page from a gateway in
between, a service that accepts connections and never answers."""

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from policy.configdir import load_policy
from tests.support.disk import fill, small_disk
from tests.support.net import stop
from tests.support.proxy import FAST, SITES, clock_off_by, outbox_ids, start_proxy
from tests.support.relay import CountingRelay
from tests.support.service import Service


def working_time_ahead(days: int) -> str:
    """A working hour at least `days` days after the real now."""
    policy = load_policy(None)
    at = (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    for _ in range(24 * 60):
        if policy.working_time(at):
            return at.isoformat()
        at += timedelta(hours=1)
    raise AssertionError("no working time in the next 60 days")


def browse(proxy, hosts=SITES) -> None:
    for host in hosts:
        status, _, _ = proxy.get("http", host, "/")
        assert status == 200


def until(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


@pytest.fixture
def service(tmp_path) -> Iterator[Service]:
    folder = tmp_path / "service"
    folder.mkdir()
    svc = Service(folder, sensor="proxy", log=folder / "service.log")
    yield svc
    svc.stop()


def _start_at(service: Service, at: str) -> None:
    service.start("--at", at)


def _sensor_row(service: Service) -> sqlite3.Row:
    with sqlite3.connect(service.folder / "clausewarden.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM sensors WHERE name = 'proxy'").fetchone()


def test_a_proxy_clock_two_days_ahead_keeps_its_events_says_so_and_ships_them_later(
    tmp_path, upstream, service
):
    ahead = working_time_ahead(days=2)
    service.start()  # the real clock
    proxy = start_proxy(
        tmp_path, upstream.port, None, ahead, FAST, (service.url, service.token_file)
    )
    try:
        browse(proxy)
        until(lambda: len(outbox_ids(proxy, state=3)) == 5, "5 events deferred by the service")
        assert outbox_ids(proxy, state=2) == []  # none refused for good
        assert service.events() == []
        log = (tmp_path / "proxy.log").read_text()
        assert "this proxy's clock is about" in log and "set this machine's clock (NTP)" in log
        until(lambda: (_sensor_row(service)["clock_skew_seconds"] or 0) > 86400, "skew noted")
        row = _sensor_row(service)
        assert row["outbox_pending"] == 5 and row["outbox_rejected"] == 0
    finally:
        stop(proxy.process)
        service.stop()
    # The service's clock reaches the proxy's (here: it is started at that time): the kept
    # events go, each once, when the proxy next starts.
    _start_at(service, ahead)
    proxy = start_proxy(
        tmp_path, upstream.port, None, ahead, FAST, (service.url, service.token_file)
    )
    try:
        until(lambda: len(outbox_ids(proxy, state=1)) == 5, "the 5 kept events shipped")
        assert len(service.events()) == 5
    finally:
        stop(proxy.process)


class _Gateway(BaseHTTPRequestHandler):
    """A load balancer in front of a service that is down: 502 with an HTML page."""

    def do_GET(self) -> None:  # noqa: N802 - the bundle
        self._bad_gateway()

    def do_POST(self) -> None:  # noqa: N802 - the events
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._bad_gateway()

    def _bad_gateway(self) -> None:
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args) -> None:
        pass


def test_an_html_error_page_from_a_gateway_is_read_as_a_status_and_the_events_wait(
    tmp_path, upstream, service
):
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{gateway.server_address[1]}"
    proxy = start_proxy(
        tmp_path, upstream.port, None, working_time_ahead(0), FAST, (url, service.token_file)
    )
    try:
        browse(proxy, SITES[:2])
        until(lambda: "answered 502" in (tmp_path / "proxy.log").read_text(), "the 502 logged")
        log = (tmp_path / "proxy.log").read_text()
        assert "JSONDecodeError" not in log and "Attempt to decode JSON" not in log
        assert "<html>" not in log
        assert len(outbox_ids(proxy, state=0)) == 2 and outbox_ids(proxy, state=2) == []
    finally:
        stop(proxy.process)
        gateway.shutdown()


class _Silent:
    """Accepts connections and never answers; notes which are still open."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.received: dict[socket.socket, bytearray] = {}
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def waiting(self, request: bytes) -> int:
        """Connections whose request starts with `request` and which the proxy has not given
        up on (no EOF after what it sent)."""
        still = 0
        for conn in list(self.accepted):
            conn.setblocking(False)
            received = self.received.setdefault(conn, bytearray())
            closed = False
            while True:
                try:
                    data = conn.recv(65536)
                except BlockingIOError:
                    break
                except OSError:
                    closed = True
                    break
                if not data:
                    closed = True
                    break
                received += data
            if received.startswith(request) and not closed:
                still += 1
        return still

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_a_service_that_accepts_and_never_answers_does_not_hold_up_browsing(
    tmp_path, upstream, service
):
    """Every page is answered while the proxy's requests to the service are still hanging (it
    has not given up on them): browsing never waits on the service."""
    # A first run against the real service leaves a last good bundle, as a running site has.
    service.start()
    now = working_time_ahead(0)
    proxy = start_proxy(tmp_path, upstream.port, None, now, FAST, (service.url, service.token_file))
    stop(proxy.process)
    service.stop()
    silent = _Silent()
    try:
        url = f"http://127.0.0.1:{silent.port}"
        proxy = start_proxy(tmp_path, upstream.port, None, now, FAST, (url, service.token_file))
        try:
            bundle = b"GET /api/v1/bundle"
            until(lambda: silent.waiting(bundle) == 1, "the proxy asks the silent service")
            browse(proxy)  # five warnings, each an event for the shipper to send
            # every page answered while the proxy still waits for the bundle: browsing did not
            # wait on the service, with the last good bundle in force
            assert silent.waiting(bundle) == 1
            assert proxy.process.poll() is None
        finally:
            stop(proxy.process)
    finally:
        silent.close()


def test_a_hung_upstream_is_let_go_after_the_proxys_timeout(tmp_path):
    # An upstream that accepts the connection and never answers: the proxy gives up after
    # tcp_timeout (120 s as shipped; 2 s here) and the browser gets an answer, not a hang.
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    proxy = start_proxy(tmp_path, hung.getsockname()[1], None, extra=["tcp_timeout=2"])
    try:
        with socket.create_connection(("127.0.0.1", proxy.port)) as client:
            client.settimeout(60)  # only a guard against the old hang, not a speed check
            client.sendall(b"GET http://example.org/ HTTP/1.1\r\nHost: example.org\r\n\r\n")
            answer = client.recv(65536)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 50"), answer[:200]
    finally:
        stop(proxy.process)
        hung.close()


@pytest.fixture
def disk(tmp_path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk") as mounted:
        yield mounted


def test_a_full_disk_never_turns_the_warnings_off_and_every_unkept_event_is_counted(disk):
    proxy = start_proxy(disk)
    try:
        browse(proxy)  # the outbox is in use: these five are kept
        filler = fill(disk)
        for _ in range(4):
            for host in SITES:  # every navigation still gets its warning, none goes upstream
                status, _, page = proxy.get("http", host, "/")
                assert status == 200 and b"Before you continue" in page
        until(lambda: "events not kept (warnings are still shown)" in proxy.output(), "logged")
        assert "free space there" in proxy.output()
        filler.unlink()  # the admin frees space: the count of events lost joins the outbox's
        browse(proxy, SITES[:1])
    finally:
        proxy.stop()
    done = subprocess.run(
        [sys.executable, "-m", "clausewarden", "outbox", "export", "--data-dir", str(proxy.data)],
        capture_output=True,
        text=True,
        check=True,
    )
    counts = done.stderr.split("; ")
    kept = int(counts[0].removesuffix(" events"))
    lost = int(counts[2].split(" could not be kept")[0])
    assert kept + lost == 5 + 20 + 1 and lost >= 15, done.stderr


def test_a_busy_proxy_ships_a_batch_a_moment_not_a_post_per_page(tmp_path, upstream, service):
    # At 4 pages a second the shipper used to post each event alone (200 POSTs for 234 events,
    # and the service's rate limit answering 429): woken by an event it now gathers the
    # moment's others first.
    service.start()
    relay = CountingRelay(service.port)
    gathering = [*FAST[:2], "clausewarden_ship_batch_window=3"]
    now = working_time_ahead(0)
    proxy = start_proxy(
        tmp_path, upstream.port, None, now, gathering, (relay.url, service.token_file)
    )
    try:
        for _ in range(4):
            browse(proxy)
        until(lambda: sum(relay.batches()) == 20, "all 20 events shipped")
    finally:
        stop(proxy.process)
        relay.close()
    assert len(relay.batches()) < 10, relay.batches()  # one POST per event was 20
    assert len(service.events()) == 20


def test_a_proxy_whose_own_clock_is_days_ahead_times_its_events_by_the_services_clock(
    tmp_path, upstream, service
):
    # The machine's clock itself is wrong (libfaketime), not a clock the proxy was told to use.
    service.start()
    token = (service.url, service.token_file)
    ahead = clock_off_by("+2d")
    proxy = start_proxy(tmp_path, upstream.port, None, None, FAST, token, env=ahead)
    try:
        until(lambda: "clock is ahead of the service's by 2 days" in proxy.output(), "said so")
        browse(proxy)
        until(lambda: len(service.events()) == 5, "the 5 events stored, none deferred")
        for event in service.events():  # timed by the service's clock: today, not in 2 days
            made = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
            assert abs((made - datetime.now(UTC)).total_seconds()) < 3 * 3600
        assert outbox_ids(proxy, state=3) == []
        # The machine's clock is still wrong, and the Sensors page says so.
        until(lambda: (_sensor_row(service)["clock_skew_seconds"] or 0) > 86400, "skew noted")
    finally:
        stop(proxy.process)
    proxy = start_proxy(tmp_path, upstream.port, None, None, FAST, token)  # the clock set right
    try:
        browse(proxy, SITES[:1])
        until(lambda: _sensor_row(service)["clock_skew_seconds"] == 0, "the report cleared")
        assert "ahead of the service's" not in proxy.output().split("Policy:")[-1]
    finally:
        stop(proxy.process)
