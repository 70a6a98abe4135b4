"""The CA page on the proxy's own host (as mitmproxy has mitm.it): http://clausewarden.internal/ca
(and /), with the school's CA certificate to download in each format and the steps for each
platform. Answered by the proxy itself, never upstream.

Only the certificate ever leaves: the downloads are a fixed table made from mitmproxy's
`mitmproxy-ca-cert.pem` (never `mitmproxy-ca.pem` or `mitmproxy-ca.p12`, which hold the key).
Over https the page can say that this device already trusts the certificate: the browser would
have refused the connection otherwise (`clausewarden doctor` checks it that way).
"""

import asyncio
import hashlib
import plistlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from mitmproxy import ctx, http

from policy.pages_host import PAGES_HOST
from proxy_addon import page
from proxy_addon.shared import Shared

CERT_FILE = "mitmproxy-ca-cert.pem"  # the certificate alone (mitmproxy's confdir)
BASE = "clausewarden-ca"
CA_PATH = "/ca"
TRUST_CHECK = "/ca/trusted"  # 200 over https means this device trusts the CA

HEADERS = {
    **page.SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True, slots=True)
class Download:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CaFiles:
    """The certificate in every format a platform asks for, made from the PEM certificate."""

    subject: str
    sha256: str  # the fingerprint, AA:BB:..., to compare on a device
    not_after: str
    downloads: dict[str, Download]


def ca_files(cert_pem: bytes, school: str) -> CaFiles:
    cert = x509.load_pem_x509_certificate(cert_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    p12 = pkcs12.serialize_key_and_certificates(
        None, None, None, [cert], serialization.NoEncryption()
    )
    digest = hashlib.sha256(der).hexdigest().upper()
    files = [
        Download(f"{BASE}.pem", "application/x-pem-file", pem),
        Download(f"{BASE}.crt", "application/x-x509-ca-cert", der),
        Download(f"{BASE}.cer", "application/pkix-cert", der),
        Download(f"{BASE}.p12", "application/x-pkcs12", p12),
        Download(
            f"{BASE}.mobileconfig", "application/x-apple-aspen-config", apple_profile(der, school)
        ),
    ]
    return CaFiles(
        subject=cert.subject.rfc4514_string(),
        sha256=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        not_after=cert.not_valid_after_utc.date().isoformat(),
        downloads={d.name: d for d in files},
    )


def apple_profile(der: bytes, school: str) -> bytes:
    """A configuration profile (macOS, iOS, iPadOS) with the certificate as a root payload.
    Its identifiers come from the certificate, so a new download replaces the old profile."""
    digest = hashlib.sha256(der).hexdigest()
    name = school or "ClauseWarden"
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"internal.clausewarden.ca.{digest[:16]}",
        "PayloadUUID": str(uuid.UUID(digest[:32])).upper(),
        "PayloadDisplayName": f"{name}: web filter certificate",
        "PayloadDescription": (
            f"Lets {name}'s ClauseWarden proxy show the Social Media Policy on social media "
            "sites. Install on school-owned devices only."
        ),
        "PayloadOrganization": name,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": [
            {
                "PayloadType": "com.apple.security.root",
                "PayloadVersion": 1,
                "PayloadIdentifier": f"internal.clausewarden.ca.{digest[:16]}.root",
                "PayloadUUID": str(uuid.UUID(digest[32:64])).upper(),
                "PayloadDisplayName": "ClauseWarden CA",
                "PayloadCertificateFileName": f"{BASE}.cer",
                "PayloadContent": der,
            }
        ],
    }
    return plistlib.dumps(profile)


def read_ca(confdir: Path, school: str) -> CaFiles | None:
    """The CA of mitmproxy's folder, or None before the proxy first made it (blocking: call it
    in a thread)."""
    try:
        pem = (confdir / CERT_FILE).read_bytes()
    except FileNotFoundError:
        return None
    return ca_files(pem, school)


class CaPage:
    name = "clausewarden_ca_page"

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self._cache: tuple[tuple[int, int], CaFiles] | None = None

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or flow.error is not None or not flow.live:
            return
        request = flow.request
        if request.host != PAGES_HOST or request.method not in ("GET", "HEAD"):
            return
        path = request.path.partition("?")[0].rstrip("/") or "/"
        if path not in ("/", CA_PATH, TRUST_CHECK) and not path.startswith(CA_PATH + "/"):
            return  # the other pages of the own host (OwnPages)
        try:
            flow.response = await self._answer(path, request.scheme == "https")
        except Exception:
            self.shared.failed("request")

    async def _files(self) -> CaFiles | None:
        confdir = Path(ctx.options.confdir).expanduser()
        school = self.shared.policy.school_name if self.shared.policy else ""

        def stamp() -> tuple[int, int] | None:
            try:
                st = (confdir / CERT_FILE).stat()
            except FileNotFoundError:
                return None
            return (st.st_mtime_ns, st.st_size)

        now = await asyncio.to_thread(stamp)
        if now is None:
            return None
        if self._cache is None or self._cache[0] != now:
            files = await asyncio.to_thread(read_ca, confdir, school)
            if files is None:
                return None
            self._cache = (now, files)
        return self._cache[1]

    async def _answer(self, path: str, secure: bool) -> http.Response:
        school = self.shared.policy.school_name if self.shared.policy else "ClauseWarden"
        if path == TRUST_CHECK:
            if not secure:
                return http.Response.make(
                    404, b"Open this over https to check the certificate.\n", _text()
                )
            return http.Response.make(200, b"trusted\n", _text())
        files = await self._files()
        if files is None:
            return page.notice(503, school, "Not ready", "The proxy has no certificate yet.")
        if path in ("/", CA_PATH):
            return http.Response.make(
                200,
                page.render(
                    "ca.html",
                    school=school,
                    ca=files,
                    secure=secure,
                    host=PAGES_HOST,
                    base=BASE,
                ),
                HEADERS,
            )
        download = files.downloads.get(path[len(CA_PATH) + 1 :])
        if download is None:
            return page.notice(404, school, "Not found", "There is no such file.")
        return http.Response.make(
            200,
            download.data,
            {
                "Content-Type": download.content_type,
                "Content-Disposition": f'attachment; filename="{download.name}"',
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )


def _text() -> dict[str, str]:
    return {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
