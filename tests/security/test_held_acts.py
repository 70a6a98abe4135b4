"""Attacks on held acts (issue 11 §1) against a real `clausewarden proxy` (mitmdump): a page's
script sending a warned message, the same script answering the held act's warning for itself,
another device answering it, a replayed answer, and what of the held act is kept."""

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from tests.support.net import stop
from tests.support.proxy import Proxy, fresh_device, outbox_events, start_proxy
from tests.support.upstream import Requests, Upstream

HOST = "www.linkedin.com"
SEND = "/voyager/api/messaging/conversations?action=create"
SCRIPT = {  # what Chromium sends for a page's fetch() to its own origin
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
    "Sec-Fetch-Site": "same-origin",
    "Content-Type": "application/json",
    "Accept": "application/json",
}
NAVIGATE = {
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Site": "same-origin",
    "Accept": "text/html",
}
FORM = {**NAVIGATE, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[tuple[Proxy, Upstream]]:
    upstream = Upstream()
    proxy = start_proxy(tmp_path_factory.mktemp("held-acts"), upstream.port, None)
    yield proxy, upstream
    stop(proxy.process)
    upstream.close()


@pytest.fixture
def running(shared) -> tuple[Proxy, Requests]:
    """The module's proxy and upstream as this test alone sees them: its events, the requests
    that reach the platform from now on."""
    proxy, upstream = shared
    return proxy.as_new_device(), upstream.since_now()


@pytest.fixture
def devices() -> tuple[str, str]:
    """Two devices (client addresses) new to the proxy."""
    return fresh_device(), fresh_device()


def ask(
    proxy: Proxy,
    device: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(
        "127.0.0.1", proxy.port, timeout=10, source_address=(device, 0)
    )
    conn.request(method, f"http://{HOST}{path}", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def field(page: bytes, name: str) -> str:
    return page.decode().split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def message(proxy: Proxy, device: str, text: str = "hello parent") -> int:
    return ask(proxy, device, "POST", SEND, SCRIPT, json.dumps({"text": text}).encode())[0]


def held_warning(proxy: Proxy, device: str) -> tuple[str, str]:
    """Device `device` sends a message (held) and opens its next page: the ticket and held id."""
    assert message(proxy, device) == 403
    status, _, page = ask(proxy, device, "GET", "/feed/", NAVIGATE)
    assert b"Your message on LinkedIn was not sent" in page, page[:300]
    return field(page, "ticket"), field(page, "held")


def answer(proxy: Proxy, device: str, ticket: str, held: str, headers: dict[str, str]) -> int:
    form = {
        "ticket": ticket,
        "held": held,
        "return_to": "/feed/",
        "reason": "other-school-business",
    }
    return ask(proxy, device, "POST", "/.clausewarden/continue", headers, urlencode(form).encode())[
        0
    ]


def sent_upstream(upstream: Requests) -> int:
    return sum(b"POST /voyager/api/messaging" in r for r in upstream.requests)


def test_a_warned_message_sent_by_a_pages_script_never_reaches_the_platform(running, devices):
    A, B = devices
    proxy, upstream = running
    status, headers, body = ask(proxy, A, "POST", SEND, SCRIPT, b'{"text": "hello parent"}')
    assert status == 403 and headers["content-type"].startswith("application/json")
    assert "8.1" in json.loads(body)["may_apply"]
    assert sent_upstream(upstream) == 0


def test_a_pages_script_cannot_continue_its_own_held_act(running, devices):
    A, B = devices
    proxy, upstream = running
    ticket, held = held_warning(proxy, A)
    # Even holding the page's ticket and held id, a fetch() is not the person pressing Continue.
    assert answer(proxy, A, ticket, held, {**SCRIPT, "Content-Type": FORM["Content-Type"]}) == 403
    assert message(proxy, A) == 403
    assert sent_upstream(upstream) == 0
    assert all(e["response"] != "continued" for e in outbox_events(proxy))


def test_another_device_cannot_answer_a_held_act_or_open_acts_with_it(running, devices):
    A, B = devices
    proxy, upstream = running
    ticket, held = held_warning(proxy, A)
    assert answer(proxy, B, ticket, held, FORM) == 403  # A's ticket is not B's
    own_ticket = field(ask(proxy, B, "GET", "/feed/", NAVIGATE)[2], "ticket")
    assert answer(proxy, B, own_ticket, held, FORM) == 403  # nor A's held act
    assert message(proxy, B) == 403 and message(proxy, A) == 403
    assert sent_upstream(upstream) == 0
    assert answer(proxy, A, ticket, held, FORM) == 303  # A itself still can
    assert message(proxy, A) == 200 and sent_upstream(upstream) == 1
    assert message(proxy, B) == 403  # acts are opened per device


def test_a_replayed_continue_records_one_answer(running, devices):
    A, B = devices
    proxy, _ = running
    ticket, held = held_warning(proxy, A)
    assert answer(proxy, A, ticket, held, FORM) == 303
    assert answer(proxy, A, ticket, held, FORM) == 403  # answered already
    messages = [e for e in outbox_events(proxy) if e["action"] == "message"]
    assert [(e["response"], e["held"]) for e in messages] == [("none", True), ("continued", True)]


def test_nothing_of_a_held_acts_content_or_address_is_kept_in_events_or_the_log(running, devices):
    A, B = devices
    proxy, _ = running
    assert message(proxy, A, "CONTENT-TYPED-BY-STAFF") == 403
    ask(proxy, A, "GET", "/in/someone-private/?q=1", NAVIGATE)
    events = json.dumps(outbox_events(proxy))
    log = (proxy.data.parent / "proxy.log").read_text()
    for text in ("CONTENT-TYPED-BY-STAFF", "someone-private", "voyager", A):
        assert text not in events and text not in log
    assert '"held": true' in events


def test_a_forged_continue_cannot_send_a_blocked_reference(running, devices):
    A, B = devices
    proxy, upstream = running
    endorse = "/voyager/api/identity/profiles/abc/normEndorsements"
    assert ask(proxy, A, "POST", endorse, SCRIPT, b"{}")[0] == 403
    status, _, page = ask(proxy, A, "GET", "/feed/", NAVIGATE)
    assert b"was not sent" in page and b"school business" not in page
    ticket, held = field(page, "ticket"), field(page, "held")
    assert answer(proxy, A, ticket, held, FORM) == 403  # no Continue on a block, even forged
    assert ask(proxy, A, "POST", endorse, SCRIPT, b"{}")[0] == 403
    assert sum(b"normEndorsements" in r for r in upstream.requests) == 0


def test_another_sites_forged_message_is_held_but_never_shown_as_the_staff_members(
    running, devices
):
    A, B = devices
    proxy, upstream = running
    cross = {**SCRIPT, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    assert ask(proxy, A, "POST", SEND, cross, b'{"text": "forged"}')[0] == 403
    assert sent_upstream(upstream) == 0
    page = ask(proxy, A, "GET", "/feed/", NAVIGATE)[2]
    assert b"was not sent" not in page
