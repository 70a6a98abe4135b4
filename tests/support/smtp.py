"""A real SMTP server for tests (aiosmtpd, in its own thread, on 127.0.0.1): STARTTLS required
before anything else, AUTH (PLAIN/LOGIN) required and only over TLS, every message kept."""

import ssl
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from mitmproxy import certs

from tests.support.net import free_port

USER = "clausewarden@wycliffe.example"
PASSWORD = "smtp-password-Zq8vN3"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message
    raw: bytes
    tls: bool


@dataclass
class SmtpServer:
    folder: Path
    user: str = USER
    password: str = PASSWORD
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        store = certs.CertStore.from_store(self.folder, "smtp-test", 2048)
        entry = store.get_cert("localhost", ["localhost", "127.0.0.1"])
        cert_file, key_file = self.folder / "smtp.pem", self.folder / "smtp-key.pem"
        cert_file.write_bytes(entry.cert.to_pem())
        key_file.write_bytes(
            entry.privatekey.private_bytes(  # type: ignore[union-attr]
                encoding=serialization.Encoding.PEM,
                format=serialization.PrivateFormat.TraditionalOpenSSL,
                encryption_algorithm=serialization.NoEncryption(),
            )
        )
        self.ca_file = self.folder / "smtp-test-ca-cert.pem"
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.port = free_port()
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="localhost",
            tls_context=context,
            require_starttls=True,
            authenticator=self._authenticate,
            auth_required=True,
            auth_require_tls=True,
        )
        self.controller.start()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        ok = (login, password) == (self.user, self.password)
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content)
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=message_from_bytes(raw),
                raw=raw,
                tls=session.ssl is not None,
            )
        )
        return "250 OK"

    def close(self) -> None:
        self.controller.stop()
