"""The extension's warning page in a real Chromium, as the proxy's is tested in
tests/proxy/test_proxy_warning_tabs.py: a plain http:// link shows the warning once and records
one event; Tell the Headteacher opens in a new tab, so the warning can still be answered after it
and nothing is recorded twice (issue 15 §4)."""

from typing import Any

import pytest
from tests.support import extension as shared
from tests.support.extension import exported_events, facebook_redirected, reset, wait_until
from tests.support.local_site import Site

from tests.support.browser import have_chromium

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api")

# The browser test's fixtures: the service, the local site, Chromium with the packaged extension.
workdir, config_dir, service, site, unpacked, pw, browser = (
    shared.workdir,
    shared.config_dir,
    shared.service,
    shared.site,
    shared.unpacked,
    shared.pw,
    shared.browser,
)

EXPIRED = "This warning has expired"
WARNED = "Before you continue to Facebook"


def warned_state(context: Any, worker: Any) -> None:
    reset(context, worker)
    wait_until(lambda: facebook_redirected(worker), "the facebook redirect rule")


def follow_link(page: Any, url: str) -> None:
    """Click a plain link to `url` on an ordinary page, as staff would."""
    page.goto("https://www.bbc.co.uk/")
    page.evaluate(
        """(url) => { const a = document.createElement("a"); a.id = "out"; a.href = url;
        a.textContent = "a link"; document.body.append(a); }""",
        url,
    )
    page.click("#out")


def heading_when_shown(page: Any) -> str:
    """The warning page's heading once the worker has answered it."""
    page.wait_for_function(
        "() => location.protocol === 'chrome-extension:' && document.querySelector('h1') && "
        "!document.querySelector('h1').textContent.startsWith('Checking')"
    )
    return str(page.locator("h1").inner_text())


def continue_with(page: Any, reason: str) -> None:
    page.check(f"input[value='{reason}']")
    page.click("#continue")
    page.wait_for_url("https://www.facebook.com/")


def answers_since(
    worker: Any, service: dict[str, Any], before: set[str]
) -> list[tuple[object, object]]:
    """The responses of the facebook events the extension recorded since `before` (their ids),
    once it has shipped them all to the service."""
    worker.evaluate("clausewarden.ship()")
    wait_until(
        lambda: (
            not worker.evaluate("chrome.storage.local.get('outbox.events')").get("outbox.events")
        ),
        "an empty outbox",
        timeout=30,
    )
    events = [e for e in exported_events(service) if e["id"] not in before]
    # (sorted: events are stored with their time rounded, so their order is not kept)
    return sorted((e["response"], e["held"]) for e in events if e["platform"] == "facebook")


def event_ids(service: dict[str, Any]) -> set[str]:
    return {e["id"] for e in exported_events(service)}


def test_a_plain_http_link_shows_the_warning_once_and_records_one_event(
    browser: tuple[Any, Any], service: dict[str, Any], site: Site
) -> None:
    # Chromium opens http://www.facebook.com/ as https:// (HSTS): the warning is about that page.
    context, worker = browser
    warned_state(context, worker)
    before = event_ids(service)
    page = context.new_page()
    follow_link(page, "http://www.facebook.com/")
    assert heading_when_shown(page) == WARNED
    continue_with(page, "teaching-resource")
    assert page.locator("h1").inner_text() == "LOCAL www.facebook.com"
    assert answers_since(worker, service, before) == [("continued", 0), ("none", 0)]
    page.close()


def test_tell_the_headteacher_opens_in_a_new_tab_and_the_warning_can_still_be_answered(
    browser: tuple[Any, Any], service: dict[str, Any]
) -> None:
    context, worker = browser
    warned_state(context, worker)
    before = event_ids(service)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    assert heading_when_shown(page) == WARNED
    link = page.locator("#tell-headteacher")
    assert "opens in a new tab" in str(link.locator("xpath=..").inner_text())
    with context.expect_page(timeout=10_000) as opened:
        link.click()  # a plain click, as staff would
    tell = opened.value
    tell.wait_for_selector("#kind-contact")
    assert tell.url.split("#")[0].endswith("/tell.html?platform=facebook")
    assert tell.evaluate("window.opener") is None  # rel=noopener: the form cannot reach back
    # The warning is where it was, its ticket still good: answered once, recorded once.
    assert page.locator("h1").inner_text() == WARNED
    continue_with(page, "teaching-resource")
    assert answers_since(worker, service, before) == [("continued", 0), ("none", 0)]
    tell.close()
    page.close()
