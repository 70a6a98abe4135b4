"""`clausewarden proxy --transparent-port` behind the nftables rule of docs/devices.md, in network
namespaces of its own: a guest device (its own namespace, its own address) asks the real address
of a connectivity check on port 80; nftables in the server's namespace redirects it to the proxy's
transparent port; the proxy answers on the name the device asked for. The first check gets the
notice, the button accepts, then the check gets the answer its system expects; a social site's
plain-http page gets the warning (clause 3.2) as through the explicit proxy. Real mitmdump, real
curl, real nftables."""

import subprocess
from collections.abc import Iterator

import pytest

from tests.support.captive import accept_url, groups_config
from tests.support.net import free_port, stop
from tests.support.netns import (
    FAR_ADDRESS,
    GUEST_NETWORK,
    SERVER_ADDRESS,
    GuestWifi,
    can_make_namespaces,
    guest_wifi,
)
from tests.support.proxy import Proxy, start_proxy

WHY_NOT = can_make_namespaces()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


@pytest.fixture(scope="module")
def wifi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GuestWifi, Proxy]]:
    folder = tmp_path_factory.mktemp("transparent")
    config = groups_config(folder / "config", visitors=[GUEST_NETWORK])
    port = free_port()
    with guest_wifi(port) as network:
        proxy = start_proxy(
            folder / "proxy",
            config=config,
            args=["--listen-host", SERVER_ADDRESS, "--transparent-port", str(port)],
            inside=network.in_server,
            listening=lambda _, process: network.wait_listening(port, process, timeout=60),
        )
        try:
            yield network, proxy
        finally:
            stop(proxy.process)


def curl(network: GuestWifi, url: str, *options: str) -> tuple[int, bytes]:
    """`curl url` on the guest device, its host resolved to an address out on the internet (the
    packets leave the guest for it; nftables turns them to the proxy): status and body."""
    host = url.split("/")[2]
    out = subprocess.run(
        network.in_guest(
            ["curl", "-s", "--max-time", "30", "--resolve", f"{host}:80:{FAR_ADDRESS}",
             "-o", "-", "-w", "\n%{http_code}", *options, url]
        ),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout  # fmt: skip
    body, _, status = out.rpartition(b"\n")
    return int(status), body


def test_the_guests_first_check_is_the_notice_then_the_answer_it_expects(
    wifi: tuple[GuestWifi, Proxy],
) -> None:
    network, proxy = wifi
    probe = "http://captive.apple.com/hotspot-detect.html"
    status, page = curl(network, probe)
    assert status == 200 and b"Before you use this network" in page
    assert b"Clause 3.2" in page and b"Clause 4.2" in page and b"Clause 7" in page
    status, _ = curl(network, f"http://captive.apple.com{accept_url(page)}", "-X", "POST")
    assert status == 303
    assert curl(network, probe) == (
        200,
        b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>",
    )
    assert curl(network, "http://connectivitycheck.gstatic.com/generate_204") == (204, b"")


def test_a_social_sites_plain_http_page_gets_the_warning_on_the_name_asked_for(
    wifi: tuple[GuestWifi, Proxy],
) -> None:
    network, _ = wifi
    status, page = curl(
        network, "http://www.facebook.com/", "-H", "Sec-Fetch-Mode: navigate", "-H",
        "Sec-Fetch-Dest: document",
    )  # fmt: skip
    assert status == 200 and b"Before you continue to Facebook" in page and b"3.2" in page
