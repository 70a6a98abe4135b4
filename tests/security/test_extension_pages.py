"""Attacks on the extension's warning page by web pages, in a real Chromium with the packaged
extension: framing it (to add warn events, or to trick a click on Continue) and opening it from
another site. The site is a local HTTPS server (tests/extension/local_site.py)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import have_chromium
from tests.support.extension import (
    facebook_redirected,
    latest_working_time,
    launch,
    packaged_extension,
    wait_until,
)
from tests.support.local_site import Site

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api")

FACEBOOK = "https://www.facebook.com/"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, str]]:
    """Chromium with the packaged extension (no service: events stay in its outbox), its clock
    in the school's working time; yields (context, service worker, the extension's id)."""
    import datetime as dt

    workdir = tmp_path_factory.mktemp("extension-attacks")
    site = Site(workdir)
    unpacked = packaged_extension(workdir)
    with playwright_api.sync_playwright() as p:
        context, worker = launch(p, workdir / "profile", unpacked, site)
        try:
            offset = latest_working_time(ROOT / "config") - dt.datetime.now(dt.UTC)
            worker.evaluate(
                "(c) => chrome.storage.local.set({'test.managed_override': {}, "
                "'test.clock_offset_ms': c})",
                int(offset.total_seconds() * 1000),
            )
            worker.evaluate("clausewarden.refreshRules()")
            wait_until(lambda: facebook_redirected(worker), "the facebook redirect rule")
            extension_id = worker.url.split("/")[2]
            yield context, worker, extension_id
        finally:
            context.close()
            site.close()


def warn_events(worker: Any) -> int:
    stored = worker.evaluate("chrome.storage.local.get('outbox.events')").get("outbox.events")
    return sum(1 for e in stored or [] if e["outcome"] == "warn" and e["response"] == "none")


def warned_in_a_tab_of_its_own(context: Any) -> None:
    """A member of staff opens Facebook: the warning page renders (one warn event)."""
    page = context.new_page()
    page.goto(FACEBOOK)
    page.wait_for_selector("#reason:not(:empty)")
    page.close()


def reset(context: Any, worker: Any) -> None:
    context.clear_cookies()
    worker.evaluate("chrome.storage.session.clear().then(() => clausewarden.refreshRules())")
    wait_until(lambda: facebook_redirected(worker), "the facebook redirect rule")


FRAME = """([url, n]) => Promise.all(Array.from({length: n}, () => new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.onload = () => resolve('loaded');
    frame.onerror = () => resolve('error');
    frame.src = url;
    document.body.append(frame);
})))"""


def test_a_web_page_framing_the_warning_page_adds_no_warn_event(chromium):
    context, worker, extension_id = chromium
    reset(context, worker)
    before = warn_events(worker)
    attacker = context.new_page()
    attacker.goto("https://www.bbc.co.uk/")
    warning = f"chrome-extension://{extension_id}/warning.html#{FACEBOOK}"
    attacker.evaluate(FRAME, [warning, 5])
    for frame in attacker.frames[1:]:
        try:  # a frame that did render the page would show its reason here
            frame.wait_for_selector("#reason:not(:empty)", timeout=3000)
        except playwright_api.Error:
            pass
        else:
            pytest.fail("the warning page rendered inside another site's frame")
    warned_in_a_tab_of_its_own(context)  # the worker has answered every message before this
    assert warn_events(worker) == before + 1
    attacker.close()


def test_a_click_on_continue_in_a_frame_grants_no_allowance(chromium):
    context, worker, extension_id = chromium
    reset(context, worker)
    attacker = context.new_page()
    attacker.goto("https://www.bbc.co.uk/")
    warning = f"chrome-extension://{extension_id}/warning.html#{FACEBOOK}"
    attacker.evaluate(FRAME, [warning, 1])
    frame = attacker.frames[1]
    try:  # the click a disguised frame would trick out of the member of staff
        frame.locator("#continue").click(timeout=3000)
    except playwright_api.Error:
        pass
    session = worker.evaluate("chrome.storage.session.get(null)")
    assert "allowance.facebook" not in session
    page = context.new_page()
    page.goto(FACEBOOK)
    page.wait_for_selector("#reason:not(:empty)")  # still warned
    assert page.evaluate("location.href").startswith("chrome-extension://")
    page.close()
    attacker.close()


def test_another_site_opening_the_warning_page_records_nothing(chromium):
    context, worker, extension_id = chromium
    reset(context, worker)
    before = warn_events(worker)
    attacker = context.new_page()
    attacker.goto("https://www.bbc.co.uk/")
    with context.expect_page() as opened:
        attacker.evaluate(
            "(url) => { window.open(url); }",
            f"chrome-extension://{extension_id}/warning.html#{FACEBOOK}",
        )
    popup = opened.value
    popup.wait_for_load_state()
    if popup.url.startswith("chrome-extension://"):  # loaded: it must show no warning
        popup.wait_for_function(
            "!document.getElementById('heading').textContent.startsWith('Checking')"
        )
        assert popup.locator("#heading").inner_text() == "This warning has expired"
        assert popup.locator("#content").is_hidden()
    warned_in_a_tab_of_its_own(context)
    assert warn_events(worker) == before + 1
    popup.close()
    attacker.close()


def test_no_warned_url_stays_in_session_storage_once_the_warning_is_answered(chromium):
    context, worker, _ = chromium
    reset(context, worker)
    page = context.new_page()
    page.goto("https://www.bbc.co.uk/")
    page.goto(f"{FACEBOOK}some/page?x=1")
    page.wait_for_selector("#go-back")
    page.click("#go-back")
    page.wait_for_url("https://www.bbc.co.uk/")
    session = worker.evaluate("chrome.storage.session.get(null)")
    assert "some/page" not in repr(session), session
    page.close()
