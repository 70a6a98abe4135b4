"""Staff's own devices and visitors do not trust the school's CA: the proxy never decrypts their
secure connections, not even to social media (it tunnels them), while school devices still get
the warning. A real `clausewarden proxy` (mitmdump) chained to a real second proxy, so that a
tunnel reaches a local TLS site instead of the internet."""

import http.client
import shutil
import ssl

import pytest
import yaml

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.deploy import ChainedProxy
from tests.support.proxy import start_proxy
from tests.support.upstream import BODY, Upstream, tls_context_for_localhost

NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}
VISITOR, OWN_DEVICE, SCHOOL_DEVICE = "127.0.0.2", "127.0.0.3", "127.0.0.1"


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("own-devices")
    context, site_ca = tls_context_for_localhost(tmp)
    site = Upstream(context)
    chained = ChainedProxy(tunnel_to=("127.0.0.1", site.port))
    config = tmp / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    groups = yaml.safe_load((config / "device_groups.yaml").read_text(encoding="utf-8"))
    for group in groups["device_groups"]:
        group["networks"] = {
            "visitors": [f"{VISITOR}/32"],
            "staff-wifi": [f"{OWN_DEVICE}/32"],
            "staff-devices": ["127.0.0.0/8"],
        }.get(group["id"], group["networks"])
    (config / "device_groups.yaml").write_text(yaml.safe_dump(groups), encoding="utf-8")
    proxy = start_proxy(
        tmp, config=config, extra=[f"mode=upstream:http://127.0.0.1:{chained.port}"]
    )
    port = proxy.port
    yield port, proxy.confdir / "mitmproxy-ca-cert.pem", site_ca, chained
    proxy.stop()
    chained.close()
    site.close()


def fetch(port: int, source: str, host: str, cafile) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    context = ssl.create_default_context(cafile=str(cafile))
    context.check_hostname = False  # the local site's certificate names localhost
    conn = http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=10, context=context, source_address=(source, 0)
    )
    conn.set_tunnel(host, 443)
    conn.request("GET", "/", headers=NAVIGATE)
    response = conn.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize("source", [VISITOR, OWN_DEVICE], ids=["visitor", "own-device"])
def test_a_device_that_does_not_trust_the_school_ca_is_never_decrypted_even_on_social_media(
    network, source
):
    port, proxy_ca, site_ca, chained = network
    # The device trusts the real site's CA only: it would refuse the proxy's certificate.
    status, body = fetch(port, source, "www.facebook.com", site_ca)
    assert status == 200 and body == BODY  # the site's own answer: a tunnel, opened by no one
    assert "CONNECT www.facebook.com:443 HTTP/1.1" in chained.seen
    with pytest.raises(ssl.SSLError):
        fetch(port, source, "www.instagram.com", proxy_ca)  # the proxy never presents its own


def test_a_school_device_still_gets_the_warning_page(network):
    port, proxy_ca, _, _ = network
    status, body = fetch(port, SCHOOL_DEVICE, "www.facebook.com", proxy_ca)
    assert status == 200 and b"Before you continue" in body
