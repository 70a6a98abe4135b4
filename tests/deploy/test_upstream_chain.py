"""Chaining to the Local Authority's or the ISP's filtering proxy: `clausewarden proxy --upstream
URL` (mitmproxy's upstream mode), with a real second proxy process in front of the web."""

import http.client
import ssl

import pytest

from tests.support.deploy import ChainedProxy
from tests.support.proxy import WORKING_TIME, start_proxy
from tests.support.upstream import BODY, Upstream, tls_context_for_localhost

NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls-site")
    context, ca = tls_context_for_localhost(folder)
    server = Upstream(context)
    yield server, ca
    server.close()


@pytest.fixture(scope="module")
def chained(site):
    server, _ = site
    proxy = ChainedProxy(tunnel_to=("127.0.0.1", server.port))
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, chained):
    tmp = tmp_path_factory.mktemp("chain")
    running = start_proxy(
        tmp, now=WORKING_TIME, args=["--upstream", f"http://127.0.0.1:{chained.port}"]
    )
    yield running
    running.stop()


def https(proxy, host: str, cafile) -> http.client.HTTPSConnection:  # type: ignore[no-untyped-def]
    context = ssl.create_default_context(cafile=str(cafile))
    context.check_hostname = False  # the test site's certificate names localhost
    conn = http.client.HTTPSConnection("127.0.0.1", proxy.port, timeout=10, context=context)
    conn.set_tunnel(host, 443)
    return conn


def test_plain_http_to_an_ordinary_site_goes_through_the_chained_proxy(proxy, chained):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "http://www.bbc.co.uk/news", headers=NAVIGATE)
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("X-Chained") == "yes"
    assert response.read() == b"answered by the chained proxy\n"
    assert "GET http://www.bbc.co.uk/news HTTP/1.1" in chained.seen


def test_https_to_an_ordinary_site_is_tunnelled_through_the_chained_proxy_unopened(
    proxy, chained, site
):
    _, site_ca = site
    conn = https(proxy, "www.bbc.co.uk", site_ca)  # trusts the site's CA only, not the proxy's
    conn.request("GET", "/", headers=NAVIGATE)
    response = conn.getresponse()
    assert response.status == 200 and response.read() == BODY
    assert "CONNECT www.bbc.co.uk:443 HTTP/1.1" in chained.seen


def test_social_media_still_gets_the_warning_without_reaching_the_chained_proxy(proxy, chained):
    before = list(chained.seen)
    conn = https(proxy, "www.facebook.com", proxy.folder / "mitmproxy" / "mitmproxy-ca-cert.pem")
    conn.request("GET", "/some/page", headers=NAVIGATE)
    response = conn.getresponse()
    page = response.read()
    assert response.status == 200 and b"Before you continue" in page
    assert not any("facebook" in line for line in chained.seen[len(before) :])


def test_upstream_must_be_a_proxy_url(tmp_path):
    from tests.support.deploy import cli

    out = cli("proxy", "--upstream", "la-filter.example:3128", check=False)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert "--upstream" in lines[-1] and "http://la-filter.example:3128" in lines[-1]
    assert "Traceback" not in out.stderr
