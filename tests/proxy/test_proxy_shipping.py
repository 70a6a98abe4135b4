"""Events that are never lost: a real proxy ships its outbox to a real `clausewarden serve`.

kill -9 of the proxy with events in its outbox, the service down for a while: every event
reaches the service, each once.
"""

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from test_proxy_end_to_end import Proxy, start_proxy
from upstream import Upstream

from policy.configdir import load_policy
from tests.support.net import free_port, stop, wait_for_port

SITES = ("www.facebook.com", "www.instagram.com", "www.linkedin.com", "x.com", "www.reddit.com")
FAST = ["clausewarden_ship_delay=0.2", "clausewarden_ship_max_delay=0.5"]


def recent_working_time() -> str:
    """A recent hour in working time, so the service (retention, no future) accepts the events."""
    policy = load_policy(None)
    at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for _ in range(24 * 80):
        if policy.working_time(at):
            return at.isoformat()
        at -= timedelta(hours=1)
    raise AssertionError("no working time in the last 80 days")


class Service:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        out = self.cli("sensor", "add", "proxy")
        self.token_file = folder / "sensor-token"
        self.token_file.write_text(out.strip().splitlines()[-1] + "\n")

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "clausewarden", *args, "--data-dir", str(self.folder)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    def start(self) -> None:
        log = (self.folder / "service.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clausewarden", "serve", "--port", str(self.port),
             "--data-dir", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    async def pending_accounts(self) -> list[Any]:
        """The service's pending school accounts, read through its own store functions."""
        from service import account_store
        from service.cli_support import open_store
        from service.config import Config

        config = Config(data_dir=self.folder.resolve(), config_dir=None, database_url=None)
        async with open_store(config) as engine, engine.connect() as conn:
            return await account_store.list_accounts(conn, "pending")

    def events(self) -> list[dict[str, object]]:
        """The stored events, read from the service's database file itself (the exports show
        only cells resting on k devices, never an event id)."""
        with sqlite3.connect(self.folder / "clausewarden.db") as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM events ORDER BY time, id")]


def outbox_ids(proxy: Proxy, state: int) -> list[str]:
    """Ids of the outbox's events in `state` (0 pending, 1 shipped), read from the file itself."""
    with sqlite3.connect(proxy.data / "outbox.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT id FROM events WHERE state = ?", (state,))]


def wait_shipped(proxy: Proxy, count: int, timeout: float = 60) -> None:
    """Until the proxy's outbox says `count` events were accepted by the service."""
    deadline = time.monotonic() + timeout
    while len(outbox_ids(proxy, state=1)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(outbox_ids(proxy, state=1)) == count


def warn_on_every_site(proxy: Proxy, rounds: int = 1) -> None:
    for _ in range(rounds):
        for host in SITES:
            status, _, page = proxy.get("http", host, "/")
            assert status == 200 and b"Before you continue" in page


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def service(tmp_path) -> Iterator[Service]:
    folder = tmp_path / "service"
    folder.mkdir()
    svc = Service(folder)
    yield svc
    svc.stop()


def test_kill_9_with_events_in_the_outbox_then_restart_delivers_each_event_once(
    tmp_path, upstream, service
):
    now = recent_working_time()
    # The service is not up yet: events can only wait in the outbox.
    proxy = start_proxy(tmp_path, upstream.port, None, now, FAST, (service.url, service.token_file))
    warn_on_every_site(proxy, rounds=3)
    written = outbox_ids(proxy, state=0)
    assert len(written) == 15
    proxy.process.kill()  # SIGKILL: no chance to flush or say goodbye
    proxy.process.wait()

    service.start()
    proxy = start_proxy(tmp_path, upstream.port, None, now, FAST, (service.url, service.token_file))
    try:
        wait_shipped(proxy, 15)
        time.sleep(1.0)  # anything sent twice would have arrived by now
        events = service.events()
        ids = [e["id"] for e in events]
        assert sorted(ids) == sorted(written) and len(set(ids)) == len(ids)
        assert all(e["sensor"] == "proxy" and e["outcome"] == "warn" for e in events)
    finally:
        stop(proxy.process)


def test_service_down_for_a_while_then_up_gets_the_backlog_none_twice(tmp_path, upstream, service):
    now = recent_working_time()
    service.start()
    proxy = start_proxy(tmp_path, upstream.port, None, now, FAST, (service.url, service.token_file))
    try:
        warn_on_every_site(proxy)
        wait_shipped(proxy, 5)
        service.stop()
        warn_on_every_site(proxy, rounds=2)
        time.sleep(1.5)  # the shipper fails and backs off meanwhile
        assert len(outbox_ids(proxy, state=0)) == 10
        service.start()
        wait_shipped(proxy, 15)
        time.sleep(1.0)
        events = service.events()
        ids = [e["id"] for e in events]
        assert len(ids) == 15 and len(set(ids)) == 15
        assert outbox_ids(proxy, state=0) == []
        assert proxy.process.poll() is None
    finally:
        stop(proxy.process)


def test_a_proxy_restarted_while_the_service_is_down_enforces_the_last_good_bundle(
    tmp_path, upstream, service
):
    now = recent_working_time()
    service.start()
    proxy = start_proxy(tmp_path, upstream.port, None, now, FAST, (service.url, service.token_file))
    stop(proxy.process)
    saved = json.loads((proxy.data / "bundle.json").read_text())
    assert saved["etag"] and saved["bundle"]["privacy"] == {"level": "daily"}  # no salt
    assert (proxy.data / "bundle.json").stat().st_mode & 0o077 == 0
    service.stop()
    proxy = start_proxy(tmp_path, upstream.port, None, now, FAST, (service.url, service.token_file))
    try:
        status, _, page = proxy.get("http", "www.facebook.com", "/")
        assert status == 200 and b"Clause 7" in page
    finally:
        stop(proxy.process)


def test_register_a_school_account_reaches_the_services_pending_list(tmp_path, upstream, service):
    service.start()
    proxy = start_proxy(
        tmp_path, upstream.port, None, recent_working_time(), FAST,
        (service.url, service.token_file),
    )  # fmt: skip
    try:
        cookie = {"Cookie": "c_user=1000777"}
        _, _, page = proxy.get("http", "www.facebook.com", "/", {**cookie, "Accept": "text/html"})
        ticket = page.decode().split('name="ticket" value="', 1)[1].split('"', 1)[0]
        form = urlencode({"ticket": ticket, "label": "Year 6 class page"}).encode()
        headers = {**cookie, "Content-Type": "application/x-www-form-urlencoded"}
        status, _, body = proxy.get(
            "http", "www.facebook.com", "/.clausewarden/register", headers, "POST", form
        )
        assert status == 202 and b"Request sent" in body
        pending = asyncio.run(service.pending_accounts())
        assert [(a.platform, a.account_id, a.label) for a in pending] == [
            ("facebook", "1000777", "Year 6 class page")
        ]
    finally:
        stop(proxy.process)


def test_events_the_service_refuses_are_set_aside_and_never_block_the_rest(
    tmp_path, upstream, service
):
    service.start()
    wrong = ["clausewarden_sensor=not-registered", *FAST]  # --set overrides --sensor-name
    proxy = start_proxy(
        tmp_path, upstream.port, None, recent_working_time(), wrong,
        (service.url, service.token_file),
    )  # fmt: skip
    try:
        warn_on_every_site(proxy)
        deadline = time.monotonic() + 20
        while len(outbox_ids(proxy, state=2)) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(outbox_ids(proxy, state=2)) == 5  # rejected, kept locally, not retried
        assert service.events() == []
        assert "the service refused" in (tmp_path / "proxy.log").read_text()
        assert proxy.process.poll() is None
    finally:
        stop(proxy.process)


def test_a_full_outbox_reports_what_it_could_not_keep_to_the_service(tmp_path, upstream, service):
    now = recent_working_time()
    small = ["clausewarden_outbox_max=3", *FAST]
    proxy = start_proxy(
        tmp_path, upstream.port, None, now, small, (service.url, service.token_file)
    )
    try:
        warn_on_every_site(proxy)  # 5 warnings, room for 3: the service is not up yet
        assert "the outbox is full" in (tmp_path / "proxy.log").read_text()
        service.start()
        wait_shipped(proxy, 3)
        assert len(service.events()) == 3
        with sqlite3.connect(service.folder / "clausewarden.db") as db:
            [(dropped,)] = db.execute("SELECT outbox_dropped FROM sensors WHERE name = 'proxy'")
        assert dropped == 2  # what /metrics reports as clausewarden_sensor_outbox_dropped
    finally:
        stop(proxy.process)
