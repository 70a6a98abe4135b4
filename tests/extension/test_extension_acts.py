"""Acts held by the extension, in a real Chromium with the packaged extension and a running service.

A page on www.facebook.com (the local HTTPS site of local_site.py) sends a friend request from its
own script. The browser is signed in with the school's approved Facebook account, which may
browse, post and message but not connect, so the page opens and the friend request is warned
(clause 11.4.3). The extension's act rule (declarativeNetRequest) holds it: the site never
receives it, the page's script sees a failure, the member of staff sees the clause at once (a
notification and a notice in the page, with the warning page's wording and choices), and after
Continue with a reason the repeated request goes through. A friend request posted as a form (a
page navigation, as on mbasic.facebook.com) gets the warning page instead.
"""

import json
import re
import sqlite3
from collections import Counter
from typing import Any

import pytest

from tests.support import extension as shared
from tests.support.axe import assert_accessible
from tests.support.browser import artifact_path, have_chromium
from tests.support.extension import (
    SCHOOL_ACCOUNT,
    SEND,
    act_rule_for_friend_requests,
    clause_text,
    exported_events,
    facebook_redirected,
    posted,
    signed_in_with_the_school_account,
    wait_until,
)
from tests.support.local_site import Site

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


def test_a_friend_request_sent_by_the_page_is_held_and_the_clause_shown_in_the_page(
    browser: tuple[Any, Any], site: Site
) -> None:
    context, worker = browser
    signed_in_with_the_school_account(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    assert page.locator("h1").inner_text() == "LOCAL www.facebook.com"
    before = len(posted(site))
    status = page.evaluate(SEND)
    assert str(status).startswith("failed")  # the page's script sees a failure
    # The notice, in the page, at once: the warning page's wording and choices.
    heading = page.locator("#clausewarden-held-act #cw-heading")
    heading.wait_for()
    assert heading.inner_text() == "Your friend request or invitation on Facebook was not sent"
    notice = page.locator("#clausewarden-held-act .notice").inner_text()
    assert "Clause 11.4.3" in notice
    assert clause_text("11.4.3")[:80] in notice
    # Nothing says the person is a pupil or a parent: 11.4.3 and 8.1 are quoted on that condition.
    assert "If this person is a pupil, a parent or a carer, clause 11.4.3 says:" in notice
    assert "If this person is a pupil, a parent or a carer, clause 8.1 says:" in notice
    reason = page.locator("#clausewarden-held-act #cw-reason").inner_text()
    assert "friend request" in reason and "rule" not in reason  # staff read no rule ids
    assert page.locator("#clausewarden-held-act #cw-go-back").inner_text() == "Go back"
    assert (
        page.locator("#clausewarden-held-act #cw-continue").inner_text()
        == "This is school business — continue"
    )
    assert "Why do you need Facebook now?" in notice
    assert "Not recorded: the address of the page" in notice
    # Focus moves to the notice, so a keyboard or screen reader user is told.
    assert page.evaluate(
        "document.activeElement && document.activeElement.id === 'clausewarden-held-act'"
    )
    page.screenshot(path=artifact_path("extension-held-act-notice.png"))
    # A notification too.
    tab_notifications = worker.evaluate("chrome.notifications.getAll().then(n => Object.keys(n))")
    assert any(n.startswith("held-") for n in tab_notifications)
    # The site never received it.
    assert len(posted(site)) == before
    # No reason is chosen for them: Continue first asks for one, and nothing is opened.
    assert page.locator("#clausewarden-held-act input[name='cw-reason']").count() > 1
    assert page.locator("#clausewarden-held-act input[name='cw-reason']:checked").count() == 0
    page.locator("#clausewarden-held-act #cw-continue").click()
    page.locator("#clausewarden-held-act .error", has_text="Choose one of the reasons").wait_for()
    assert act_rule_for_friend_requests(worker)
    assert str(page.evaluate(SEND)).startswith("failed")
    assert len(posted(site)) == before
    # Continue with a reason that can send a friend request: the repeated request goes through.
    # (The 8.1 reason tells the Headteacher instead: a button of its own, not a reason to send.)
    assert page.locator("#clausewarden-held-act input[value='report-contact']").count() == 0
    assert page.locator("#clausewarden-held-act button[data-reason='report-contact']").count() == 1
    page.locator("#clausewarden-held-act input[value='other-school-business']").check()
    page.locator("#clausewarden-held-act #cw-continue").click()
    page.locator("#clausewarden-held-act #cw-heading", has_text="is open for").wait_for()
    wait_until(lambda: not act_rule_for_friend_requests(worker), "the act rule to go")
    assert page.evaluate(SEND) == 200
    assert len(posted(site)) == before + 1
    page.close()


def test_continue_on_a_page_warning_opens_its_pages_but_never_its_acts(
    browser: tuple[Any, Any], site: Site
) -> None:
    # As the proxy: Continue on Facebook's own warning lets its pages open; a friend request the
    # page then sends is still held (only Continue on a held act opens acts).
    context, worker = browser
    shared.reset(context, worker)
    wait_until(lambda: facebook_redirected(worker), "the facebook redirect rule")
    wait_until(lambda: act_rule_for_friend_requests(worker), "the act rule for friend requests")
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#continue")
    page.check("input[value='teaching-resource']")
    page.click("#continue")
    page.wait_for_url("https://www.facebook.com/")
    assert page.locator("h1").inner_text() == "LOCAL www.facebook.com"
    wait_until(lambda: not facebook_redirected(worker), "the facebook redirect rule to go")
    assert act_rule_for_friend_requests(worker)
    before = len(posted(site))
    assert str(page.evaluate(SEND)).startswith("failed")
    heading = page.locator("#clausewarden-held-act #cw-heading")
    heading.wait_for()
    assert heading.inner_text() == "Your friend request or invitation on Facebook was not sent"
    assert len(posted(site)) == before
    page.close()


def test_go_back_on_the_notice_keeps_the_act_unsent(browser: tuple[Any, Any], site: Site) -> None:
    context, worker = browser
    signed_in_with_the_school_account(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    before = len(posted(site))
    assert str(page.evaluate(SEND)).startswith("failed")
    page.locator("#clausewarden-held-act #cw-go-back").click()
    page.locator("#clausewarden-held-act").wait_for(state="detached")
    assert str(page.evaluate(SEND)).startswith("failed")  # still held
    assert len(posted(site)) == before
    page.close()


def test_a_friend_request_posted_as_a_form_gets_the_warning_page(
    browser: tuple[Any, Any], site: Site
) -> None:
    context, worker = browser
    signed_in_with_the_school_account(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    before = len(posted(site))
    page.evaluate(
        "() => { const f = document.createElement('form'); f.method = 'post'; "
        "f.action = '/ajax/add_friend/action'; const i = document.createElement('input'); "
        "i.name = 'to_friend'; i.value = '4'; f.append(i); document.body.append(f); f.submit(); }"
    )
    page.wait_for_selector("#reason:not(:empty)")
    assert page.evaluate("location.href").startswith("chrome-extension://")
    assert (
        page.locator("h1").inner_text()
        == "Your friend request or invitation on Facebook was not sent"
    )
    clauses = page.locator("#clauses").inner_text()
    assert "Clause 11.4.3" in clauses
    assert "If this person is a pupil, a parent or a carer, clause 11.4.3 says:" in clauses
    assert page.locator("#next-step").is_visible()
    assert len(posted(site)) == before
    page.close()


def test_the_held_acts_arrive_in_the_service_as_held(
    browser: tuple[Any, Any], service: dict[str, Any]
) -> None:
    context, worker = browser
    worker.evaluate("clausewarden.ship()")

    def arrived() -> list[dict[str, Any]] | None:
        events = [e for e in exported_events(service) if e["action"] == "connect"]
        kinds = {(e["response"], bool(e.get("held"))) for e in events}
        wanted = {("none", True), ("continued", True), ("went_back", True)}
        return events if wanted <= kinds else None

    events = wait_until(arrived, "the held acts in the service", timeout=30)
    for event in events:
        assert event["platform"] == "facebook"
        assert event["rule"].startswith("connect")
        assert SCHOOL_ACCOUNT["account_id"] not in str(event)
    continued = [e for e in events if e["response"] == "continued"]
    assert {e["reason_category"] for e in continued} == {"other-school-business"}


def test_tell_the_headteacher_from_the_warning_page_reaches_the_service_with_a_reference(
    browser: tuple[Any, Any], service: dict[str, Any]
) -> None:
    context, worker = browser
    context.clear_cookies()
    worker.evaluate("chrome.storage.session.clear().then(() => clausewarden.refreshRules())")
    wait_until(lambda: facebook_redirected(worker), "the facebook redirect rule")
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#tell-headteacher")
    with context.expect_page() as opened:
        page.click("#tell-headteacher", modifiers=["Shift"])  # a tab of its own
    form = opened.value
    form.wait_for_selector("#kind-contact")
    assert form.locator("#platform").input_value() == "facebook"
    assert "the one place where a name enters ClauseWarden" in form.content()
    # The school names a line manager: the form says who receives what (clauses 5.3, 10.2).
    assert form.locator("#who-receives th").all_inner_texts() == ["the Headteacher", "Mr Lee"]
    assert_accessible(form, "the extension's Tell form with two recipients")
    form.click("#send")  # nothing filled in: each problem named, nothing sent
    form.wait_for_selector("#problem:not([hidden]) li")
    assert form.locator("#problem li").count() == 5
    form.check("#kind-press")  # clause 10.2: a press enquiry goes to the Headteacher alone
    form.check("#to-lm-ks1")
    form.fill("#what_happened", "The Gazette asked me for a comment on the new building.")
    form.fill("#name", "Mr Example Teacher")
    form.fill("#contact", "extension 12")
    form.click("#send")
    form.wait_for_selector("#problem:not([hidden]) li")
    assert form.locator("#problem li").all_inner_texts() == [
        "Mr Lee does not receive this kind of report: choose the Headteacher."
    ]
    form.check("#to-headteacher")
    form.check("#kind-contact")
    form.fill("#what_happened", "A parent of a pupil in Year 4 sent me a friend request.")
    form.fill("#name", "Mr Example Teacher")
    form.fill("#contact", "extension 12")
    form.click("#send")
    reference = form.locator("#reference")
    reference.wait_for()
    assert form.locator("h1").inner_text() == "Sent to the Headteacher"
    with sqlite3.connect(service["data"] / "clausewarden.db") as db:
        rows = db.execute("SELECT reference, kind, name, received_on FROM staff_reports").fetchall()
        kept = {row[1] for row in db.execute("PRAGMA table_info(staff_reports)")}
        [to] = db.execute(
            "SELECT recipient FROM staff_reports WHERE reference = ?", (reference.inner_text(),)
        ).fetchone()
    assert to == "headteacher"
    assert (reference.inner_text(), "contact", "Mr Example Teacher") in [r[:3] for r in rows]
    # The day only, no sensor, no platform (issue 16: they narrowed a report to a device).
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[3]) for r in rows)
    assert not {"sensor", "platform", "received_at"} & kept
    # Nothing of it joins the events.
    assert "Mr Example Teacher" not in str(exported_events(service))
    form.screenshot(path=artifact_path("extension-tell-sent.png"), full_page=True)
    form.close()
    page.close()


def test_the_extensions_report_form_offers_what_the_service_accepts() -> None:
    import json
    import subprocess

    from policy.staff_report import KINDS, OTHER_PLATFORM, TEXT_LIMITS

    script = (
        "import('./js/tell.js').then(m => console.log(JSON.stringify("
        "{kinds: m.KINDS, limits: m.TEXT_LIMITS, other: m.OTHER_PLATFORM})))"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=shared.EXTENSION,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(out) == {"kinds": KINDS, "limits": TEXT_LIMITS, "other": OTHER_PLATFORM}


MESSAGE = (
    "() => fetch('/messages/send/', {method: 'POST', headers: {'Content-Type': "
    "'application/x-www-form-urlencoded'}, body: 'body=hello+parent'})"
    ".then(r => r.status, e => 'failed: ' + e.message)"
)


def messages_posted(site: Site) -> int:
    return sum(hit.startswith("POST /messages/send/") for hit in site.hits)


def held_notice(page: Any, heading: str) -> Any:
    notice = page.locator("#clausewarden-held-act")
    notice.locator("#cw-heading", has_text=heading).wait_for()
    return notice


def test_the_8_1_reason_on_a_held_message_opens_tell_and_continue_opens_messages_only(
    browser: tuple[Any, Any], site: Site, service: dict[str, Any]
) -> None:
    context, worker = browser
    worker.evaluate("clausewarden.ship()")  # what earlier tests recorded is in the service now
    connects_before = sum(
        e["held"] and e["action"] == "connect" and e["response"] == "none"
        for e in exported_events(service)
    )
    shared.reset(context, worker)
    wait_until(lambda: facebook_redirected(worker), "the facebook redirect rule")
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#continue")
    page.check("input[value='teaching-resource']")
    page.click("#continue")
    page.wait_for_url("https://www.facebook.com/")

    # A message held: the 8.1 reason is no reason to send it, it opens Tell the Headteacher.
    assert str(page.evaluate(MESSAGE)).startswith("failed")
    notice = held_notice(page, "Your message on Facebook was not sent")
    assert notice.locator("input[value='report-contact']").count() == 0
    assert notice.locator("input[value='teaching-resource']").count() == 0
    assert "privacy notice" in notice.locator("#cw-recorded").inner_text()
    page.screenshot(path=artifact_path("extension-held-message-tell-instead.png"))
    with context.expect_page() as opened:
        notice.locator("button[data-reason='report-contact']").click()
    form = opened.value
    form.wait_for_selector("#kind-contact")
    assert form.url.endswith("tell.html?platform=facebook&kind=contact")
    assert form.locator("#platform").input_value() == "facebook"
    assert form.locator("#kind-contact").is_checked()
    notice.locator("#cw-told").wait_for()
    form.close()
    assert messages_posted(site) == 0

    # Sent again it is held again; Continue with a reason that can send it: it goes through.
    assert str(page.evaluate(MESSAGE)).startswith("failed")
    notice = held_notice(page, "Your message on Facebook was not sent")
    notice.locator("input[value='other-school-business']").check()
    notice.locator("#cw-continue").click()
    notice.locator("#cw-heading", has_text="is open for").wait_for()
    wait_until(lambda: page.evaluate(MESSAGE) == 200, "the message to go through")
    assert messages_posted(site) == 1

    # That Continue opened messages, not every act: a friend request is held, with 11.4.3.
    before = len(posted(site))
    assert str(page.evaluate(SEND)).startswith("failed")
    notice = held_notice(page, "Your friend request or invitation on Facebook was not sent")
    assert notice.locator("h3").first.inner_text().startswith("Clause 11.4.3")
    assert len(posted(site)) == before
    page.close()

    # In the service: the message's four events, and the friend request's own (11.4.3).
    worker.evaluate("clausewarden.ship()")

    def arrived() -> list[dict[str, Any]] | None:
        events = [e for e in exported_events(service) if e["held"]]
        messages = Counter(e["response"] for e in events if e["action"] == "message")
        connects = [e for e in events if e["action"] == "connect" and e["response"] == "none"]
        done = messages == {"none": 2, "went_back": 1, "continued": 1}
        return connects if done and len(connects) == connects_before + 1 else None

    connects = wait_until(arrived, "the held acts in the service", timeout=30)
    assert all(json.loads(e["may_apply"])[0] == "11.4.3" for e in connects)  # issue 17: may apply
