"""Held acts (issue 11 §1), end to end: a real `clausewarden proxy` (mitmdump), real Chromium, and
a local upstream standing in for LinkedIn and mbasic.facebook.com. A message sent by the page's
script is held (the upstream never gets it, the script gets a 403 naming the clause) and the
warning shows on the next page of LinkedIn; Continue opens that kind of act and the repeated
message goes through, while an invitation is still held and warned on its own (issue 17); a
message form posted by the page gets the warning page at once. A reason that tells the
Headteacher instead (8.1 on a message, Ask the Headteacher first on a post) leaves the act unsent
and opens the Tell form with the platform chosen."""

import json
from collections.abc import Iterator

import pytest

from tests.support.proxy import Proxy, outbox_events, start_proxy
from tests.support.upstream import Upstream

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium  # noqa: E402
from tests.support.net import stop  # noqa: E402

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")

LINKEDIN = "https://www.linkedin.com"
MBASIC = "https://mbasic.facebook.com"
SEND = "/voyager/api/messaging/conversations?action=create"
INVITE = "/voyager/api/growth/normInvitations"  # a connection invitation (clause 11.4.3)
SHARE = "/voyager/api/contentcreation/normShares"  # a post
FEED = b"<!doctype html><title>Feed</title><h1>LINKEDIN FEED</h1>"
THREAD = (
    b"<!doctype html><title>Thread</title><h1>A THREAD</h1>"
    b'<form method="post" action="/messages/send/"><label for="body">Message</label>'
    b'<textarea id="body" name="body">hello from the form</textarea>'
    b'<button type="submit">Send</button></form>'
)
SCRIPT_SEND = """async (path) => {
  const r = await fetch(path, {method: "POST", body: JSON.stringify({text: "hello parent"}),
    headers: {"Content-Type": "application/json", "Accept": "application/json"}});
  return [r.status, await r.text()];
}"""


@pytest.fixture
def running(tmp_path) -> Iterator[tuple[Proxy, Upstream]]:
    """A proxy of its own for each test: Continue opens acts for the device (here 127.0.0.1)."""
    upstream = Upstream(pages={"/feed/": FEED, "/messages/thread/1": THREAD})
    proxy = start_proxy(tmp_path, upstream.port, None)
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


def continue_with(page: Page, reason: str) -> None:
    page.get_by_label(reason).check()
    page.get_by_role("button", name="This is school business — continue").click()
    page.wait_for_load_state()


def upstream_got(upstream: Upstream, marker: bytes) -> int:
    return sum(marker in r for r in upstream.requests)


def test_a_scripts_message_goes_through_after_continue_but_an_invitation_is_warned_on_its_own(
    browser, running
):
    proxy, upstream = running
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{LINKEDIN}/feed/")  # working time: opening LinkedIn is warned (clause 7) first
    continue_with(page, "A teaching resource for a lesson")
    assert page.get_by_role("heading", name="LINKEDIN FEED").is_visible()

    status, body = page.evaluate(SCRIPT_SEND, SEND)
    assert status == 403
    answer = json.loads(body)
    assert answer["error"] == "held_by_school_policy" and answer["may_apply"] == ["8.1"]
    assert "clause 8.1" in answer["message"]
    assert upstream_got(upstream, b"hello parent") == 0  # never sent upstream

    page.goto(f"{LINKEDIN}/in/someone/")  # the next page of LinkedIn: the held act's warning
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Your message on LinkedIn was not sent"
    )
    headings = page.get_by_role("heading", level=3).all_inner_texts()
    assert headings[0].startswith("Clause 8.1") and headings[1].startswith("Clause 7")
    page.screenshot(path=artifact_path("proxy-held-message.png"), full_page=True)
    # The reasons offered are those that can send a message: not "a teaching resource".
    assert page.get_by_label("A teaching resource for a lesson").count() == 0
    continue_with(page, "Other school business")
    assert page.url == f"{LINKEDIN}/in/someone/"
    assert page.get_by_role("heading", name="UPSTREAM PAGE").is_visible()

    status, _ = page.evaluate(SCRIPT_SEND, SEND)
    assert status == 200
    assert upstream_got(upstream, b"hello parent") == 1  # the repeated message went through

    # Continue opened messages, not every act: an invitation is held, with its own clause.
    status, body = page.evaluate(SCRIPT_SEND, INVITE)
    assert status == 403
    held = json.loads(body)
    assert held["clauses"] == ["7"] and held["may_apply"] == ["11.4.3", "8.1"]
    assert upstream_got(upstream, b"POST /voyager/api/growth/normInvitations") == 0
    page.goto(f"{LINKEDIN}/feed/")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Your friend request or invitation on LinkedIn was not sent"
    )
    assert page.get_by_role("heading", level=3).first.inner_text().startswith("Clause 11.4.3")

    events = outbox_events(proxy)
    messages = [e for e in events if e["action"] == "message"]
    # One warn event for the act (held) and its follow-up; the repeat is not a new warning.
    assert [(e["outcome"], e["response"], e["held"]) for e in messages] == [
        ("warn", "none", True),
        ("warn", "continued", True),
    ]
    assert messages[1]["reason_category"] == "other-school-business"
    assert all(e["clauses"] == messages[0]["clauses"] for e in messages)
    invitations = [e for e in events if e["action"] == "connect"]
    assert [
        (e["outcome"], e["response"], e["held"], e["clauses"], e["may_apply"]) for e in invitations
    ] == [("warn", "none", True, ["7"], ["11.4.3", "8.1"])]
    context.close()


def test_the_8_1_reason_on_a_held_message_opens_tell_with_linkedin_and_never_sends_it(
    browser, running
):
    proxy, upstream = running
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{LINKEDIN}/feed/")
    continue_with(page, "A teaching resource for a lesson")
    status, _ = page.evaluate(SCRIPT_SEND, SEND)
    assert status == 403
    page.goto(f"{LINKEDIN}/in/someone/")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Your message on LinkedIn was not sent"
    )
    # 8.1 is not a reason to continue a message: it is offered as a way to tell the Headteacher.
    assert page.get_by_label("Reporting contact from a pupil or parent (clause 8.1)").count() == 0
    page.get_by_role("button", name="Reporting contact from a pupil or parent (clause 8.1)").click()
    page.wait_for_url("https://clausewarden.internal/tell?platform=linkedin&kind=contact")
    assert page.get_by_role("heading", level=1).inner_text() == "Tell the Headteacher"
    assert page.get_by_label("Which platform?").input_value() == "linkedin"
    assert page.locator("#kind-contact").is_checked()
    page.screenshot(path=artifact_path("proxy-held-message-tell.png"), full_page=True)

    # Nothing was opened: the message, sent again, is held again and never reaches LinkedIn.
    page.goto(f"{LINKEDIN}/feed/")
    status, _ = page.evaluate(SCRIPT_SEND, SEND)
    assert status == 403
    assert upstream_got(upstream, b"hello parent") == 0
    messages = [e for e in outbox_events(proxy) if e["action"] == "message"]
    assert [(e["response"], e["held"], e["reason_category"]) for e in messages] == [
        ("none", True, None),
        ("went_back", True, None),
        ("none", True, None),
    ]
    context.close()


def test_ask_the_headteacher_first_on_a_held_post_leaves_it_unsent_and_opens_tell(browser, running):
    proxy, upstream = running
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{LINKEDIN}/feed/")
    continue_with(page, "A teaching resource for a lesson")
    status, body = page.evaluate(SCRIPT_SEND, SHARE)
    assert status == 403 and json.loads(body)["clauses"] == ["7"]
    page.goto(f"{LINKEDIN}/feed/")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Your post or comment on LinkedIn was not sent"
    )
    page.get_by_role("button", name="Ask the Headteacher first (clause 11.3.6)").click()
    page.wait_for_url("https://clausewarden.internal/tell?platform=linkedin&kind=other")
    assert page.get_by_label("Which platform?").input_value() == "linkedin"
    assert upstream_got(upstream, b"hello parent") == 0
    posts = [e for e in outbox_events(proxy) if e["action"] == "post"]
    assert [(e["response"], e["held"]) for e in posts] == [("none", True), ("went_back", True)]
    context.close()


def test_a_message_form_posted_by_the_page_gets_the_warning_page_at_once(browser, running):
    proxy, upstream = running
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{MBASIC}/messages/thread/1")
    continue_with(page, "Other school business")
    assert page.get_by_role("heading", name="A THREAD").is_visible()

    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Your message on Facebook was not sent"
    )
    assert page.get_by_role("heading", level=3).first.inner_text().startswith("Clause 8.1")
    assert upstream_got(upstream, b"body=hello+from+the+form") == 0

    continue_with(page, "Other school business")  # back to the page the form was on
    assert page.url == f"{MBASIC}/messages/thread/1"
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert upstream_got(upstream, b"body=hello+from+the+form") == 1
    context.close()


def test_going_back_from_a_held_act_is_recorded_once_and_the_act_stays_held(browser, running):
    proxy, upstream = running
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{LINKEDIN}/feed/")
    continue_with(page, "A teaching resource for a lesson")
    path = "/voyager/api/growth/normInvitations"  # a connection invitation
    before = len([e for e in outbox_events(proxy) if e["action"] == "connect"])
    status, _ = page.evaluate(SCRIPT_SEND, path)
    assert status == 403
    page.goto(f"{LINKEDIN}/feed/")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Your friend request or invitation on LinkedIn was not sent"
    )
    page.get_by_role("button", name="Go back").click()
    page.get_by_role("heading", name="LINKEDIN FEED").wait_for()  # back where the act was tried
    status, _ = page.evaluate(SCRIPT_SEND, path)  # going back opened nothing
    assert status == 403
    connects = [e for e in outbox_events(proxy) if e["action"] == "connect"][before:]
    assert [(e["response"], e["held"]) for e in connects] == [
        ("none", True),
        ("went_back", True),
        ("none", True),
    ]
    assert upstream_got(upstream, b"POST /voyager/api/growth/normInvitations") == 0
    context.close()
