"""The warning page's ticket carries the signed decision (issue 15 §1), through a real
`clausewarden proxy` (mitmdump): Continue and Go back answer the decision the page was about and
decide nothing again from the form's `return_to`; a ticket altered in any part is refused; it
lasts policy.respond.TICKET_SECONDS."""

import base64
import json
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlencode

import pytest

from policy.respond import TICKET_SECONDS
from tests.support.net import stop
from tests.support.proxy import WORKING_TIME, Proxy, outbox_events, start_proxy, ticket_of
from tests.support.upstream import Upstream

HOST = "www.facebook.com"
QUIET = "/dialog/oauth"  # "Log in with Facebook": a work area, no warning, nothing to continue
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[Proxy]:
    upstream = Upstream()
    running = start_proxy(tmp_path_factory.mktemp("ticket"), upstream.port, None)
    yield running
    stop(running.process)
    upstream.close()


@pytest.fixture
def proxy(shared) -> Proxy:
    """The module's proxy as a new device sees it, with only this test's events."""
    return shared.as_new_device()


def post(proxy: Proxy, page: str, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    return proxy.get(
        "https", HOST, f"/.clausewarden/{page}", FORM, "POST", urlencode(fields).encode()
    )


def warned_ticket(proxy: Proxy) -> str:
    status, _, page = proxy.get("https", HOST, "/")
    assert status == 200 and b"Before you continue to Facebook" in page
    return ticket_of(page)


def test_continue_answers_the_warning_it_was_on_not_the_page_return_to_names(proxy):
    ticket = warned_ticket(proxy)
    status, headers, _ = post(
        proxy, "continue", {"ticket": ticket, "return_to": QUIET, "reason": "teaching-resource"}
    )
    assert status == 303 and headers["location"] == QUIET
    [warned, continued] = outbox_events(proxy)
    assert continued["response"] == "continued" and continued["action"] == "browse"
    assert continued["clauses"] == warned["clauses"] and continued["rule"] == warned["rule"]


def test_go_back_answers_the_warning_it_was_on_not_the_page_return_to_names(proxy):
    ticket = warned_ticket(proxy)
    status, _, page = post(proxy, "back", {"ticket": ticket, "return_to": QUIET})
    assert status == 200 and b"You went back" in page
    assert [e["response"] for e in outbox_events(proxy)] == ["none", "went_back"]


def test_a_ticket_whose_decision_was_altered_is_refused(proxy):
    ticket = warned_ticket(proxy)
    payload, _, mac = ticket.rpartition(".")
    head, _, carried = payload.partition("~")
    fields = json.loads(base64.urlsafe_b64decode(carried + "=" * (-len(carried) % 4)))
    assert fields["outcome"] == "warn" and fields["allow_continue"] is True
    fields["clauses"] = ["10.1"]
    altered = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    for forged in (f"{head}~{altered}.{mac}", f"{head}.{mac}", ticket[:-2]):
        status, _, page = post(
            proxy, "continue", {"ticket": forged, "return_to": "/", "reason": "teaching-resource"}
        )
        assert status == 403 and b"This warning has expired" in page
    assert [e["response"] for e in outbox_events(proxy)] == ["none"]


def test_the_ticket_lasts_thirty_minutes(proxy):
    expires = int(warned_ticket(proxy).partition("~")[0].split("|")[3])
    assert TICKET_SECONDS == 1800
    assert expires - int(datetime.fromisoformat(WORKING_TIME).timestamp()) == TICKET_SECONDS
