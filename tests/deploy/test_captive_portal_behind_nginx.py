"""The captive-portal API (RFC 8908) as docs/devices.md sets it up: nginx, with the server block
the docs give (its name, ports and certificate moved to this test's), terminates TLS for the name
in DHCP option 114 and hands it to the proxy, which believes nginx's X-Forwarded-For
(`clausewarden_fronts`). A device asks over https: captive until it accepts the notice on the
portal's page, then not. Real nginx, real mitmdump, a real TLS client."""

import http.client
import json
import re
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.captive import accept_url, groups_config
from tests.support.certs import Certs, make_certs
from tests.support.net import free_port, stop, wait_for_port
from tests.support.nginx_site import NGINX, need_nginx, nginx_conf
from tests.support.proxy import TIMEOUT, start_proxy

ROOT = Path(__file__).resolve().parents[2]
PORTAL = "portal.school.test"

pytestmark = need_nginx


def documented_server_block() -> str:
    """The nginx block docs/devices.md gives for the captive portal."""
    text = (ROOT / "docs" / "devices.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    (block,) = [b for b in blocks if "captive" in text[: text.index(b)].rsplit("###", 1)[-1]]
    return block


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Certs]]:
    assert NGINX is not None
    folder = tmp_path_factory.mktemp("portal")
    certs = make_certs(folder / "tls", PORTAL)
    proxy = start_proxy(
        folder / "proxy",
        config=groups_config(folder / "config", visitors=["127.0.0.0/8"]),
        args=["--captive-host", PORTAL, "--set", "clausewarden_fronts=127.0.0.1"],
    )
    https = free_port()
    site = documented_server_block()
    swaps = {
        "listen 443 ssl;": f"listen 127.0.0.1:{https} ssl;",
        "portal.school.example": PORTAL,
        "/etc/clausewarden/portal/fullchain.pem": str(certs.cert),
        "/etc/clausewarden/portal/privkey.pem": str(certs.key),
        "http://127.0.0.1:8080": f"http://127.0.0.1:{proxy.port}",
    }
    for old, new in swaps.items():
        assert old in site, f"docs/devices.md's nginx block no longer has {old!r}"
        site = site.replace(old, new)
    (folder / "nginx").mkdir()
    conf = nginx_conf(folder / "nginx", site)
    nginx = subprocess.Popen(
        [NGINX, "-p", str(folder / "nginx"), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(https, nginx)
        yield https, certs
    finally:
        stop(nginx)
        stop(proxy.process)


def over_https(
    portal: tuple[int, Certs], method: str, path: str
) -> tuple[int, dict[str, str], bytes]:
    port, certs = portal
    context = ssl.create_default_context(cafile=str(certs.ca))
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=TIMEOUT, context=context)
    conn.sock = context.wrap_socket(  # the certificate checked for the portal's name
        socket.create_connection(("127.0.0.1", port), TIMEOUT),
        server_hostname=PORTAL,
    )
    try:
        conn.request(method, path, headers={"Host": PORTAL})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_the_api_over_https_says_captive_until_the_notice_is_accepted(
    portal: tuple[int, Certs],
) -> None:
    status, headers, body = over_https(portal, "GET", "/captive-portal/api")
    assert status == 200 and headers["content-type"] == "application/captive+json"
    state = json.loads(body)
    assert state == {"captive": True, "user-portal-url": f"https://{PORTAL}/captive-portal/"}
    status, _, page = over_https(portal, "GET", "/captive-portal/")
    assert status == 200 and b"Clause 3.2" in page and b"Clause 4.2" in page
    status, headers, _ = over_https(portal, "POST", accept_url(page))
    assert status == 303 and headers["location"] == "/.clausewarden/captive/done"
    assert json.loads(over_https(portal, "GET", "/captive-portal/api")[2])["captive"] is False
