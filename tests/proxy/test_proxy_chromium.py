"""Chromium (Playwright, /usr/bin/chromium) through a real proxy: the warning page renders with
the clause text, Continue loads the page, Go back goes back. Screenshots go to test-artifacts/."""

from collections.abc import Iterator

import pytest

from tests.support.proxy import Proxy, start_proxy
from tests.support.upstream import Upstream

pytest.importorskip("playwright")
from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium  # noqa: E402
from tests.support.net import stop  # noqa: E402

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[tuple[Proxy, Upstream]]:
    upstream = Upstream()
    proxy = start_proxy(tmp_path_factory.mktemp("chromium-proxy"), upstream.port, None)
    yield proxy, upstream
    stop(proxy.process)
    upstream.close()


@pytest.fixture
def browser(running) -> Iterator[Browser]:
    proxy, _ = running
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_args(),
            proxy={"server": f"http://127.0.0.1:{proxy.port}"},
        )
        yield browser
        browser.close()


def test_warning_page_renders_with_the_clause_and_continue_loads_the_page(browser, running):
    context = browser.new_context(ignore_https_errors=True)  # trusts the proxy's test CA
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    assert page.get_by_role("heading", level=1).inner_text() == "Before you continue to Facebook"
    assert page.get_by_role("heading", name="Clause 7").is_visible()
    assert "Wycliffe Church of England Primary School" in page.content()
    page.screenshot(path=artifact_path("proxy-warning-page.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=artifact_path("proxy-warning-page-320px.png"), full_page=True)
    page.get_by_label("A teaching resource for a lesson").check()
    page.get_by_role("button", name="This is school business — continue").click()
    page.wait_for_load_state()
    assert page.url == "https://www.facebook.com/"
    assert page.get_by_role("heading", name="UPSTREAM PAGE").is_visible()
    context.close()


def test_go_back_returns_to_the_previous_page(browser, running):
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto("http://intranet.wycliffe.test/")
    assert page.get_by_role("heading", name="UPSTREAM PAGE").is_visible()
    page.goto("https://www.instagram.com/")
    assert "Before you continue to Instagram" in page.content()
    page.get_by_role("button", name="Go back").click()
    page.wait_for_url("http://intranet.wycliffe.test/")
    assert page.get_by_role("heading", name="UPSTREAM PAGE").is_visible()
    context.close()


def test_warning_page_is_keyboard_operable(browser, running):
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto("https://www.linkedin.com/feed/")
    focused = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.value"))
    assert "go-back" in focused
    context.close()
