"""The platforms' acts as they really are (issue 17 §6), end to end: a real `clausewarden proxy`
(mitmdump), real Chromium, and a local upstream standing in for the platforms. One act of each new
flow kind, sent by a page's script as the platform's app sends it, is held (the upstream never gets
it, the script gets a 403) and recorded under the platform it belongs to: a Threads post and a
Threads repost sent to Instagram's host, a post published through the Threads API, a follow request
accepted on Instagram, a friend request accepted on Facebook's older endpoint, and an attachment
forwarded in Messenger. Declining a friend request is not an act and reaches the site."""

from collections.abc import Iterator

import pytest

from tests.support.proxy import Proxy, outbox_events, start_proxy
from tests.support.upstream import Upstream

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.support.browser import CHROMIUM, chromium_args, have_chromium  # noqa: E402
from tests.support.net import stop  # noqa: E402

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")

FORM = "application/x-www-form-urlencoded"
SCRIPT_POST = """async ([path, body, type]) => {
  const r = await fetch(path, {method: "POST", body, headers: {"Content-Type": type}});
  return r.status;
}"""


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proxy, Upstream]]:
    upstream = Upstream()
    proxy = start_proxy(tmp_path_factory.mktemp("platform-acts"), upstream.port, None)
    yield proxy, upstream
    stop(proxy.process)
    upstream.close()


@pytest.fixture(scope="module")
def browser(running: tuple[Proxy, Upstream]) -> Iterator[Browser]:
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


def opened(browser: Browser, url: str) -> Page:
    """A page of the platform, past the clause 7 warning that opening it in working time gets."""
    page = browser.new_context(ignore_https_errors=True).new_page()
    page.goto(url)
    page.get_by_label("A teaching resource for a lesson").check()
    page.get_by_role("button", name="This is school business — continue").click()
    page.get_by_role("heading", name="UPSTREAM PAGE").wait_for()
    return page


def sent(upstream: Upstream, marker: bytes) -> int:
    return sum(marker in r for r in upstream.requests)


# (page opened, path the script posts to, body, platform recorded, act recorded). A held act's
# warning shows on the next page of its platform: each platform's page is opened before its act
# (Threads' acts on Instagram's host are Threads', so Instagram's pages are not about them).
ACTS = [
    pytest.param(
        "https://graph.threads.net/",
        "/v1.0/me/threads_publish?creation_id=1789",
        "m3=1",
        "threads",
        "post",
        id="publishing a Threads API media container (upload then publish)",
    ),
    pytest.param(
        "https://i.instagram.com/",
        "/api/v1/media/configure_text_only_post/",
        "signed_body=SIGNATURE.%7B%22publish_mode%22%3A%22text_post%22%2C%22caption%22%3A%22m1%22%7D",
        "threads",
        "post",
        id="a Threads post sent to Instagram's host",
    ),
    pytest.param(
        "https://i.instagram.com/",
        "/api/v1/repost/create_repost/",
        "media_id=3141592653589793238&m2=1",
        "threads",
        "post",
        id="a Threads repost sent to Instagram's host",
    ),
    pytest.param(
        "https://i.instagram.com/",
        "/api/v1/friendships/approve/25025320/",
        "user_id=25025320&m4=1",
        "instagram",
        "connect",
        id="accepting an Instagram follow request",
    ),
    pytest.param(
        "https://www.facebook.com/",
        "/requests/friends/ajax/",
        "viewer_id=1&frefs%5B0%5D=jwl&action=confirm&m5=1",
        "facebook",
        "connect",
        id="accepting a Facebook friend request (older endpoint)",
    ),
    pytest.param(
        "https://www.messenger.com/",
        "/mercury/attachments/forward/",
        "attachment_id=1234&recipient_map%5B1%5D=2&m6=1",
        "messenger",
        "message",
        id="forwarding an attachment in Messenger (share)",
    ),
]


def test_declining_a_friend_request_is_not_an_act_and_reaches_the_site(
    browser: Browser, running: tuple[Proxy, Upstream]
) -> None:
    proxy, upstream = running
    page = opened(browser, "https://www.facebook.com/")
    before = len(outbox_events(proxy))
    body = "viewer_id=1&frefs%5B0%5D=jwl&action=reject&decline=1"
    assert page.evaluate(SCRIPT_POST, ["/requests/friends/ajax/", body, FORM]) == 200
    assert sent(upstream, b"decline=1") == 1
    assert outbox_events(proxy)[before:] == []
    page.context.close()


@pytest.mark.parametrize(("url", "path", "body", "platform", "action"), ACTS)
def test_the_act_is_held_and_recorded_under_its_platform(
    browser: Browser,
    running: tuple[Proxy, Upstream],
    url: str,
    path: str,
    body: str,
    platform: str,
    action: str,
) -> None:
    proxy, upstream = running
    marker = body.rsplit("&", 1)[-1].encode() if "&" in body else body.encode()
    page = opened(browser, url)
    before = len(outbox_events(proxy))
    assert page.evaluate(SCRIPT_POST, [path, body, FORM]) == 403
    assert sent(upstream, marker) == 0  # never reached the site
    events = outbox_events(proxy)[before:]
    assert [(e["platform"], e["action"], e["held"]) for e in events] == [(platform, action, True)]
    page.context.close()


def test_a_threads_act_held_on_instagrams_host_is_warned_and_continued_on_threads(
    browser: Browser, running: tuple[Proxy, Upstream]
) -> None:
    """Runs after the acts above: the Threads acts held on i.instagram.com wait for Threads' next
    page (not Instagram's), and Continue there opens Threads' acts, sent to Instagram's host too."""
    proxy, upstream = running
    page = browser.new_context(ignore_https_errors=True).new_page()
    page.goto("https://www.threads.com/")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Your post or comment on Threads was not sent"
    )
    page.get_by_label("Other school business").check()
    page.get_by_role("button", name="This is school business — continue").click()
    page.get_by_role("heading", name="UPSTREAM PAGE").wait_for()
    assert page.url == "https://www.threads.com/"
    body = "media_id=3141592653589793238&again=1"
    # The app's repost, sent again from a page of Threads to Instagram's host as the app does.
    status = page.evaluate(
        """async (body) => (await fetch("https://i.instagram.com/api/v1/repost/create_repost/",
             {method: "POST", body, mode: "no-cors",
              headers: {"Content-Type": "application/x-www-form-urlencoded"}})).type""",
        body,
    )
    assert status == "opaque"
    assert sent(upstream, b"again=1") == 1
    page.context.close()
