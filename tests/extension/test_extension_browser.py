"""The unpacked extension in a real Chromium, against a real running service.

Chromium (new headless mode) loads the package built by `node extension/build.mjs --zip`;
`--host-resolver-rules` maps www.facebook.com and www.bbc.co.uk to a local HTTPS server
(self-signed certificate; Chromium would upgrade http://www.facebook.com anyway, the host is
HSTS-preloaded). `clausewarden serve` runs on
127.0.0.1 with a configuration whose school account is the one the cookie test uses.

A test can't give a browser managed storage, so the extension honours a `chrome.storage.local`
override (service URL, token, sensor name) and a clock offset ONLY while managed storage is empty;
the clock offset puts the browser in the school's most recent working time, whenever this runs.
"""

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from policy import Facts, Policy, decide
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir
from policy.warning import warning_content
from proxy_addon import page as page_module
from tests.support import extension as shared
from tests.support.browser import CHROMIUM, artifact_path, have_chromium
from tests.support.extension import (
    NAVIGATION,
    SCHOOL_ACCOUNT,
    SENSOR,
    clause_text,
    configure,
    exported_events,
    facebook_redirected,
    launch,
    reset,
    school_cookie,
    wait_until,
)
from tests.support.local_site import SITE_HOSTS, Site
from tests.support.net import free_port

pytestmark = pytest.mark.skipif(not have_chromium(), reason=f"no Chromium at {CHROMIUM}")
playwright_api = pytest.importorskip("playwright.sync_api")

# The shared fixtures (module scope: this module's own service, site and browser).
workdir, config_dir, service, site, unpacked, pw, browser = (
    shared.workdir,
    shared.config_dir,
    shared.service,
    shared.site,
    shared.unpacked,
    shared.pw,
    shared.browser,
)


def test_opening_facebook_in_working_time_shows_the_warning_page_with_clause_7(
    browser: tuple[Any, Any], site: Site
) -> None:
    context, worker = browser
    reset(context, worker)
    before = site.hits.count(SITE_HOSTS[0])
    page = context.new_page()
    started = time.monotonic()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#reason:not(:empty)")
    elapsed = time.monotonic() - started
    assert page.url.startswith("chrome-extension://")
    assert page.locator("h1").inner_text() == "Before you continue to Facebook"
    assert "Clause 7" in page.locator("#clauses").inner_text()
    assert clause_text("7")[:80] in page.locator("#clauses").inner_text()
    reason = page.locator("#reason").inner_text()
    assert "during working time gets a warning" in reason and "rule" not in reason  # no rule ids
    assert "Not recorded: the address of the page" in page.content()
    # The redirect happens before the request: the site never saw this navigation.
    assert site.hits.count(SITE_HOSTS[0]) == before
    page.screenshot(path=artifact_path("extension-warning-page.png"), full_page=True)
    print(f"navigation to warning page: {elapsed * 1000:.0f} ms")
    page.close()


def test_the_warning_page_links_the_services_clause_map(
    browser: tuple[Any, Any], service: dict[str, Any]
) -> None:
    # Issue 17 §3: the map of every clause is one page, on the school's service.
    context, worker = browser
    reset(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#reason:not(:empty)")
    link = page.get_by_role("link", name="Which clauses ClauseWarden acts on")
    assert link.is_visible()
    assert link.get_attribute("href") == f"{service['url'].rstrip('/')}/clauses"
    page.close()


def test_the_warning_page_says_what_the_proxys_page_says(
    browser: tuple[Any, Any], config_dir: Path
) -> None:
    # The proxy's template, rendered for the same decision, read as text beside the extension's.
    context, worker = browser
    reset(context, worker)
    policy = Policy.from_bundle(compile_bundle(load_config_dir(config_dir)))
    at = dt.datetime.now(dt.UTC) + dt.timedelta(
        milliseconds=worker.evaluate("chrome.storage.local.get('test.clock_offset_ms')")[
            "test.clock_offset_ms"
        ]
    )
    decision = decide(
        Facts.from_url("https://www.facebook.com/", headers=NAVIGATION, at=at), policy
    )
    proxy_html = page_module.render(
        "warning.html", **warning_content(policy.bundle, decision), ticket="", injection=False
    )
    proxy = context.new_page()
    proxy.set_content(proxy_html)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#reason:not(:empty)")
    assert page.title() == proxy.title()
    for selector in ("h1", ".why", "blockquote", "legend", "fieldset", ".school"):
        assert page.locator(selector).all_inner_texts() == proxy.locator(selector).all_inner_texts()
    texts = page.locator("p").all_inner_texts()
    proxy_texts = proxy.locator("p").all_inner_texts()
    shared = [t for t in proxy_texts if t.startswith(("An anonymised event", "Only the reason"))]
    assert len(shared) == 2 and all(t in texts for t in shared)
    buttons = page.locator("button:visible").all_inner_texts()
    assert buttons == proxy.locator("button:visible").all_inner_texts()
    proxy.close()
    page.close()


def test_no_reason_is_chosen_for_staff_and_continue_asks_for_one(
    browser: tuple[Any, Any], site: Site
) -> None:
    # A preselected reason would bias what is recorded: the page waits for their own choice.
    context, worker = browser
    reset(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#continue")
    assert page.locator("input[name='reason']").count() > 0
    assert page.locator("input[name='reason']:checked").count() == 0
    page.click("#continue")
    assert page.evaluate("document.querySelector('#continue-form').checkValidity()") is False
    assert page.locator("h1").inner_text() == "Before you continue to Facebook"
    page.close()


def test_continue_then_loads_the_page_and_records_the_reason(
    browser: tuple[Any, Any], site: Site
) -> None:
    context, worker = browser
    reset(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#continue")
    page.check("input[value='teaching-resource']")
    page.click("#continue")
    page.wait_for_url("https://www.facebook.com/")
    assert page.locator("h1").inner_text() == "LOCAL www.facebook.com"
    # The allowance holds for the platform: opening it again goes straight through.
    page.goto("https://www.facebook.com/again")
    assert page.locator("h1").inner_text() == "LOCAL www.facebook.com"
    page.close()


def test_go_back_returns_to_the_page_before(browser: tuple[Any, Any], site: Site) -> None:
    context, worker = browser
    reset(context, worker)
    page = context.new_page()
    page.goto("https://www.bbc.co.uk/")
    assert page.locator("h1").inner_text() == "LOCAL www.bbc.co.uk"
    facebook_before = site.hits.count(SITE_HOSTS[0])
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#go-back")
    assert page.url.startswith("chrome-extension://")  # the warning, not Facebook
    page.click("#go-back")
    page.wait_for_url("https://www.bbc.co.uk/")
    assert page.locator("h1").inner_text() == "LOCAL www.bbc.co.uk"
    assert site.hits.count(SITE_HOSTS[0]) == facebook_before  # Facebook was never opened
    page.close()


def test_a_school_account_cookie_lets_facebook_through(browser: tuple[Any, Any]) -> None:
    context, worker = browser
    reset(context, worker)
    context.add_cookies([school_cookie()])
    wait_until(lambda: not facebook_redirected(worker), "the facebook redirect rule to go")
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    assert page.url == "https://www.facebook.com/"
    assert page.locator("h1").inner_text() == "LOCAL www.facebook.com"
    page.close()


def test_a_friend_request_page_is_warned_even_with_the_school_account(
    browser: tuple[Any, Any],
) -> None:
    # No redirect rule covers facebook here (the school account may browse): the worker decides
    # the navigation itself and sends the tab to the warning page.
    context, worker = browser
    reset(context, worker)
    context.add_cookies([school_cookie()])
    wait_until(lambda: not facebook_redirected(worker), "the facebook redirect rule to go")
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    try:
        page.goto("https://www.facebook.com/ajax/add_friend/action")
    except playwright_api.Error as exc:
        assert "ERR_ABORTED" in str(exc)  # the worker replaced this navigation, as it should
    page.wait_for_selector("#reason:not(:empty)")
    # (page.url can lag here: the navigation Playwright started was replaced by the worker's.)
    assert page.evaluate("location.href").startswith("chrome-extension://")
    assert "Clause 11.4.3" in page.locator("#clauses").inner_text()
    # The link is an act: held, as the proxy holds it (policy/respond.py), so the page says it
    # was not sent, what to do now, then why.
    assert (
        page.locator("h1").inner_text()
        == "Your friend request or invitation on Facebook was not sent"
    )
    reason = page.locator("#next-step").inner_text()
    assert "friend request" in reason and "rule" not in reason  # staff read no rule ids
    page.close()


def test_posting_from_a_page_is_recognised_and_recorded(
    browser: tuple[Any, Any], site: Site
) -> None:
    # MV3 can't hold the request: the worker observes it (webRequest), decides, records.
    context, worker = browser
    reset(context, worker)
    context.add_cookies([school_cookie()])
    wait_until(lambda: not facebook_redirected(worker), "the facebook redirect rule to go")
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    status = page.evaluate(
        "fetch('/api/graphql/', {method: 'POST', headers: {'Content-Type': "
        "'application/x-www-form-urlencoded'}, body: "
        "'fb_api_req_friendly_name=ComposerStoryCreateMutation&doc_id=1'}).then(r => r.status)"
    )
    assert status == 200
    assert any("ComposerStoryCreateMutation" in hit for hit in site.hits)

    def recorded() -> bool:
        events = worker.evaluate("chrome.storage.local.get('outbox.events')")
        pending = events.get("outbox.events", [])
        return any(e["action"] == "post" and e["account"] == "school" for e in pending)

    wait_until(lambda: recorded() or posted_in_service(worker), "the post event")
    page.close()


def posted_in_service(worker: Any) -> bool:
    ship = worker.evaluate("chrome.storage.local.get('outbox.ship')").get("outbox.ship") or {}
    return bool(ship.get("sent"))


def test_a_blocked_platform_gets_the_blocked_page_without_continue(
    browser: tuple[Any, Any], site: Site
) -> None:
    context, worker = browser
    reset(context, worker)
    before = site.hits.count("www.tiktok.com")
    page = context.new_page()
    page.goto("https://www.tiktok.com/")
    page.wait_for_selector("#reason:not(:empty)")
    assert page.locator("h1").inner_text() == "TikTok is not available here"
    reason = page.locator("#reason").inner_text()
    assert "is blocked" in reason and "rule" not in reason  # staff read no rule ids
    assert page.locator("#continue").is_hidden()
    assert page.locator("#go-back").get_attribute("class") == "primary"
    assert page.evaluate("document.body.className") == "block"
    assert site.hits.count("www.tiktok.com") == before
    page.close()


def test_a_personal_account_can_be_put_forward_for_approval_from_the_warning_page(
    browser: tuple[Any, Any], service: dict[str, Any], workdir: Path
) -> None:
    context, worker = browser
    reset(context, worker)
    context.add_cookies([{**school_cookie(), "value": "100000000000999"}])
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#register-link")
    page.click("#register-link")
    page.fill("#label", "Year 6   class page")
    page.click("#ask")
    page.wait_for_selector("#register-result:not([hidden])")
    assert page.locator("#register-heading").inner_text() == "Request sent"
    with sqlite3.connect(workdir / "data" / "clausewarden.db") as db:
        rows = db.execute(
            "SELECT platform, account_id, label, status FROM school_accounts "
            "WHERE account_id = '100000000000999'"
        ).fetchall()
    assert rows == [("facebook", "100000000000999", "Year 6 class page", "pending")]
    page.close()


def test_the_events_arrive_in_the_running_service_anonymised(
    browser: tuple[Any, Any], service: dict[str, Any]
) -> None:
    context, worker = browser
    worker.evaluate("clausewarden.ship()")

    def arrived() -> list[dict[str, Any]] | None:
        events = exported_events(service)
        kinds = {(e["rule"], e["response"]) for e in events}
        wanted = {
            ("social-working-time", "none"),
            ("social-working-time", "continued"),
            ("social-working-time", "went_back"),
            ("school-account", "none"),
            ("connect-working-time", "none"),
            ("block-tiktok", "none"),
        }
        return events if wanted <= kinds else None

    events = wait_until(arrived, "the extension's events in the service", timeout=30)
    for event in events:
        assert event["sensor"] == SENSOR
        assert event["platform"] in ("facebook", "tiktok")
        assert event["device"] is None or len(event["device"]) == 32
        text = json.dumps(event)
        assert "www.facebook.com" not in text and SCHOOL_ACCOUNT["account_id"] not in text
        assert "100000000000999" not in text  # the personal account put forward above
    continued = [e for e in events if e["response"] == "continued"]
    assert {e["reason_category"] for e in continued} == {"teaching-resource"}
    school = [e for e in events if e["rule"] == "school-account"]
    assert {e["school_account"] for e in school} == {SCHOOL_ACCOUNT["id"]}
    assert {e["action"] for e in school} == {"browse", "post"}
    assert {e["account"] for e in school} == {"school"}
    status = worker.evaluate("chrome.storage.local.get('outbox.events')")
    assert status.get("outbox.events", []) == []


def test_events_wait_in_the_outbox_across_a_browser_restart_until_the_service_answers(
    pw: Any, workdir: Path, site: Site, service: dict[str, Any], config_dir: Path, unpacked: Path
) -> None:
    profile = workdir / "restart-profile"
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    context, worker = launch(pw, profile, unpacked, site)
    try:
        configure(worker, down, service["token"], config_dir)
        wait_until(lambda: facebook_redirected(worker), "the facebook redirect rule")
        page = context.new_page()
        page.goto("https://www.facebook.com/")
        page.wait_for_selector("#reason:not(:empty)")
        wait_until(lambda: outbox(worker), "the event in the outbox")
        worker.evaluate("clausewarden.ship()")
        wait_until(lambda: ship_state(worker).get("failures", 0) >= 1, "a failed delivery")
        kept = outbox(worker)
    finally:
        context.close()
    context, worker = launch(pw, profile, unpacked, site)
    try:
        assert [e["id"] for e in outbox(worker)] == [e["id"] for e in kept]
        configure(worker, service["url"], service["token"], config_dir)
        ids = {e["id"] for e in kept}
        wait_until(
            lambda: ids <= {e["id"] for e in exported_events(service)},
            "the kept events in the service",
            timeout=30,
        )
        wait_until(lambda: not outbox(worker), "an empty outbox")
    finally:
        context.close()


def outbox(worker: Any) -> list[dict[str, Any]]:
    got = worker.evaluate("chrome.storage.local.get('outbox.events')")
    return list(got.get("outbox.events", []))


def ship_state(worker: Any) -> dict[str, Any]:
    got = worker.evaluate("chrome.storage.local.get('outbox.ship')")
    return dict(got.get("outbox.ship") or {})


def test_options_page_shows_the_state_only(browser: tuple[Any, Any]) -> None:
    context, worker = browser
    page = context.new_page()
    page.goto(worker.url.replace("js/background.js", "options.html"))
    page.wait_for_selector("dd[data-field='Events waiting']")
    text = page.locator("#state").inner_text()
    assert "service" in page.locator("dd[data-field='Policy']").inner_text()
    assert "managed storage is empty" in text
    assert page.locator("input, button, select").count() == 0
    page.screenshot(path=artifact_path("extension-options-page.png"), full_page=True)
    page.close()
