"""Attacks on the extension's holding of acts, in a real Chromium with the packaged extension and a
running service: a page's own script pressing Continue on the in-page notice (to let its post
through and forge a "continued" event), choosing the reason for the member of staff, and a page
sending the act again and again until it slips through. The site is the local HTTPS server of
tests/extension/local_site.py; the fixtures are the browser test's."""

from typing import Any

import pytest

from tests.support import extension as acts
from tests.support import extension as shared
from tests.support.browser import have_chromium
from tests.support.local_site import Site

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api")

workdir, config_dir, service, site, unpacked, pw, browser = (
    shared.workdir,
    shared.config_dir,
    shared.service,
    shared.site,
    shared.unpacked,
    shared.pw,
    shared.browser,
)

PRESS_CONTINUE = """() => {
  const root = document.getElementById('clausewarden-held-act').shadowRoot;
  const other = root.querySelector("input[value='other-school-business']");
  other.checked = true;
  other.dispatchEvent(new Event('change', {bubbles: true}));
  root.getElementById('cw-continue').click();
  root.getElementById('cw-continue').dispatchEvent(new MouseEvent('click', {bubbles: true}));
  // the route to the Headteacher too: it would answer the notice and open a tab
  root.querySelector("button[data-reason='report-contact']").click();
}"""


def test_a_page_script_cannot_press_continue_on_the_held_act_notice(
    browser: tuple[Any, Any], site: Site, service: dict[str, Any]
) -> None:
    context, worker = browser
    acts.signed_in_with_the_school_account(context, worker)
    pages_before = len(context.pages)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    before = len(acts.posted(site))
    assert str(page.evaluate(acts.SEND)).startswith("failed")
    page.locator("#clausewarden-held-act #cw-continue").wait_for()
    page.evaluate(PRESS_CONTINUE)  # the page's own script, synthetic events
    # The act rule stays, the notice stays, and the page's next attempt is still held.
    assert acts.act_rule_for_friend_requests(worker)
    assert page.locator("#clausewarden-held-act #cw-continue").is_visible()
    assert page.locator("#clausewarden-held-act #cw-told").count() == 0
    assert len(context.pages) == 1 + pages_before  # no Tell tab opened by the page's script
    for _ in range(5):
        assert str(page.evaluate(acts.SEND)).startswith("failed")
    assert len(acts.posted(site)) == before
    # The member of staff's own click continues, with the reason they chose (the page's forged
    # choice of reason is not taken).
    page.locator("#clausewarden-held-act input[value='school-account']").check()
    page.locator("#clausewarden-held-act #cw-continue").click()
    page.locator("#clausewarden-held-act #cw-heading", has_text="is open for").wait_for()

    def continued() -> list[dict[str, Any]]:
        outbox = worker.evaluate("chrome.storage.local.get('outbox.events')").get("outbox.events")
        return [
            e
            for e in [*(outbox or []), *shared.exported_events(service)]
            if e["response"] == "continued" and e["action"] == "connect"
        ]

    events = shared.wait_until(continued, "the continued event")
    assert {e["reason_category"] for e in events} == {"school-account"}
    page.close()


def test_a_page_script_cannot_get_the_notice_content_or_its_ticket(
    browser: tuple[Any, Any],
) -> None:
    # A web page can't message the extension (no externally_connectable), so it can't take the
    # notice's ticket for itself and answer in the member of staff's place.
    context, worker = browser
    acts.signed_in_with_the_school_account(context, worker)
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    assert str(page.evaluate(acts.SEND)).startswith("failed")
    extension_id = worker.url.split("/")[2]
    answer = page.evaluate(
        """(id) => {
          const runtime = globalThis.chrome && globalThis.chrome.runtime;
          if (!runtime || !runtime.sendMessage) return 'no runtime';
          return new Promise((resolve) => {
            try { runtime.sendMessage(id, {what: 'held'}, (r) => resolve(r ?? 'no answer')); }
            catch (e) { resolve('refused: ' + e.message); }
          });
        }""",
        extension_id,
    )
    assert answer == "no runtime" or str(answer).startswith(("refused", "no answer"))
    page.locator("#clausewarden-held-act #cw-go-back").wait_for()
    page.close()
