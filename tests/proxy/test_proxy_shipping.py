"""Events that are never lost: a real proxy ships its outbox to a real `clausewarden serve`.

kill -9 of the proxy with events in its outbox, the service down for a while: every event
reaches the service, each once.
"""

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from tests.support.net import stop
from tests.support.proxy import (
    FAST,
    outbox_ids,
    recent_working_time,
    start_proxy,
    wait_shipped,
    warn_on_every_site,
)
from tests.support.service import Service


@pytest.fixture
def service(tmp_path) -> Iterator[Service]:
    folder = tmp_path / "service"
    folder.mkdir()
    svc = Service(folder, sensor="proxy", log=folder / "service.log")
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
