"""The extension force-installed (issue 16 §3): Chrome lets it block in onBeforeRequest, where the
body is seen, so it holds the acts its declarativeNetRequest rules can't (an act named in the
body, a URL in a form the site still reads). Chromium is launched with
--allowlisted-extension-id, which gives the packaged extension what a policy install gives.

The browser is signed in with the school's approved Facebook account, which may post but not
connect (tests/extension/test_extension_acts.py): a page's friend request in such a form never
reaches the site, the page's script sees a failure and the notice shows the clause; a post (which
that account may make) and a read in the same forms still go through."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clausewarden.commands.extension_policy import EXTENSION_ID
from tests.support import extension as shared
from tests.support.browser import CHROMIUM, chromium_args, have_chromium
from tests.support.extension import signed_in_with_the_school_account
from tests.support.local_site import Site

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api")

workdir, config_dir, service, site, unpacked, pw = (
    shared.workdir,
    shared.config_dir,
    shared.service,
    shared.site,
    shared.unpacked,
    shared.pw,
)


@pytest.fixture(scope="module")
def forced(
    pw: Any, workdir: Path, site: Site, service: dict[str, Any], config_dir: Path, unpacked: Path
) -> Iterator[tuple[Any, Any]]:
    context = pw.chromium.launch_persistent_context(
        str(workdir / "forced-profile"),
        executable_path=CHROMIUM,
        headless=False,  # the extension needs the new headless mode, given below
        ignore_https_errors=True,
        args=chromium_args(
            "--headless=new",
            f"--disable-extensions-except={unpacked}",
            f"--load-extension={unpacked}",
            f"--allowlisted-extension-id={EXTENSION_ID}",
            f"--host-resolver-rules={shared.resolver_rules(site.port)}",
        ),
    )
    try:
        worker = (
            context.service_workers[0]
            if context.service_workers
            else context.wait_for_event("serviceworker", timeout=15_000)
        )
        assert worker.url.split("/")[2] == EXTENSION_ID
        shared.configure(worker, service["url"], service["token"], config_dir)
        shared.wait_until(
            lambda: shared.bundle_source(worker) == "service", "the bundle from the service"
        )
        yield context, worker
    finally:
        context.close()


def fetch(path: str, body: str, method: str = "POST") -> str:
    return (
        f"() => fetch({path!r}, {{method: {method!r}, headers: {{'Content-Type': "
        f"'application/x-www-form-urlencoded'}}, body: {body!r}}})"
        ".then(r => r.status, e => 'failed: ' + e.message)"
    )


FRIEND_REQUEST_FORMS = {
    "named in a GraphQL body": fetch(
        "/api/graphql/", "av=1&fb_api_req_friendly_name=FriendingCometFriendRequestSendMutation"
    ),
    "escaped in a GraphQL body": fetch(
        "/api/graphql/", "av=1&fb_api_req_friendly_name=Friending%43ometFriendRequestSendMutation"
    ),
    "a doubled slash": fetch("/ajax//add_friend/action", "to_friend=4&action=add_friend"),
    "a capital": fetch("/Ajax/add_friend/action", "to_friend=4&action=add_friend"),
    "an escaped letter": fetch("/ajax/%61dd_friend/action", "to_friend=4&action=add_friend"),
    "a ; parameter": fetch("/ajax/add_friend/action;x=1", "to_friend=4&action=add_friend"),
    "PUT": fetch("/ajax/add_friend/action", "to_friend=4&action=add_friend", "PUT"),
}


def hits(site: Site, marker: str) -> int:
    return sum(1 for hit in site.hits if marker in hit)


@pytest.mark.parametrize("form", list(FRIEND_REQUEST_FORMS), ids=list(FRIEND_REQUEST_FORMS))
def test_a_friend_request_the_dnr_rules_cannot_see_is_held(
    forced: tuple[Any, Any], site: Site, form: str
) -> None:
    context, worker = forced
    signed_in_with_the_school_account(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    before = len(site.hits)
    assert str(page.evaluate(FRIEND_REQUEST_FORMS[form])).startswith("failed")
    heading = page.locator("#clausewarden-held-act #cw-heading")
    heading.wait_for()
    assert heading.inner_text() == "Your friend request or invitation on Facebook was not sent"
    assert "Clause 11.4.3" in page.locator("#clausewarden-held-act .notice").inner_text()
    # The site records each POST it gets (and has no PUT: one that reached it would be a 501).
    assert [h for h in site.hits[before:] if h.startswith("POST")] == []
    page.close()


def test_a_post_and_a_read_in_the_same_forms_still_reach_the_site(
    forced: tuple[Any, Any], site: Site
) -> None:
    context, worker = forced
    signed_in_with_the_school_account(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    before = hits(site, "POST /api/graphql")
    post = "av=1&fb_api_req_friendly_name=Composer%53toryCreateMutation"
    read = "av=1&fb_api_req_friendly_name=CometNotificationsDropdownQuery"
    assert page.evaluate(fetch("/api/graphql/", post)) == 200
    assert page.evaluate(fetch("/api/graphql/", read)) == 200
    assert hits(site, "POST /api/graphql") == before + 2
    page.close()
