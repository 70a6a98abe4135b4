"""Attacks on the proxy's one-use tickets (issue 16 §4), against real `clausewarden proxy`
(mitmdump) processes: the warning page's ticket answers Continue or Go back once, the Tell the
Headteacher form's token sends one report, and two proxies sharing one data folder (several
workers on one host) share what has been used."""

import multiprocessing
import os
import re
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.net import stop
from tests.support.proxy import (
    WORKING_TIME,
    Proxy,
    outbox_events,
    start_proxy,
    ticket_of,
)
from tests.support.service import Service
from tests.support.tell import proxy_with_service, send, stored_reports, token_of
from tests.support.upstream import Upstream

ROOT = Path(__file__).resolve().parents[2]

HOST = "www.facebook.com"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CONTINUE = {"return_to": "/", "reason": "teaching-resource"}
EXPIRED = b"This warning has expired"


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture(scope="module")
def shared_proxy(tmp_path_factory, upstream) -> Iterator[Proxy]:
    running = start_proxy(tmp_path_factory.mktemp("tickets"), upstream.port, None)
    yield running
    stop(running.process)


@pytest.fixture
def proxy(shared_proxy) -> Proxy:
    """The module's proxy as a new device sees it, with only this test's events."""
    return shared_proxy.as_new_device()


@pytest.fixture
def two_proxies(tmp_path, upstream) -> Iterator[tuple[Proxy, Proxy]]:
    """Two mitmdump processes on one host with one data folder (and one CA), as workers behind a
    front would be."""
    first = start_proxy(tmp_path, upstream.port, None)
    try:
        second = start_proxy(tmp_path, upstream.port, None)
    except BaseException:
        stop(first.process)
        raise
    assert first.data == second.data and first.port != second.port
    yield first, second
    stop(second.process)
    stop(first.process)


def post(proxy: Proxy, page: str, fields: dict[str, str]) -> tuple[int, bytes]:
    status, _, body = proxy.get(
        "https", HOST, f"/.clausewarden/{page}", FORM, "POST", urlencode(fields).encode()
    )
    return status, body


def warned_ticket(proxy: Proxy) -> str:
    status, _, page = proxy.get("https", HOST, "/")
    assert status == 200 and b"Before you continue to Facebook" in page
    return ticket_of(page)


def responses(proxy: Proxy) -> list[object]:
    return [event["response"] for event in outbox_events(proxy)]


def test_a_continue_ticket_replayed_three_times_is_one_continued_and_two_refusals(proxy):
    ticket = warned_ticket(proxy)
    answers = [post(proxy, "continue", {"ticket": ticket, **CONTINUE}) for _ in range(4)]
    assert answers[0][0] == 303
    for status, body in answers[1:]:
        assert status == 403 and EXPIRED in body
    assert responses(proxy) == ["none", "continued"]


def test_a_ticket_used_for_go_back_cannot_then_continue_nor_go_back_again(proxy):
    ticket = warned_ticket(proxy)
    status, body = post(proxy, "back", {"ticket": ticket, "return_to": "/"})
    assert status == 200 and b"You went back" in body
    for page, fields in (("continue", CONTINUE), ("back", {"return_to": "/"})):
        status, body = post(proxy, page, {"ticket": ticket, **fields})
        assert status == 403 and EXPIRED in body
    assert responses(proxy) == ["none", "went_back"]
    # A fresh warning has a fresh ticket, which works.
    status, _ = post(proxy, "continue", {"ticket": warned_ticket(proxy), **CONTINUE})
    assert status == 303
    assert responses(proxy) == ["none", "went_back", "none", "continued"]


def test_a_continue_with_a_reason_not_offered_does_not_use_the_ticket(proxy):
    """Refused without recording anything: the warning page can still be answered."""
    ticket = warned_ticket(proxy)
    status, body = post(proxy, "continue", {"ticket": ticket, "return_to": "/", "reason": "x"})
    assert status == 403 and b"Continue is not available" in body
    status, _ = post(proxy, "continue", {"ticket": ticket, **CONTINUE})
    assert status == 303
    assert responses(proxy) == ["none", "continued"]


def test_a_ticket_used_on_one_worker_is_refused_on_another_sharing_the_data_folder(two_proxies):
    first, second = two_proxies
    ticket = warned_ticket(first)
    assert post(first, "continue", {"ticket": ticket, **CONTINUE})[0] == 303
    status, body = post(second, "continue", {"ticket": ticket, **CONTINUE})
    assert status == 403 and EXPIRED in body
    status, body = post(second, "back", {"ticket": ticket, "return_to": "/"})
    assert status == 403 and EXPIRED in body
    assert responses(first) == ["none", "continued"]  # one outbox: both write to it


def test_one_ticket_sent_at_once_to_two_workers_is_accepted_once(two_proxies):
    ticket = warned_ticket(two_proxies[0])
    targets = [two_proxies[i % 2] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda p: post(p, "continue", {"ticket": ticket, **CONTINUE})[0], targets)
        )
    assert sorted(statuses) == [303] + [403] * 7
    assert responses(two_proxies[0]) == ["none", "continued"]


def test_the_used_ticket_store_keeps_no_ticket_and_only_its_owner_reads_it(proxy):
    ticket = warned_ticket(proxy)
    assert post(proxy, "continue", {"ticket": ticket, **CONTINUE})[0] == 303
    stores = sorted(p for p in proxy.data.iterdir() if p.name.startswith("used_tickets"))
    assert stores, "no used-ticket store in the data folder"
    mac = ticket.rpartition(".")[2]
    for path in stores:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        data = path.read_bytes()
        assert mac.encode() not in data and ticket.partition("~")[0].encode() not in data


# --- Tell the Headteacher ------------------------------------------------------------------


@pytest.fixture
def connected(tmp_path, upstream) -> Iterator[tuple[Proxy, Service]]:
    with proxy_with_service(tmp_path, upstream.port) as both:
        yield both


def test_the_tell_token_sent_twice_sends_one_report(connected):
    proxy, service = connected
    _, _, form = proxy.get("http", "clausewarden.internal", "/tell")
    token = token_of(form)
    status, body = send(proxy, token)
    assert status == 201, body[:300]
    status, body = send(proxy, token)
    assert status == 403 and b"already been sent" in body
    assert b"Nothing was sent" in body
    assert len(stored_reports(service)) == 1


def test_a_form_shown_again_with_errors_can_then_be_sent_once(connected):
    """What staff expect: fix what the form names and send again; only the fixed one is sent."""
    proxy, service = connected
    _, _, form = proxy.get("http", "clausewarden.internal", "/tell")
    status, again = send(proxy, token_of(form), name="  ")
    assert status == 400 and b"Write your name" in again
    fresh = token_of(again)
    assert send(proxy, fresh)[0] == 201
    assert send(proxy, fresh)[0] == 403
    assert len(stored_reports(service)) == 1


def test_the_tell_token_lasts_an_hour(proxy):
    _, _, form = proxy.get("http", "clausewarden.internal", "/tell")
    match = re.match(r"tell\|tell\|[0-9a-f]+\|(\d+)\|[\w-]+\.", token_of(form))
    assert match is not None
    now = int(datetime.fromisoformat(WORKING_TIME).timestamp())
    assert int(match.group(1)) - now == 3600


# --- one key for the host's workers ----------------------------------------------------------


def _key_of(path: Path, start: Any, out: Any) -> None:
    from proxy_addon.secrets import private_key

    start.wait()
    try:
        out.put(private_key(path).hex())
    except OSError as exc:  # a worker that could not start
        out.put(repr(exc))


def test_workers_started_at_once_on_a_fresh_data_folder_sign_with_one_key(tmp_path):
    """Else a ticket signed by one worker is a forgery to another, and each has its own cookie."""
    context = multiprocessing.get_context("fork")
    workers = 8
    start, out = context.Barrier(workers), context.Queue()
    path = tmp_path / "allowance.key"
    processes = [context.Process(target=_key_of, args=(path, start, out)) for _ in range(workers)]
    for process in processes:
        process.start()
    keys = {out.get(timeout=30) for _ in processes}
    for process in processes:
        process.join(timeout=30)
    assert keys == {path.read_text().strip()}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["allowance.key"]
