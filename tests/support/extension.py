"""The packaged extension in a real Chromium against a real `clausewarden serve`: the fixtures and
helpers the browser tests of the extension share (tests/extension/test_extension_*.py and the
attacks in tests/security/). A module takes the fixtures by assigning them to its own names, so
that each module gets its own service, site and browser (module scope).

Chromium (new headless mode) loads the package built by `node extension/build.mjs --zip`;
`--host-resolver-rules` maps the site's hosts to a local HTTPS server (local_site.py).
A test can't give a browser managed storage, so the extension honours a `chrome.storage.local`
override (service URL, token, sensor name) and a clock offset ONLY while managed storage is empty;
the clock offset puts the browser in the school's most recent working time, whenever this runs.
"""

import datetime as dt
import shutil
import sqlite3
import subprocess
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy import Policy
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir
from tests.support.admin_pages import AdminSession
from tests.support.browser import CHROMIUM, chromium_args
from tests.support.local_site import Site, resolver_rules
from tests.support.service import PASSWORD, Service, seed_store

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
SCHOOL_ACCOUNT = {
    "id": "wycliffe-facebook-page",
    "platform": "facebook",
    "kind": "profile",
    "account_id": "100000000000777",
    "label": "Wycliffe CE Primary School Facebook page",
    "approved_by": "Miss Newman",
    "approved_on": "2020-01-01",
    "expires_on": None,
    "actions": ["browse", "post", "message"],
}
SENSOR = "laptop-extension-test"
BLOCK_TIKTOK = """\
  - id: block-tiktok
    description: TikTok is blocked on school systems.
    match: {platforms: [tiktok], actions: [browse]}
    outcome: block
    clauses: ["7"]

"""
REPORT_RECIPIENTS = """\
  report_recipients:
    - {id: lm-ks1, role: line_manager, label: Mr Lee, email: [lee@wycliffe.example]}
"""
"""A line manager besides the Headteacher, so the extension's Tell form offers a choice."""
NAVIGATION = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("extension-browser")


@pytest.fixture(scope="module")
def config_dir(workdir: Path) -> Path:
    folder = workdir / "config"
    shutil.copytree(ROOT / "config", folder)
    (folder / "accounts.yaml").write_text(
        yaml.safe_dump({"accounts": [SCHOOL_ACCOUNT]}, sort_keys=False), encoding="utf-8"
    )
    rules = (folder / "rules.yaml").read_text(encoding="utf-8")
    first = "  - id: school-account\n"
    assert first in rules
    (folder / "rules.yaml").write_text(rules.replace(first, BLOCK_TIKTOK + first, 1))
    settings = (folder / "settings.yaml").read_text(encoding="utf-8")
    assert "  report_recipients: []\n" in settings
    (folder / "settings.yaml").write_text(
        settings.replace("  report_recipients: []\n", REPORT_RECIPIENTS), encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="module")
def service(workdir: Path, config_dir: Path) -> Iterator[dict[str, Any]]:
    # The service's day is the browser's (the school's latest working time): an account the
    # headteacher approves today is not yet approved on a day before it.
    at = latest_working_time(config_dir).isoformat()
    running = Service(
        workdir / "data", "--host", "127.0.0.1", "--at", at, config=config_dir, sensor=SENSOR
    )
    seed_store(running.data, {"head": "headteacher"}, [])
    running.start()
    try:
        assert running.process is not None and running.process.poll() is None
        # accounts.yaml's entry waits for the headteacher's approval (issue 16)
        AdminSession(running.url, "head", PASSWORD).approve_school_account(SCHOOL_ACCOUNT["id"])
        yield {
            "url": running.url,
            "token": running.token,
            "common": running.folders(),
            "data": running.data,
        }
    finally:
        running.stop()


@pytest.fixture(scope="module")
def site(workdir: Path) -> Iterator[Site]:
    server = Site(workdir)
    yield server
    server.close()


def packaged_extension(workdir: Path) -> Path:
    """Build the zip as a school would (node extension/build.mjs --zip) and unpack it."""
    archive = workdir / "clausewarden-extension.zip"
    subprocess.run(
        ["node", str(EXTENSION / "build.mjs"), "--zip", "--out", str(archive)], check=True
    )
    target = workdir / "unpacked"
    with zipfile.ZipFile(archive) as z:
        assert z.testzip() is None
        z.extractall(target)
    return target


def latest_working_time(config_dir: Path) -> dt.datetime:
    """The most recent minute of the school's working time (the service keeps 90 days)."""
    policy = Policy.from_bundle(compile_bundle(load_config_dir(config_dir)))
    at = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    while not policy.working_time(at):
        at -= dt.timedelta(minutes=15)
    return at


@pytest.fixture(scope="module")
def unpacked(workdir: Path) -> Path:
    return packaged_extension(workdir)


def launch(p: Any, profile: Path, unpacked: Path, site: Site) -> tuple[Any, Any]:
    """Chromium with the extension; returns (context, its service worker)."""
    context = p.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=False,  # the extension needs the new headless mode, given below
        ignore_https_errors=True,
        args=chromium_args(
            "--headless=new",
            f"--disable-extensions-except={unpacked}",
            f"--load-extension={unpacked}",
            f"--host-resolver-rules={resolver_rules(site.port)}",
        ),
    )
    worker = (
        context.service_workers[0]
        if context.service_workers
        else context.wait_for_event("serviceworker", timeout=15_000)
    )
    return context, worker


def configure(worker: Any, service_url: str, token: str, config_dir: Path) -> None:
    """The test-only settings (managed storage is empty): service, token, working-time clock."""
    offset = latest_working_time(config_dir) - dt.datetime.now(dt.UTC)
    override = {"service_url": service_url, "sensor_token": token, "sensor_name": SENSOR}
    worker.evaluate(
        "([o, c]) => chrome.storage.local.set({'test.managed_override': o, "
        "'test.clock_offset_ms': c})",
        [override, int(offset.total_seconds() * 1000)],
    )


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(
    pw: Any, workdir: Path, site: Site, service: dict[str, Any], config_dir: Path, unpacked: Path
) -> Iterator[tuple[Any, Any]]:
    context, worker = launch(pw, workdir / "profile", unpacked, site)
    try:
        configure(worker, service["url"], service["token"], config_dir)
        # The worker fetches the bundle (with the school account) from the service.
        wait_until(lambda: bundle_source(worker) == "service", "the bundle from the service")
        yield context, worker
    finally:
        context.close()


def wait_until(check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception as exc:
            # On a loaded machine Chromium may drop an evaluate's promise while the worker is
            # busy starting up (Playwright: "Resulting promise was garbage collected"): ask again.
            if "garbage collected" not in str(exc):
                raise
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def bundle_source(worker: Any) -> str:
    cache = worker.evaluate("chrome.storage.local.get('bundle.cache')")
    return "service" if cache.get("bundle.cache") else "built-in"


def reset(context: Any, worker: Any) -> None:
    """No allowance, no cookies, fresh redirect rules: each test starts from a warned state."""
    context.clear_cookies()
    worker.evaluate("chrome.storage.session.clear().then(() => clausewarden.refreshRules())")


def school_cookie() -> dict[str, Any]:
    return {
        "name": "c_user",
        "value": SCHOOL_ACCOUNT["account_id"],
        "domain": ".facebook.com",
        "path": "/",
        "secure": True,
    }


def facebook_redirected(worker: Any) -> bool:
    return bool(
        worker.evaluate(
            "chrome.declarativeNetRequest.getSessionRules().then(rs => rs.some(r => "
            "r.action.type === 'redirect' && r.condition.requestDomains.includes('facebook.com')))"
        )
    )


def exported_events(service: dict[str, Any]) -> list[dict[str, Any]]:
    """The events as stored, read from the service's own SQLite file: every export and page
    shows only cells on at least k devices (issue 10), and one laptop is one device."""
    with sqlite3.connect(service["data"] / "clausewarden.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM events ORDER BY time, id")]


def clause_text(clause_id: str) -> str:
    bundle = compile_bundle(load_config_dir())
    text = next(c["text"] for c in bundle["clauses"] if c["id"] == clause_id)
    return str(text).split("\n\n")[0]


# --- acts held in the page -----------------------------------------------------------------

FRIEND_REQUEST = "/ajax/add_friend/action"
SEND = (
    "() => fetch('/ajax/add_friend/action', {method: 'POST', headers: {'Content-Type': "
    "'application/x-www-form-urlencoded'}, body: 'to_friend=4&action=add_friend'})"
    ".then(r => r.status, e => 'failed: ' + e.message)"
)


def act_rule_for_friend_requests(worker: Any) -> bool:
    return bool(
        worker.evaluate(
            "chrome.declarativeNetRequest.getSessionRules().then(rs => rs.some(r => "
            "r.action.type === 'block' && r.condition.requestDomains.includes('facebook.com') "
            "&& new RegExp(r.condition.regexFilter).test("
            "'https://www.facebook.com/ajax/add_friend/action')))"
        )
    )


def signed_in_with_the_school_account(context: Any, worker: Any) -> None:
    """No allowance, the school account's cookie: Facebook opens, friend requests are held."""
    context.clear_cookies()
    worker.evaluate("chrome.storage.session.clear().then(() => clausewarden.refreshRules())")
    context.add_cookies([school_cookie()])
    wait_until(lambda: not facebook_redirected(worker), "the facebook redirect rule to go")
    wait_until(lambda: act_rule_for_friend_requests(worker), "the act rule for friend requests")


def posted(site: Site) -> list[str]:
    return [hit for hit in site.hits if hit.startswith(f"POST {FRIEND_REQUEST}")]
