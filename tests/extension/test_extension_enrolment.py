"""One credential per laptop, in a real Chromium against a real `clausewarden serve` (issue 16,
section 1): given only the enrolment secret, the extension makes its own ECDSA P-256 key pair
(private key non-extractable, in its IndexedDB), enrols the public key, and syncs the bundle with
its own short-lived session; the options page shows its own sensor name (what the headteacher
names to ask this laptop alone); after a browser restart it is the same laptop, not a second one.
"""

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.browser import CHROMIUM, have_chromium
from tests.support.extension import (
    bundle_source,
    launch,
    latest_working_time,
    packaged_extension,
    wait_until,
)
from tests.support.local_site import Site
from tests.support.net import free_port, stop, wait_for_port

pytestmark = pytest.mark.skipif(not have_chromium(), reason=f"no Chromium at {CHROMIUM}")
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]


def cw(*args: str, data: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "clausewarden", *args, "--data-dir", str(data)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "CLAUSEWARDEN_PASSWORD": "a-long-password"},
    )
    return out.stdout


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("extension-enrolment")


@pytest.fixture(scope="module")
def service(workdir: Path) -> Iterator[dict[str, Any]]:
    data = workdir / "data"
    secret = cw("sensor", "add", "laptops", "--kind", "enrol", data=data).splitlines()[-1].strip()
    cw("sensor", "fleet", "10", data=data)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "clausewarden", "serve", "--host", "127.0.0.1"]
        + ["--port", str(port), "--data-dir", str(data)],
    )
    try:
        wait_for_port(port, process)
        yield {"url": f"http://127.0.0.1:{port}", "secret": secret, "data": data}
    finally:
        stop(process)


def laptops(service: dict[str, Any]) -> list[dict[str, Any]]:
    with sqlite3.connect(service["data"] / "clausewarden.db") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT name, kind, public_key, waiting FROM sensors WHERE kind='laptop'")
        return [dict(row) for row in rows]


def configure(worker: Any, service: dict[str, Any]) -> None:
    """What the managed policy would hold: the service's URL and the enrolment secret only."""
    offset = latest_working_time(ROOT / "config") - dt.datetime.now(dt.UTC)
    override = {"service_url": service["url"], "enrolment_secret": service["secret"]}
    worker.evaluate(
        "([o, c]) => chrome.storage.local.set({'test.managed_override': o, "
        "'test.clock_offset_ms': c})",
        [override, int(offset.total_seconds() * 1000)],
    )


STORED_KEY = """() => new Promise((resolve, reject) => {
  const req = indexedDB.open("clausewarden-credential");
  req.onsuccess = () => {
    const get = req.result.transaction("credential").objectStore("credential").get("laptop");
    get.onsuccess = () => resolve({
      extractable: get.result.privateKey.extractable,
      type: get.result.privateKey.type,
      curve: get.result.privateKey.algorithm.namedCurve,
      sensor: get.result.sensor,
    });
    get.onerror = () => reject(get.error);
  };
  req.onerror = () => reject(req.error);
})"""


def test_a_laptop_enrols_its_own_key_and_stays_the_same_laptop_after_a_restart(
    workdir: Path, service: dict[str, Any]
) -> None:
    unpacked = packaged_extension(workdir)
    site = Site(workdir)
    profile = workdir / "profile"
    try:
        with playwright_api.sync_playwright() as p:
            context, worker = launch(p, profile, unpacked, site)
            try:
                configure(worker, service)
                wait_until(lambda: bundle_source(worker) == "service", "the bundle", timeout=30)
                [laptop] = laptops(service)
                assert laptop["name"].startswith("laptop-") and not laptop["waiting"]
                stored = worker.evaluate(STORED_KEY)
                assert stored == {
                    "extractable": False,
                    "type": "private",
                    "curve": "P-256",
                    "sensor": laptop["name"],
                }
                page = context.new_page()
                page.goto(worker.url.replace("js/background.js", "options.html"))
                page.wait_for_selector("dd[data-field='Sensor name']")
                assert page.locator("dd[data-field='Sensor name']").inner_text() == laptop["name"]
                credential = page.locator("dd[data-field=\"This laptop's credential\"]")
                assert credential.inner_text() == "enrolled"
                page.close()
            finally:
                context.close()
            context, worker = launch(p, profile, unpacked, site)
            try:
                # The same key, from IndexedDB; the bundle synced again with this laptop's session.
                assert worker.evaluate(STORED_KEY)["sensor"] == laptop["name"]
                worker.evaluate(
                    "chrome.storage.local.remove('bundle.cache').then(() => "
                    "chrome.storage.local.set({'test.clock_offset_ms': 1}))"
                )
                configure(worker, service)
                wait_until(lambda: bundle_source(worker) == "service", "the bundle", timeout=30)
                assert [row["name"] for row in laptops(service)] == [laptop["name"]]
            finally:
                context.close()
    finally:
        site.close()
