"""School accounts under clause 10.3 (issue 17 §2), end to end: a real `clausewarden proxy`, real
Chromium, a local upstream standing in for X and LinkedIn. An approved school account's message
is held and gets the clause 8.1 notice with Continue (not a pass under 10.1); a recommendation
from the school's LinkedIn (a school accounts device group) is refused under 6.2."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.proxy import Proxy, outbox_events, start_proxy
from tests.support.upstream import Upstream

pytest.importorskip("playwright")
from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium  # noqa: E402
from tests.support.net import stop  # noqa: E402

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")

SCHOOL_X = """\
accounts:
  - id: wycliffe-x
    platform: x
    account_id: "2000002"
    label: Wycliffe on X
    approved_by: Miss Newman
    approved_on: 2026-09-01
    actions: [browse, post, message, connect]
"""
# The browser (127.0.0.1) is the school office: its LinkedIn is the school's (no account id in
# LinkedIn's cookies), approved for everything an approval may give.
OFFICE = """\
  - id: classroom-shared
    label: School office
    networks: [127.0.0.0/8]
    school_accounts:
      platforms: [linkedin]
      actions: [browse, post, message, connect]
      approved_by: Miss Newman
      approved_on: 2026-09-01
"""
SEND = """async ([path, body]) => {
  const r = await fetch(path, {method: "POST", body,
    headers: {"Content-Type": "application/json", "Accept": "application/json"}});
  return [r.status, await r.text()];
}"""


def school_config(folder: Path) -> Path:
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    (folder / "accounts.yaml").write_text(SCHOOL_X, encoding="utf-8")
    groups = (folder / "device_groups.yaml").read_text(encoding="utf-8")
    start = groups.index("  - id: classroom-shared\n")
    end = groups.index("  - id: staff-wifi\n")
    (folder / "device_groups.yaml").write_text(groups[:start] + OFFICE + groups[end:])
    return folder


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[tuple[Proxy, Upstream]]:
    folder = tmp_path_factory.mktemp("school-accounts")
    upstream = Upstream(pages={})
    proxy = start_proxy(folder / "proxy", upstream.port, school_config(folder / "config"))
    yield proxy, upstream
    stop(proxy.process)
    upstream.close()


@pytest.fixture(scope="module")
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


def test_a_school_accounts_message_is_held_with_the_clause_8_1_notice_and_continue(
    browser, running
):
    proxy, upstream = running
    context = browser.new_context(ignore_https_errors=True)
    context.add_cookies([{"name": "twid", "value": "u%3D2000002", "url": "https://x.com/"}])
    page = context.new_page()
    page.goto("https://x.com/home")  # the school's own account opens X without a warning
    assert page.get_by_role("heading", name="UPSTREAM PAGE").is_visible()

    status, body = page.evaluate(SEND, ["/i/api/1.1/dm/new2.json", '{"text": "hello parent"}'])
    assert status == 403
    answer = json.loads(body)
    assert answer["error"] == "held_by_school_policy"
    assert answer["clauses"] == ["8.1", "10.3"]  # not a pass under 10.1, and no 11.4.3
    assert not any(b"hello parent" in r for r in upstream.requests)

    page.goto("https://x.com/messages")
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Your message on X (Twitter) was not sent"
    )
    headings = page.get_by_role("heading", level=3).all_inner_texts()
    assert headings[0].startswith("Clause 8.1") and headings[1].startswith("Clause 10.3")
    assert page.get_by_text("You must not contact any student").is_visible()
    continue_button = page.get_by_role("button", name="This is school business — continue")
    assert continue_button.is_visible()
    page.screenshot(path=artifact_path("proxy-school-account-message.png"), full_page=True)

    [event] = [e for e in outbox_events(proxy) if e["action"] == "message"]
    assert (event["account"], event["school_account"], event["outcome"]) == (
        "school",
        "wycliffe-x",
        "warn",
    )
    assert (event["rule"], event["clauses"]) == ("school-account-contact", ["8.1", "10.3"])
    context.close()


def test_a_recommendation_from_the_schools_linkedin_is_refused_under_6_2(browser, running):
    proxy, upstream = running
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto("https://www.linkedin.com/feed/")  # the office's LinkedIn is the school's
    assert page.get_by_role("heading", name="UPSTREAM PAGE").is_visible()

    status, body = page.evaluate(
        SEND, ["/voyager/api/identity/recommendations", '{"text": "a fine teacher"}']
    )
    assert status == 403
    assert json.loads(body)["clauses"] == ["6.2"]
    assert not any(b"a fine teacher" in r for r in upstream.requests)

    page.goto("https://www.linkedin.com/in/someone/")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Your recommendation or endorsement on LinkedIn was not sent"
    )
    assert page.get_by_role("heading", level=3).first.inner_text().startswith("Clause 6.2")
    assert page.get_by_role("button", name="This is school business — continue").count() == 0

    # No approval can include a reference, so it is never the school account's act.
    [event] = [e for e in outbox_events(proxy) if e["action"] == "reference"]
    assert (event["account"], event["device_group"], event["outcome"], event["clauses"]) == (
        "unknown",
        "classroom-shared",
        "block",
        ["6.2"],
    )
    context.close()
