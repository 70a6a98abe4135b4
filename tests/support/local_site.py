"""A local HTTPS "social site" for the browser tests and bench/extension_navigation.py."""

import datetime as dt
import http.server
import ssl
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SITE_HOSTS = ("www.facebook.com", "www.bbc.co.uk", "www.tiktok.com")


class Site:
    """A local HTTPS server answering every GET with a page naming the host; counts requests."""

    def __init__(self, cert_dir: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SITE_HOSTS[0])])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(h) for h in SITE_HOSTS]), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        (cert_dir / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (cert_dir / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                host = self.headers.get("Host", "")
                hits.append(host)
                body = f"<!doctype html><title>{host}</title><h1>LOCAL {host}</h1>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                hits.append(f"POST {self.path} {self.rfile.read(length).decode(errors='replace')}")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_dir / "cert.pem", cert_dir / "key.pem")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def resolver_rules(port: int) -> str:
    """Chromium --host-resolver-rules: the site's hosts to 127.0.0.1:port, other names fail."""
    mapped = ", ".join(f"MAP {h}:443 127.0.0.1:{port}" for h in SITE_HOSTS)
    return f"{mapped}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
