"""The CA page on the proxy's own host (as mitmproxy has mitm.it): the school's certificate in
every format, per-platform steps, and over https the word that this device trusts it. A real
`clausewarden proxy` process; a client that asks through it as a browser would."""

import http.client
import plistlib
import re
import ssl
from html.parser import HTMLParser

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.support.deploy import cli
from tests.support.proxy import start_proxy

HOST = "clausewarden.internal"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    running = start_proxy(tmp_path_factory.mktemp("ca-page"))
    yield running
    running.stop()


def get(proxy, path: str, scheme: str = "http", cafile=None):  # type: ignore[no-untyped-def]
    if scheme == "http":
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        target = f"http://{HOST}{path}"
    else:
        context = ssl.create_default_context(cafile=str(cafile))
        conn = http.client.HTTPSConnection("127.0.0.1", proxy.port, timeout=10, context=context)
        conn.set_tunnel(HOST, 443)
        target = path
    conn.request("GET", target)
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def ca_pem(proxy) -> bytes:  # type: ignore[no-untyped-def]
    return (proxy.folder / "mitmproxy" / "mitmproxy-ca-cert.pem").read_bytes()


class Outline(HTMLParser):
    """Headings in order, links with their text, and the root's lang."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.links: list[tuple[str, str]] = []
        self.lang = ""
        self._href: str | None = None
        self._text = ""
        self.tables = self.captions = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "a":
            self._href, self._text = a.get("href"), ""
        self.tables += tag == "table"
        self.captions += tag == "caption"

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text.strip()))
            self._href = None


def test_ca_page_offers_every_format_and_each_platforms_steps(proxy):
    status, headers, body = get(proxy, "/ca")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    page = body.decode()
    for platform in ("Windows", "Group Policy", "Intune", "macOS", "iPhone and iPad",
                     "Certificate Trust Settings", "ChromeOS", "Admin console", "Android",
                     "Firefox", "ImportEnterpriseRoots"):  # fmt: skip
        assert platform in page, platform
    assert "apps do not trust certificates a person installs" in page
    outline = Outline()
    outline.feed(page)
    assert outline.lang == "en-GB" and outline.headings[0] == 1 and outline.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(outline.headings, outline.headings[1:], strict=False))
    assert all(text for _, text in outline.links), "every link says where it goes"
    assert outline.tables == outline.captions
    downloads = {href for href, _ in outline.links if href.startswith("/ca/")}
    assert {
        f"/ca/clausewarden-ca.{ext}" for ext in ("pem", "crt", "cer", "p12", "mobileconfig")
    } <= downloads
    assert "/" in get(proxy, "/")[2].decode() and b"Download" in get(proxy, "/")[2]


def test_each_download_is_the_proxys_certificate_and_never_its_key(proxy):
    cert = x509.load_pem_x509_certificate(ca_pem(proxy))
    _, headers, pem = get(proxy, "/ca/clausewarden-ca.pem")
    assert headers["content-disposition"] == 'attachment; filename="clausewarden-ca.pem"'
    assert x509.load_pem_x509_certificate(pem) == cert
    for ext in ("crt", "cer"):
        assert x509.load_der_x509_certificate(get(proxy, f"/ca/clausewarden-ca.{ext}")[2]) == cert
    key, p12_cert, others = pkcs12.load_key_and_certificates(
        get(proxy, "/ca/clausewarden-ca.p12")[2], None
    )
    assert key is None and p12_cert is None and others == [cert]
    profile = plistlib.loads(get(proxy, "/ca/clausewarden-ca.mobileconfig")[2])
    (payload,) = profile["PayloadContent"]
    assert payload["PayloadType"] == "com.apple.security.root"
    assert x509.load_der_x509_certificate(payload["PayloadContent"]) == cert


def test_over_https_the_page_says_this_device_trusts_the_certificate(proxy):
    cafile = proxy.folder / "mitmproxy" / "mitmproxy-ca-cert.pem"
    status, _, body = get(proxy, "/ca", "https", cafile)
    assert status == 200 and b"This device already trusts the certificate" in body
    assert get(proxy, "/ca/trusted", "https", cafile)[0] == 200
    status, _, body = get(proxy, "/ca")
    assert b"already trusts" not in body and b"https://clausewarden.internal/ca" in body


def test_ca_command_says_where_the_certificate_is_and_names_the_ca_page(proxy, tmp_path):
    confdir = proxy.folder / "mitmproxy"
    out = cli("ca", "--confdir", str(confdir)).stdout
    assert (
        str(confdir / "mitmproxy-ca-cert.pem") in out and "http://clausewarden.internal/ca" in out
    )
    assert "SHA-256" in out
    cli("ca", "--confdir", str(confdir), "--export", str(tmp_path / "ca"))
    names = sorted(p.name for p in (tmp_path / "ca").iterdir())
    assert names == sorted(
        f"clausewarden-ca.{e}" for e in ("pem", "crt", "cer", "p12", "mobileconfig")
    )
    assert b"PRIVATE KEY" not in b"".join(p.read_bytes() for p in (tmp_path / "ca").iterdir())


def subject_cn(pem: bytes) -> str:
    name = x509.load_pem_x509_certificate(pem).subject
    return str(name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)


def issuer_over_https(proxy, cafile) -> str:  # type: ignore[no-untyped-def]
    """The issuer's common name of the certificate the proxy makes for its own host."""
    context = ssl.create_default_context(cafile=str(cafile))
    conn = http.client.HTTPSConnection("127.0.0.1", proxy.port, timeout=10, context=context)
    conn.set_tunnel(HOST, 443)
    conn.connect()
    issuer = dict(item[0] for item in conn.sock.getpeercert()["issuer"])  # type: ignore[union-attr]
    conn.close()
    return str(issuer["commonName"])


def test_the_ca_devices_trust_is_named_for_the_school_not_mitmproxy(proxy):
    # The name staff see in their certificate lists, and the one docs/devices.md names.
    school_ca = "ClauseWarden CA, Wycliffe CE Primary School"
    assert subject_cn(ca_pem(proxy)) == school_ca
    cafile = proxy.folder / "mitmproxy" / "mitmproxy-ca-cert.pem"
    assert issuer_over_https(proxy, cafile) == school_ca
    status, _, body = get(proxy, "/ca/clausewarden-ca.crt")
    assert status == 200
    assert "mitmproxy" not in x509.load_der_x509_certificate(body).subject.rfc4514_string()


def test_an_existing_ca_is_kept_until_the_admin_renews_it(tmp_path):
    from mitmproxy.certs import CertStore

    confdir = tmp_path / "proxy" / "mitmproxy"
    CertStore.create_store(confdir, "mitmproxy", 2048)  # an installation from before the name
    old = (confdir / "mitmproxy-ca-cert.pem").read_bytes()
    running = start_proxy(tmp_path / "proxy")
    try:
        assert (confdir / "mitmproxy-ca-cert.pem").read_bytes() == old  # every device trusts it
        assert issuer_over_https(running, confdir / "mitmproxy-ca-cert.pem") == "mitmproxy"
    finally:
        running.stop()

    out = cli("ca", "--confdir", str(confdir), "--renew").stdout
    assert "Made a new CA 'ClauseWarden CA, Wycliffe CE Primary School'" in out
    assert "put the new certificate on every device" in out
    (aside,) = confdir.glob("replaced-*")
    assert (aside / "mitmproxy-ca-cert.pem").read_bytes() == old  # kept, not deleted
    assert (confdir / "mitmproxy-ca.pem").stat().st_mode & 0o077 == 0  # the key: owner only

    running = start_proxy(tmp_path / "proxy")
    try:
        new_ca = confdir / "mitmproxy-ca-cert.pem"
        assert issuer_over_https(running, new_ca) == "ClauseWarden CA, Wycliffe CE Primary School"
    finally:
        running.stop()


def test_renewing_without_a_ca_says_how_to_make_one(tmp_path):
    done = cli("ca", "--confdir", str(tmp_path / "none"), "--renew", check=False)
    assert done.returncode == 2
    assert "no CA in" in done.stderr and "Traceback" not in done.stderr
