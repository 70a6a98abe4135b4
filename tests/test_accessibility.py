"""Every page meets WCAG 2.2 AA: axe-core (tests/a11y, pinned) in real Chromium finds nothing.

- The service: a real `clausewarden serve` process on a real SQLite file, its users made with
  `clausewarden user add` (the first headteacher stands approved; a governor waits for approval,
  so the Users page shows it), a term of sample events (service/sample.py, as `demo
  --sample-data` loads them), a staff report; every admin page for the role that sees the most,
  the login and password pages, /privacy, and the 404 and 403 error pages.
- The proxy: a real `clausewarden proxy` (mitmdump) sending to that service, Chromium through it:
  the warning page (also at 320 CSS pixels wide, where it must reflow without scrolling sideways),
  the blocked page, a held message's warning, the notices, the self-view, the CA page, the
  privacy page, and Tell the Headteacher with the page after it is sent.
- The extension, loaded unpacked in Chromium: warning.html, tell.html and the options page.

A failure lists each rule broken, its impact, what to do and where (tests/support/axe.py).
"""

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.axe import MISSING, assert_accessible, have_axe
from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium
from tests.support.local_site import Site, resolver_rules
from tests.support.net import stop
from tests.support.proxy import BLOCK_TIKTOK_RULE, Proxy, start_proxy
from tests.support.service import Service
from tests.support.upstream import Upstream

ROOT = Path(__file__).resolve().parents[1]

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.skipif(not have_chromium(), reason=f"needs Chromium at {CHROMIUM}"),
]

PASSWORD = "a-long-password"
SENSOR = "proxy-a11y"
USERS = {  # name -> role, in the order they are made (the first headteacher stands approved)
    "helen": "headteacher",
    "alice": "admin",
    "victor": "viewer",
    "gill": "governor",  # waits for a headteacher's approval
}
THREAD = (
    b'<!doctype html><html lang="en"><title>Thread</title><h1>A THREAD</h1>'
    b'<form method="post" action="/messages/send/"><label for="body">Message</label>'
    b'<textarea id="body" name="body">hello from the form</textarea>'
    b'<button type="submit">Send</button></form></html>'
)


@pytest.fixture(scope="module", autouse=True)
def axe_installed() -> None:
    if not have_axe():
        pytest.fail(MISSING)


def _cli(*args: str, data: Path, config: Path, password: str | None = None) -> str:
    env = {**os.environ, **({"CLAUSEWARDEN_PASSWORD": password} if password else {})}
    done = subprocess.run(
        [sys.executable, "-m", "clausewarden", *args, "--data-dir", str(data)]
        + ["--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _load_sample_events(data: Path, config: Path) -> int:
    """A term of sample events, exactly as `clausewarden demo --sample-data` loads them."""
    from service import sample
    from service.cli_support import bundle_source, open_store
    from service.config import Config

    async def run() -> int:
        cfg = Config(data_dir=data, config_dir=config)
        now = dt.datetime.now(dt.UTC)
        school, bundles, _tz = bundle_source(cfg)
        async with open_store(cfg) as engine:
            async with engine.connect() as conn:
                bundle, _etag = await bundles.bundle(conn, now)
                settings = await bundles.settings(conn)
            return await sample.load(
                engine,
                school,
                bundle,
                sensor=SENSOR,
                now=now,
                retention_days=settings.retention_days,
            )

    with ThreadPoolExecutor(1) as pool:  # its own thread: pytest may run an event loop here
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("a11y")


@pytest.fixture(scope="module")
def config_dir(workdir: Path) -> Path:
    """The shipped config, with TikTok blocked (so there is a blocked page to check) and the
    stable privacy level (so investigations can be opened)."""
    from policy.configdir import DEFAULT_CONFIG_DIR

    folder = workdir / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    rules = (folder / "rules.yaml").read_text(encoding="utf-8")
    (folder / "rules.yaml").write_text(rules.replace("rules:\n", "rules:\n" + BLOCK_TIKTOK_RULE, 1))
    settings = (folder / "settings.yaml").read_text(encoding="utf-8")
    assert "privacy_level: daily" in settings
    # stable: the headteacher's Investigations page has its form and its table
    (folder / "settings.yaml").write_text(
        settings.replace("privacy_level: daily", "privacy_level: stable")
    )
    return folder


@pytest.fixture(scope="module")
def service(workdir: Path, config_dir: Path) -> Iterator[dict[str, Any]]:
    data = workdir / "data"
    for name, role in USERS.items():
        _cli("user", "add", name, "--role", role, data=data, config=config_dir, password=PASSWORD)
    token = _cli("sensor", "add", SENSOR, data=data, config=config_dir).strip().splitlines()[-1]
    token_file = workdir / "sensor.token"
    token_file.write_text(token.strip(), encoding="utf-8")
    assert _load_sample_events(data, config_dir) > 100
    service = Service(data, "--host", "127.0.0.1", config=config_dir, log=workdir / "service.log")
    url = service.url
    try:
        service.start()
        process = service.process
        assert process is not None
        import urllib.request

        report = {
            "kind": "contact",
            "platform": "facebook",
            "what_happened": "A parent sent me a friend request on Facebook last night.",
            "name": "Sam Teacher",
            "contact": "Room 4",
        }
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{url}/api/v1/staff-reports",
            data=orjson.dumps(report),
            headers={
                "Authorization": f"Bearer {token.strip()}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            reference = orjson.loads(response.read())["reference"]
        yield {"url": url, "token_file": token_file, "report": reference}
        assert process.poll() is None, "the service died during the tests"
    finally:
        service.stop()


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(pw: Any) -> Iterator[Any]:
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args())
    yield browser
    browser.close()


def _login(browser: Any, url: str, name: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")
    return page


@pytest.fixture(scope="module")
def sessions(browser: Any, service: dict[str, Any]) -> Iterator[dict[str, Any]]:
    pages = {name: _login(browser, service["url"], name) for name in ("alice", "helen", "victor")}
    yield pages
    for page in pages.values():
        page.context.close()


def _check(page: Any, where: str, shot: str | None = None) -> None:
    if shot:
        page.screenshot(path=artifact_path(f"a11y-{shot}.png"), full_page=True)
    assert_accessible(page, where)


def test_the_check_itself_finds_what_a_page_gets_wrong(browser):
    # So that a check that silently ran nothing cannot pass every page below.
    from tests.support.axe import describe, violations

    page = browser.new_page()
    page.set_content('<p style="color:#aaa;background:#fff">faint</p><img src="x.png">')
    found = violations(page)
    ids = {v["id"] for v in found}
    assert {"html-has-lang", "document-title", "image-alt", "color-contrast"} <= ids, ids
    assert "image-alt (critical)" in describe(found, "a bad page")
    page.close()


# --- the service ----------------------------------------------------------------------------


def test_the_login_page_meets_wcag_2_2_aa(browser, service):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{service['url']}/login")
    _check(page, "/login")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    _check(page, "/login after a wrong password")
    context.close()


ADMIN_PAGES = [
    ("alice", "/"),
    ("alice", "/events"),
    ("alice", "/events?outcome=log"),
    ("alice", "/events?from=2001-01-01&to=2001-01-02"),  # nothing found
    ("alice", "/?days=7"),
    ("alice", "/accounts"),
    ("alice", "/sensors"),
    ("alice", "/users"),
    ("alice", "/settings"),
    ("alice", "/audit"),
    ("alice", "/password"),
    ("alice", "/privacy"),
    ("helen", "/"),
    ("helen", "/accounts"),
    ("helen", "/users"),
    ("helen", "/investigations"),
    ("helen", "/staff-reports"),
    ("victor", "/"),
    ("victor", "/accounts"),
]


@pytest.mark.parametrize(("who", "path"), ADMIN_PAGES, ids=[f"{w}{p}" for w, p in ADMIN_PAGES])
def test_each_admin_page_meets_wcag_2_2_aa(sessions, service, who, path):
    page = sessions[who]
    response = page.goto(f"{service['url']}{path}")
    assert response.status == 200, (path, response.status)
    _check(page, f"{path} as {USERS[who]}")


def test_a_school_account_waiting_for_approval_meets_wcag_2_2_aa(sessions, service):
    admin, head = sessions["alice"], sessions["helen"]
    admin.goto(f"{service['url']}/accounts")
    form = admin.locator("#add-account")
    form.locator("[name=id]").fill("wycliffe-x")
    form.locator("[name=platform]").select_option("x")
    form.locator("[name=account_id]").fill("1234567")
    form.locator("[name=label]").fill("Wycliffe PTA on X")
    form.get_by_role("button", name="Add (waits for approval)").click()
    admin.wait_for_load_state()
    assert admin.locator("#pending").get_by_text("wycliffe-x").is_visible()
    _check(admin, "/accounts after adding one, as admin")
    head.goto(f"{service['url']}/accounts")
    assert head.locator("#pending").get_by_role("button", name="Approve").count() == 1
    _check(head, "/accounts with one to approve, as headteacher", "service-accounts-pending")


def test_settings_replacing_a_files_term_dates_meets_wcag_2_2_aa(sessions, service):
    page = sessions["helen"]
    page.goto(f"{service['url']}/settings")
    page.get_by_role("button", name="Save term dates").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Use schedule.yaml again").count() == 1
    _check(page, "/settings with the page's term dates in force", "service-settings-replaced")
    page.get_by_role("button", name="Use schedule.yaml again").click()  # as it was
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Use schedule.yaml again").count() == 0


def test_an_open_investigation_meets_wcag_2_2_aa(sessions, service):
    page = sessions["helen"]
    page.goto(f"{service['url']}/investigations")
    page.get_by_label("Reason").fill("A parent's complaint about a post during the school day.")
    page.get_by_role("button", name="Open").click()
    page.wait_for_load_state()
    assert page.get_by_role("cell", name="waiting").count() == 1
    _check(page, "/investigations with one open", "service-investigations")


def test_a_staff_report_meets_wcag_2_2_aa(sessions, service):
    page = sessions["helen"]
    path = f"/staff-reports/{service['report']}"
    assert page.goto(f"{service['url']}{path}").status == 200
    _check(page, path, "staff-report")


def test_the_error_pages_meet_wcag_2_2_aa(browser, sessions, service):
    page = sessions["victor"]
    assert page.goto(f"{service['url']}/settings").status == 403
    assert page.title().startswith("Not allowed")
    assert page.get_by_text("Your role does not allow this.").is_visible()
    _check(page, "the 403 page (/settings as a viewer)", "service-403")
    assert page.goto(f"{service['url']}/no-such-page").status == 404
    _check(page, "the 404 page")
    assert page.goto(f"{service['url']}/events?from=yesterday").status == 400
    assert page.get_by_text("from: expected a date like").is_visible()
    _check(page, "the 400 page (a filter that is not a date)")
    context = browser.new_context(bypass_csp=True)
    anonymous = context.new_page()
    assert anonymous.goto(f"{service['url']}/no-such-page").status == 404
    _check(anonymous, "the 404 page, not logged in")
    assert anonymous.goto(f"{service['url']}/privacy").status == 200
    _check(anonymous, "/privacy, not logged in")
    context.close()


def test_the_clause_map_meets_wcag_2_2_aa(browser, sessions, service):
    # Issue 17 §3: the public clause coverage map, as anyone and as a logged-in user.
    context = browser.new_context(bypass_csp=True)
    anonymous = context.new_page()
    assert anonymous.goto(f"{service['url']}/clauses").status == 200
    assert anonymous.locator("#clause-map tbody tr").count() == 74
    _check(anonymous, "/clauses, not logged in", "service-clauses")
    context.close()
    page = sessions["alice"]
    assert page.goto(f"{service['url']}/clauses").status == 200
    _check(page, "/clauses as admin")


# --- the proxy ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(workdir: Path, config_dir: Path, service: dict[str, Any]) -> Iterator[Proxy]:
    upstream = Upstream(pages={"/messages/thread/1": THREAD})
    (workdir / "proxy").mkdir()
    running = start_proxy(
        workdir / "proxy",
        upstream.port,
        config_dir,
        service=(service["url"], service["token_file"]),
    )
    yield running
    stop(running.process)
    upstream.close()


@pytest.fixture(scope="module")
def proxied(pw: Any, proxy: Proxy) -> Iterator[Any]:
    browser = pw.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=chromium_args(),
        proxy={"server": f"http://127.0.0.1:{proxy.port}"},
    )
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True)
    yield context
    context.close()
    browser.close()


def test_the_proxys_warning_page_meets_wcag_2_2_aa_and_reflows_at_320_pixels(proxied):
    page = proxied.new_page()
    page.goto("https://www.facebook.com/")
    assert page.get_by_role("heading", level=1).inner_text() == "Before you continue to Facebook"
    _check(page, "the proxy's warning page")
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    _check(page, "the proxy's warning page at 320 px", "proxy-warning-320px")
    page.close()


def test_the_proxys_blocked_page_meets_wcag_2_2_aa(proxied):
    page = proxied.new_page()
    assert page.goto("https://www.tiktok.com/@someone").status == 403
    assert "not available here" in page.get_by_role("heading", level=1).inner_text()
    _check(page, "the proxy's blocked page")
    page.close()


def test_a_held_messages_warning_page_meets_wcag_2_2_aa(proxied):
    page = proxied.new_page()
    page.goto("https://mbasic.facebook.com/messages/thread/1")
    if page.get_by_role("heading", name="A THREAD").count() == 0:  # warned first (clause 7)
        page.get_by_label("A teaching resource for a lesson").check()
        page.get_by_role("button", name="This is school business — continue").click()
        page.wait_for_load_state()
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert "not sent" in page.get_by_role("heading", level=1).inner_text()
    # with the reasons that tell the Headteacher instead, as buttons of their own (issue 17)
    assert page.get_by_role("button", name="Reporting a safeguarding concern (clause 8.4)").count()
    # Nothing says the person messaged is a pupil or a parent: 8.1 is quoted on that condition.
    lead = page.locator("p.may-apply")
    assert lead.inner_text() == "If this person is a pupil, a parent or a carer, clause 8.1 says:"
    _check(page, "a held message's warning page", "proxy-held")
    page.close()


PROXY_PAGES = [
    ("http://clausewarden.internal/mine", 200),
    ("http://clausewarden.internal/privacy", 200),
    ("http://clausewarden.internal/clauses", 200),  # sent on to the service's clause map
    ("http://clausewarden.internal/ca", 200),
    ("http://clausewarden.internal/no-such-page", 404),
    ("https://www.facebook.com/.clausewarden/no-such-page", 404),
    ("https://www.facebook.com/.clausewarden/back?ticket=forged", 403),
]


@pytest.mark.parametrize(("url", "status"), PROXY_PAGES, ids=[u for u, _ in PROXY_PAGES])
def test_each_of_the_proxys_own_pages_meets_wcag_2_2_aa(proxied, url, status):
    page = proxied.new_page()
    assert page.goto(url).status == status
    _check(page, url)
    page.close()


def test_tell_the_headteacher_and_its_sent_page_meet_wcag_2_2_aa(proxied):
    page = proxied.new_page()
    page.goto("http://clausewarden.internal/tell?platform=facebook&kind=contact")
    assert page.locator("#kind-contact").is_checked()  # chosen by a held act's 8.1 reason
    _check(page, "the proxy's Tell the Headteacher form", "proxy-tell")
    page.locator("#send").click()  # nothing filled in: the proxy says what to fix
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    _check(page, "the proxy's Tell the Headteacher form saying what to fix", "proxy-tell-problems")
    page.locator("input[name=kind][value=contact]").check()
    page.locator("[name=what_happened]").fill("A parent messaged me on Facebook about homework.")
    page.locator("[name=name]").fill("Sam Teacher")
    page.locator("[name=contact]").fill("Room 4")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    assert "SR-" in page.content() or "reference" in page.content().lower()
    _check(page, "the proxy's page after a report is sent", "proxy-tell-sent")
    page.close()


# --- the extension --------------------------------------------------------------------------


def _working_time_offset_ms(config: Path) -> int:
    """How far to move the extension's clock to stand in the school's latest working time."""
    from policy import Policy
    from policy.bundle import compile_bundle
    from policy.configdir import load_config_dir

    policy = Policy.from_bundle(compile_bundle(load_config_dir(config)))
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    at = now - dt.timedelta(minutes=5)
    while not policy.working_time(at):
        at -= dt.timedelta(minutes=15)
    return int((at - now).total_seconds() * 1000)


@pytest.fixture(scope="module")
def extension(pw: Any, workdir: Path) -> Iterator[tuple[Any, str]]:
    """The extension unpacked in Chromium; www.facebook.com is a local HTTPS site."""
    unpacked = workdir / "extension"
    shutil.copytree(ROOT / "extension", unpacked, ignore=shutil.ignore_patterns("tests", "*.mjs"))
    (workdir / "site").mkdir()
    site = Site(workdir / "site")
    context = pw.chromium.launch_persistent_context(
        str(workdir / "profile"),
        executable_path=CHROMIUM,
        headless=False,  # extensions need the new headless mode, given below
        ignore_https_errors=True,
        args=chromium_args(
            "--headless=new",
            f"--disable-extensions-except={unpacked}",
            f"--load-extension={unpacked}",
            f"--host-resolver-rules={resolver_rules(site.port)}",
        ),
    )
    try:
        worker = (
            context.service_workers[0]
            if context.service_workers
            else context.wait_for_event("serviceworker", timeout=15_000)
        )
        worker.evaluate(
            "(c) => chrome.storage.local.set({'test.clock_offset_ms': c})",
            _working_time_offset_ms(ROOT / "config"),
        )
        yield context, worker.url.rsplit("/js/", 1)[0]
    finally:
        context.close()
        site.close()


def test_the_extensions_warning_page_meets_wcag_2_2_aa(extension):
    context, base = extension
    page = context.new_page()
    page.goto("https://www.facebook.com/")  # the extension sends the tab to its warning page
    page.wait_for_selector("#reason:not(:empty)")
    assert page.url.startswith(f"{base}/warning.html")
    assert page.locator("h1").inner_text() == "Before you continue to Facebook"
    _check(page, "the extension's warning page", "extension-warning")
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    _check(page, "the extension's warning page at 320 px")
    page.close()


def test_the_extensions_warning_page_for_a_held_message_meets_wcag_2_2_aa(extension):
    context, base = extension
    page = context.new_page()
    page.goto("https://www.facebook.com/")
    page.wait_for_selector("#continue")
    page.check("input[value='teaching-resource']")
    page.click("#continue")
    page.wait_for_url("https://www.facebook.com/")
    page.evaluate(  # a message form posted by the page (as mbasic.facebook.com does)
        "() => { const f = document.createElement('form'); f.method = 'post'; "
        "f.action = '/messages/send/'; document.body.append(f); f.submit(); }"
    )
    page.wait_for_selector("#tell-reasons button")
    assert page.locator("h1").inner_text() == "Your message on Facebook was not sent"
    _check(page, "the extension's warning page for a held message", "extension-held-message")
    page.close()
    # the allowance that Continue gave ends here: the other pages' checks start from none
    context.service_workers[0].evaluate(
        "chrome.storage.session.clear().then(() => clausewarden.refreshRules())"
    )


@pytest.mark.parametrize(
    "name",
    [
        "tell.html?platform=facebook&kind=contact",
        "options.html",
        "warning.html#https://www.facebook.com/",  # opened on its own: "This warning has expired"
    ],
)
def test_the_extensions_other_pages_meet_wcag_2_2_aa(extension, name):
    context, base = extension
    page = context.new_page()
    page.goto(f"{base}/{name}")
    page.wait_for_load_state("networkidle")
    if name.startswith("tell.html"):  # the form is drawn once the worker (woken cold) answers
        page.wait_for_selector("#kinds input")
    _check(page, f"the extension's {name}")
    if name.startswith("tell.html"):  # no service here: the form says it cannot send
        assert page.locator("#not-connected").is_visible()
    page.close()
