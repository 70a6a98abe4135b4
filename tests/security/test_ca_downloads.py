"""The CA page hands out the school's certificate, never the CA's private key: whatever path a
device (or a page's script) asks on clausewarden.internal, over http or https. A real
`clausewarden proxy` process."""

import base64
import http.client
import ssl

import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.proxy import start_proxy

ASKED = [
    "/ca/mitmproxy-ca.pem",
    "/ca/mitmproxy-ca.p12",
    "/ca/../mitmproxy-ca.pem",
    "/ca/%2e%2e/mitmproxy-ca.pem",
    "/ca/..%2fmitmproxy-ca.pem",
    "/ca//etc/passwd",
    "/mitmproxy-ca.pem",
    "/ca/clausewarden-ca.pem/../../mitmproxy-ca.pem",
    "/ca/clausewarden-ca.key",
]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    running = start_proxy(tmp_path_factory.mktemp("ca-attack"))
    yield running
    running.stop()


def ask(proxy, path: str, scheme: str) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    if scheme == "http":
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        conn.request("GET", f"http://clausewarden.internal{path}")
    else:
        cafile = proxy.folder / "mitmproxy" / "mitmproxy-ca-cert.pem"
        context = ssl.create_default_context(cafile=str(cafile))
        conn = http.client.HTTPSConnection("127.0.0.1", proxy.port, timeout=10, context=context)
        conn.set_tunnel("clausewarden.internal", 443)
        conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_no_path_on_the_ca_page_returns_the_cas_private_key(proxy, scheme):
    key = serialization.load_pem_private_key(
        (proxy.folder / "mitmproxy" / "mitmproxy-ca.pem").read_bytes(), None
    )
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    secret_parts = [der[-64:], base64.b64encode(der)[-64:], b"PRIVATE KEY"]
    for path in [*ASKED, "/ca", "/", *(f"/ca/clausewarden-ca.{e}" for e in ("pem", "crt", "p12"))]:
        status, body = ask(proxy, path, scheme)
        assert not any(part in body for part in secret_parts), path
        if path in ASKED:
            assert status == 404, (path, status)
