"""Time from navigation to the extension's warning page in Chromium, beside a plain navigation.

Run: .venv/bin/python bench/extension_navigation.py [--n 40]
Chromium (new headless mode) with the unpacked extension; www.facebook.com and www.bbc.co.uk are
mapped to one local HTTPS server. Each round, interleaved: open www.bbc.co.uk (not social media,
the page itself), then www.facebook.com in working time (the warning page, until its reason text
is shown). Prints p50/p95 of each, measured from `page.goto` to the page being ready.
"""

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the checkout, for tests.support

from policy import Policy  # noqa: E402
from policy.bundle import compile_bundle  # noqa: E402
from policy.configdir import load_config_dir  # noqa: E402
from tests.support.browser import CHROMIUM, chromium_args  # noqa: E402
from tests.support.local_site import Site, resolver_rules  # noqa: E402


def working_offset_ms() -> int:
    policy = Policy.from_bundle(compile_bundle(load_config_dir()))
    now = dt.datetime.now(dt.UTC)
    at = now.replace(second=0, microsecond=0)
    while not policy.working_time(at):
        at -= dt.timedelta(minutes=15)
    return int((at - now).total_seconds() * 1000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        site = Site(Path(tmp))
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"),
                executable_path=CHROMIUM,
                headless=False,
                ignore_https_errors=True,
                args=chromium_args(
                    "--headless=new",
                    f"--disable-extensions-except={ROOT / 'extension'}",
                    f"--load-extension={ROOT / 'extension'}",
                    f"--host-resolver-rules={resolver_rules(site.port)}",
                ),
            )
            worker = context.service_workers[0] if context.service_workers else None
            worker = worker or context.wait_for_event("serviceworker", timeout=15_000)
            worker.evaluate(
                "c => chrome.storage.local.set({'test.clock_offset_ms': c})"
                ".then(() => clausewarden.refreshRules())",
                working_offset_ms(),
            )
            page = context.new_page()
            plain: list[float] = []
            warned: list[float] = []
            for i in range(n + 3):
                t = time.perf_counter()
                page.goto(f"https://www.bbc.co.uk/?{i}")
                page.wait_for_selector("h1")
                a = time.perf_counter() - t
                t = time.perf_counter()
                page.goto(f"https://www.facebook.com/?{i}")
                page.wait_for_selector("#reason:not(:empty)")
                b = time.perf_counter() - t
                assert page.url.startswith("chrome-extension://")
                if i >= 3:  # the first rounds warm the worker and the caches
                    plain.append(a * 1000)
                    warned.append(b * 1000)
            context.close()
        site.close()

    def line(name: str, xs: list[float]) -> str:
        xs = sorted(xs)
        p95 = xs[min(len(xs) - 1, int(0.95 * len(xs)))]
        return f"{name:34} p50 {statistics.median(xs):6.1f} ms   p95 {p95:6.1f} ms   (n={len(xs)})"

    print(line("plain page (www.bbc.co.uk)", plain))
    print(line("navigation -> warning page", warned))


if __name__ == "__main__":
    main()
