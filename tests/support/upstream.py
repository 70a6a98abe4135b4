"""A local upstream for end-to-end tests: records the exact bytes of every request it gets and
answers with fixed bytes, over plain TCP or TLS."""

import socket
import ssl
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from mitmproxy import certs


def response_bytes(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n"
        b"X-Upstream: local-test-server\r\n"
        b"Set-Cookie: upstream=1; Path=/\r\n"
        b"Connection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


BODY = b"<!doctype html><title>Upstream</title><h1>UPSTREAM PAGE</h1>\n"


def read_head(conn: socket.socket) -> tuple[bytes, bytes, int] | None:
    """(request head, the body's first bytes, its Content-Length), or None if the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head, body, length


class Upstream:
    """One request per connection; `requests` holds each raw request (head and body)."""

    def __init__(
        self, tls_context: ssl.SSLContext | None = None, pages: dict[str, bytes] | None = None
    ) -> None:
        self.requests: list[bytes] = []
        self.tls = tls_context
        self.pages = pages or {}  # path (without the query) -> the HTML answered; else BODY
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            read = read_head(conn)
            if read is None:
                return
            head, body, length = read
            while len(body) < length:
                body += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + body)
            path = head.split(b" ", 2)[1].split(b"?", 1)[0].decode("latin-1")
            conn.sendall(response_bytes(self.pages.get(path, BODY)))
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()

    def since_now(self) -> "Requests":
        """The requests this server gets from now on (for one test of a module sharing it)."""
        return Requests(self, len(self.requests))


class Requests:
    """What an `Upstream` received after a point: `requests`, as on the server itself."""

    def __init__(self, server: Upstream, start: int) -> None:
        self.server, self.start = server, start

    @property
    def requests(self) -> list[bytes]:
        return self.server.requests[self.start :]


def tls_context_for_localhost(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for localhost, and the CA file a client must trust."""
    store = certs.CertStore.from_store(folder, "upstream", 2048)
    entry = store.get_cert("localhost", ["localhost", "127.0.0.1"])
    cert_file, key_file = folder / "localhost.pem", folder / "localhost-key.pem"
    cert_file.write_bytes(entry.cert.to_pem())
    key_file.write_bytes(
        entry.privatekey.private_bytes(  # type: ignore[union-attr]
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.TraditionalOpenSSL,
            encryption_algorithm=serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, folder / "upstream-ca-cert.pem"


class Sink:
    """An upstream that counts the body bytes it receives (never keeping them), one request per
    connection, and answers 200: for uploads too large to record."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, int]] = []  # (request head, body bytes)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            read = read_head(conn)
            if read is None:
                return
            head, body, length = read
            got = len(body)
            while got < length:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                got += len(chunk)
            self.received.append((head, got))
            conn.sendall(response_bytes(b"stored"))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()
