"""Issue 16: one device behind the proxy cannot use up what the others may send to the
Headteacher. The proxy's credential is shared by every device behind it, so the proxy holds each
device to its own limit (its first report of the day always goes through); the service bounds the
proxy as a whole. A real `clausewarden proxy` relays to a real `clausewarden serve`; two devices
are two client addresses."""

import asyncio
import http.client
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from proxy_addon.report_limits import REPORTS_AT_ONCE
from tests.support.proxy import NAVIGATE, Proxy
from tests.support.service import Service
from tests.support.tell import (
    CONTACT,
    FORM_HEADERS,
    HOST,
    NAME,
    WHAT,
    proxy_with_service,
    stored_reports,
    token_of,
)

DEVICE_A, DEVICE_B = "127.0.0.1", "127.0.0.2"


@pytest.fixture
def connected(tmp_path, upstream) -> Iterator[tuple[Proxy, Service]]:
    with proxy_with_service(tmp_path, upstream.port) as both:
        yield both


def _ask(proxy: Proxy, source: str, method: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(
        "127.0.0.1", proxy.port, timeout=30, source_address=(source, 0)
    )
    try:
        conn.request(method, f"http://{HOST}/tell", body=body, headers=FORM_HEADERS)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def tell(proxy: Proxy, source: str) -> tuple[int, bytes]:
    """A member of staff at `source` opens the form and sends a report with it."""
    _, form = _ask(proxy, source, "GET")
    fields = {
        "token": token_of(form),
        "kind": "contact",
        "platform": "instagram",
        "what_happened": WHAT,
        "name": NAME,
        "contact": CONTACT,
    }
    return _ask(proxy, source, "POST", urlencode(fields).encode())


def test_one_device_cannot_use_up_what_the_others_may_send(connected):
    proxy, service = connected
    allowed = 1 + REPORTS_AT_ONCE  # the day's first, then the device's own limit
    for _ in range(allowed):
        status, body = tell(proxy, DEVICE_A)
        assert status == 201, body[:300]
    status, body = tell(proxy, DEVICE_A)
    assert status == 429 and b"several reports were sent from this device" in body
    assert NAME.encode() in body  # what they wrote is still in the form
    # Another device, behind the same proxy and its one credential, is not held up.
    status, body = tell(proxy, DEVICE_B)
    assert status == 201, body[:300]
    assert len(stored_reports(service)) == allowed + 1


def _register(proxy: Proxy, source: str, label: str) -> tuple[int, bytes]:
    """A member of staff at `source`, signed in to Facebook, puts the account forward from the
    warning page (its ticket is signed for that device)."""
    cookie = {"Cookie": "c_user=1000777"}
    conn = http.client.HTTPConnection(
        "127.0.0.1", proxy.port, timeout=30, source_address=(source, 0)
    )
    try:
        conn.request("GET", "http://www.facebook.com/", headers={**NAVIGATE, **cookie})
        page = conn.getresponse().read()
        ticket = page.decode().split('name="ticket" value="', 1)[1].split('"', 1)[0]
        form = urlencode({"ticket": ticket, "label": label}).encode()
        headers = {**NAVIGATE, **cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn.request(
            "POST", "http://www.facebook.com/.clausewarden/register", body=form, headers=headers
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_one_device_cannot_use_up_the_account_requests_of_the_others(connected):
    proxy, service = connected
    allowed = 1 + REPORTS_AT_ONCE
    for n in range(allowed):
        status, body = _register(proxy, DEVICE_A, f"Year {n} class page")
        assert status == 202, body[:300]
    status, body = _register(proxy, DEVICE_A, "one too many")
    assert status == 429 and b"Several accounts were put forward from this device" in body
    status, body = _register(proxy, DEVICE_B, "Year 6 class page")
    assert status == 202, body[:300]
    pending = asyncio.run(service.pending_accounts())
    # The service keeps one request per account (the first); the refused one never reached it.
    assert [(a.account_id, a.label) for a in pending] == [("1000777", "Year 0 class page")]
