"""Chromium (Playwright, /usr/bin/chromium) against a real `clausewarden serve`: log in, see the
charts, filter the event log, export CSV, add a school account as admin and approve it as
headteacher, and see it in /api/v1/bundle. A viewer cannot reach admin actions; a form posted
without its CSRF token is refused. Screenshots go to test-artifacts/."""

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.support.service import PASSWORD, Service, event, seed_store

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium  # noqa: E402

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")


def _api(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        url,
        data=orjson.dumps(body) if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return orjson.loads(response.read())


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[tuple[str, str]]:
    data = tmp_path_factory.mktemp("browser-service")
    users = {"alice": "admin", "helen": "headteacher", "victor": "viewer"}
    token = seed_store(data, users, ["proxy1"])["proxy1"]
    service = Service(data)
    url = service.url
    try:
        service.start()
        process = service.process
        assert process is not None
        now = datetime.now(UTC).replace(minute=0, second=0)
        batch = []
        for day in range(6):
            at = (now - timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")
            for d in range(4):
                batch.append(event(time=at, device=f"{day:02d}{d:030x}"))
            for d in range(3):  # x on 3 devices a day: k=3, so the log shows it
                device = f"{day:02d}{d + 10:030x}"
                batch.append(
                    event(time=at, platform="x", outcome="log", clauses=["7"], device=device)
                )
        assert _api(f"{url}/api/v1/events", token, {"events": batch})["stored"] == 42
        yield url, token
        assert process.poll() is None, "the service died during the tests"
    finally:
        service.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args())
        yield browser
        browser.close()


def _login(browser: Browser, url: str, name: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{url}/")
    assert "/login" in page.url
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")
    return page


def test_admin_sees_the_dashboard_filters_the_log_and_exports_csv(browser, service):
    url, _token = service
    page = _login(browser, url, "alice")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.locator("svg.chart").count() >= 5
    assert page.locator("svg.chart rect").count() > 10
    assert page.locator("#total-events").inner_text() == "42"
    page.screenshot(path=artifact_path("service-dashboard.png"), full_page=True)
    page.set_viewport_size({"width": 800, "height": 1100})  # a tablet
    page.screenshot(path=artifact_path("service-dashboard-tablet.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Event log").click()
    page.get_by_label("Outcome").select_option("log")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/events?**outcome=log**")
    rows = page.locator("table.log tbody tr")
    assert rows.count() == 6
    assert all(rows.nth(i).locator("td").nth(1).inner_text() == "x" for i in range(6))
    page.screenshot(path=artifact_path("service-event-log.png"), full_page=True)
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    path = info.value.path()
    lines = Path(path).read_text().splitlines()
    # a cell a day, then the line saying how many cells are hidden and why
    assert lines[0].startswith("day,platform") and len(lines) == 8
    assert lines[-1].startswith("# 0 cells hidden")
    page.context.close()


def test_headteacher_approval_of_a_new_account_reaches_the_bundle(browser, service):
    url, token = service
    page = _login(browser, url, "alice")
    page.get_by_role("link", name="School accounts").click()
    form = page.locator("#add-account")
    form.locator("[name=id]").fill("wycliffe-x")
    form.locator("[name=platform]").select_option("x")
    form.locator("[name=account_id]").fill("1234567")
    form.locator("[name=label]").fill("Wycliffe PTA on X")
    form.get_by_role("button", name="Add (waits for approval)").click()
    assert page.locator("#pending").get_by_text("wycliffe-x").is_visible()
    assert page.get_by_role("button", name="Approve").count() == 0  # not for an admin
    assert _api(f"{url}/api/v1/bundle", token)["accounts"] == []
    page.context.close()
    page = _login(browser, url, "helen")
    page.get_by_role("link", name="School accounts").click()
    page.screenshot(path=artifact_path("service-accounts-pending.png"), full_page=True)
    page.locator("#pending").get_by_role("button", name="Approve").click()
    assert page.locator("#approved").get_by_text("wycliffe-x").is_visible()
    page.screenshot(path=artifact_path("service-accounts-approved.png"), full_page=True)
    accounts = _api(f"{url}/api/v1/bundle", token)["accounts"]
    assert [(a["id"], a["approved_by"]) for a in accounts] == [("wycliffe-x", "helen")]
    page.context.close()


def test_a_viewer_cannot_reach_admin_actions_and_forms_need_their_csrf_token(browser, service):
    url, _token = service
    page = _login(browser, url, "victor")
    nav = page.get_by_role("navigation")
    assert nav.get_by_role("link", name="Sensors").count() == 0
    assert nav.get_by_role("link", name="Settings").count() == 0
    for path in ("/sensors", "/users", "/settings"):
        assert page.goto(f"{url}{path}").status == 403
    page.goto(f"{url}/accounts")
    assert page.locator("#add-account").count() == 0
    page.screenshot(path=artifact_path("service-viewer-accounts.png"), full_page=True)
    page.context.close()
    page = _login(browser, url, "alice")
    # the admin's own session, but a form without its token (as a cross-site page would post)
    response = page.request.post(f"{url}/sensors", form={"name": "forged"})
    assert response.status == 403
    page.goto(f"{url}/sensors")
    assert "forged" not in page.content()
    page.context.close()


def test_a_new_user_changes_their_password_on_its_own_page_and_logs_in_again(browser, service):
    url, _token = service
    admin = _login(browser, url, "alice")
    admin.get_by_role("link", name="Users").click()
    admin.get_by_label("Name", exact=True).fill("pat")
    admin.get_by_label("Role", exact=True).select_option("viewer")
    admin.get_by_label("Password (10+ characters)").fill(PASSWORD)
    admin.get_by_role("button", name="Add", exact=True).click()
    admin.wait_for_url(f"{url}/users?done=added")
    assert admin.get_by_role("status").inner_text() == "The user was added."
    admin.context.close()
    page = _login(browser, url, "pat")
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Your present password").fill(PASSWORD)
    page.get_by_label("New password (10+ characters)").fill("pats-own-passphrase")
    page.get_by_label("The new password again").fill("pats-own-passphrase")
    page.screenshot(path=artifact_path("service-password.png"), full_page=True)
    page.get_by_role("button", name="Change my password").click()
    page.wait_for_url(f"{url}/login?done=password")
    assert "Your password has been changed" in page.get_by_role("status").inner_text()
    page.goto(f"{url}/")  # this browser's session ended with the change
    assert "/login" in page.url
    page.get_by_label("Name").fill("pat")
    page.get_by_label("Password").fill("pats-own-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")
    page.context.close()
