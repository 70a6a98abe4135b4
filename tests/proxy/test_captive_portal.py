"""The captive-portal notice for devices the proxy does not decrypt (visitors, staff's own
devices): a device's first connectivity check of the day gets the notice quoting clauses 3.2, 4.2
and 7 from the school's policy text, with a button to accept; after it each system's check gets
the answer it expects. The RFC 8908 API says captive until then. A school device is left alone.

Real mitmdump (its regular port: plain http, as the transparent mode hands it over; the transparent
mode itself: test_transparent_mode.py), real HTTP clients from loopback addresses of their own,
and Chromium for the page (axe)."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from policy.captive import PROBES
from policy.configdir import load_policy
from tests.support.axe import assert_accessible, have_axe
from tests.support.browser import CHROMIUM, chromium_args, have_chromium
from tests.support.captive import accept_url, groups_config, plain
from tests.support.net import stop
from tests.support.proxy import Proxy, start_proxy
from tests.support.upstream import BODY, Upstream

PORTAL = "portal.school.test"
SCHOOL_DEVICE = "127.0.0.9"  # in classroom-shared: decrypted, warned by the warden


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    folder = tmp_path_factory.mktemp("captive")
    config = groups_config(
        folder / "config", classroom_shared=[f"{SCHOOL_DEVICE}/32"], visitors=["127.0.0.0/8"]
    )
    upstream = Upstream()
    running = start_proxy(folder / "proxy", upstream.port, config, args=["--captive-host", PORTAL])
    yield running
    stop(running.process)
    upstream.close()


def clause_texts() -> list[str]:
    policy = load_policy(None)
    return [c.text or "" for c in policy.clause_texts(("3.2", "4.2", "7"))]


@pytest.mark.parametrize(("host", "path"), list(PROBES), ids=[f"{h}{p}" for h, p in PROBES])
def test_first_check_of_the_day_gets_the_notice_then_the_answer_its_system_expects(
    proxy: Proxy, host: str, path: str
) -> None:
    device = f"127.0.1.{list(PROBES).index((host, path)) + 1}"  # a fresh device per system
    status, headers, page = plain(proxy, device, f"http://{host}{path}")
    assert status == 200 and headers["content-type"].startswith("text/html")
    text = page.decode()
    assert "Before you use this network" in text
    assert all(f"Clause {c}" in text for c in ("3.2", "4.2", "7"))
    assert all(quoted.split()[0] in text for quoted in clause_texts())
    assert "Third parties who have access to our electronic communication systems" in text
    # Accepting needs the device's own token: a forged one is refused, nothing changes.
    assert plain(proxy, device, f"http://{host}/.clausewarden/captive/accept?t=0", "POST")[0] == 400
    assert b"Before you use" in plain(proxy, device, f"http://{host}{path}")[2]
    status, headers, _ = plain(proxy, device, f"http://{host}{accept_url(page)}", "POST")
    assert status == 303 and headers["location"] == "/.clausewarden/captive/done"
    expected = PROBES[(host, path)]
    for _ in range(2):
        status, headers, body = plain(proxy, device, f"http://{host}{path}")
        assert (status, body) == (expected.status, expected.body)


def test_one_device_accepting_does_not_accept_for_another(proxy: Proxy) -> None:
    url = "http://connectivitycheck.gstatic.com/generate_204"
    _, _, page = plain(proxy, "127.0.2.1", url)
    plain(proxy, "127.0.2.1", f"http://connectivitycheck.gstatic.com{accept_url(page)}", "POST")
    assert plain(proxy, "127.0.2.1", url)[0] == 204
    status, _, other = plain(proxy, "127.0.2.2", url)
    assert status == 200 and b"Before you use this network" in other
    # and one device's token does not accept for another
    forged = plain(
        proxy, "127.0.2.3", f"http://connectivitycheck.gstatic.com{accept_url(page)}", "POST"
    )
    assert forged[0] == 400 and plain(proxy, "127.0.2.3", url)[0] == 200


def test_a_school_device_is_left_alone(proxy: Proxy) -> None:
    status, _, body = plain(proxy, SCHOOL_DEVICE, "http://captive.apple.com/hotspot-detect.html")
    assert status == 200 and body == BODY  # passed on upstream, as before


def test_windows_opens_the_notice_in_its_browser_until_accepted(proxy: Proxy) -> None:
    status, _, page = plain(proxy, "127.0.3.1", "http://www.msftconnecttest.com/redirect")
    assert status == 200 and b"Before you use this network" in page


def test_the_rfc_8908_api_says_captive_until_the_notice_is_accepted(proxy: Proxy) -> None:
    device, api = "127.0.4.1", f"http://{PORTAL}/captive-portal/api"
    status, headers, body = plain(proxy, device, api)
    assert status == 200 and headers["content-type"] == "application/captive+json"
    assert json.loads(body) == {
        "captive": True,
        "user-portal-url": f"https://{PORTAL}/captive-portal/",
    }
    status, _, page = plain(proxy, device, f"http://{PORTAL}/captive-portal/")
    assert status == 200 and b"Clause 4.2" in page
    assert plain(proxy, device, f"http://{PORTAL}{accept_url(page)}", "POST")[0] == 303
    assert json.loads(plain(proxy, device, api)[2])["captive"] is False
    # and the probes of that device now pass too (one acceptance, either route)
    assert plain(proxy, device, "http://connectivitycheck.gstatic.com/generate_204")[0] == 204


@pytest.fixture(scope="module")
def chromium(proxy: Proxy) -> Iterator[Any]:
    if not (have_chromium() and have_axe()):
        pytest.skip("Chromium or axe-core is not installed")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_args(),
            proxy={"server": f"http://127.0.0.1:{proxy.port}"},
        )
        yield browser
        browser.close()


def test_the_notice_in_a_browser_is_accessible_and_its_button_accepts(chromium: Any) -> None:
    page = chromium.new_page()
    probe = "http://captive.apple.com/hotspot-detect.html"
    page.goto(probe)
    assert page.get_by_role("heading", level=1).inner_text() == "Before you use this network"
    assert page.get_by_role("heading", name="Clause 3.2").count() == 1
    assert_accessible(page, "the captive-portal notice")
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("button", name="I accept: use the network").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "You can now use the network"
    assert_accessible(page, "the captive-portal notice, accepted")
    page.goto(probe)
    assert page.content().count("Success") == 2  # what iOS and macOS expect
    page.close()
