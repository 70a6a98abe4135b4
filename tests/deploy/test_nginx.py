"""The shipped nginx configuration in front of the service, end to end: Debian's nginx, a real
`clausewarden serve`, and Chromium logging in over TLS (the test CA's certificate is not in
Chromium's store, so certificate errors are ignored for this browser context only)."""

import http.client
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium
from tests.support.nginx_site import HOST, PASSWORD, Site, need_nginx, running_site

pytestmark = need_nginx


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(tmp_path_factory.mktemp("nginx-site")) as running:
        yield running


def plain(site: Site, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=10)
    conn.request("GET", path, headers={"Host": HOST, **(headers or {})})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_plain_http_is_sent_to_the_servers_own_https_name(site):
    response = plain(site, "/login?next=/events")
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/login?next=/events"
    forged = plain(
        site, "/", {"Host": "evil.example"}
    )  # never a redirect to the Host header's name
    assert not (forged.getheader("Location") or "").startswith("https://evil.example")


def test_the_pac_file_is_served_over_plain_http_for_wpad_without_hsts(site):
    for path in ("/proxy.pac", "/wpad.dat"):
        response = plain(site, path, {"X-Forwarded-Proto": "https"})  # a browser's forgery
        assert response.status == 200, path
        # nginx sets X-Forwarded-Proto itself: the forged "https" never reaches the service.
        assert response.getheader("Strict-Transport-Security") is None


@pytest.mark.skipif(not have_chromium(), reason=f"no Chromium at {CHROMIUM}")
def test_an_admin_logs_in_through_nginx_over_tls_with_a_secure_cookie_and_hsts(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_args(f"--host-resolver-rules=MAP {HOST} 127.0.0.1"),
        )
        try:
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            response: Any = page.goto(f"{site.url}/login")
            assert response.status == 200
            assert response.headers["strict-transport-security"] == "max-age=31536000"
            page.get_by_label("Name").fill("alice")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{site.url}/")
            page.screenshot(path=str(artifact_path("deploy-nginx-dashboard.png")))
            [session] = [c for c in context.cookies() if c["name"] == "clausewarden_session"]
            assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
            assert (
                page.get_by_role("link", name="Log out").count()
                + page.get_by_role("button", name="Log out").count()
                >= 1
            )
        finally:
            browser.close()
