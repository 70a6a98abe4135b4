"""An enrolled laptop as the extension is one (js/credential.js), for the service's tests: a real
ECDSA P-256 key pair; signatures raw r||s, as WebCrypto makes them."""

import base64
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Laptop:
    """A laptop's key pair, as the extension makes it."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()
        self.name = ""

    def sign(self, text: str) -> str:
        r, s = decode_dss_signature(self.key.sign(text.encode(), ec.ECDSA(hashes.SHA256())))
        return base64.b64encode(r.to_bytes(32) + s.to_bytes(32)).decode()

    async def enrol(self, cli: Any, secret: str) -> Any:
        resp = await cli.post(
            "/api/v1/enrol", json={"public_key": self.public_key}, headers=bearer(secret)
        )
        if resp.status == 201:
            self.name = (await resp.json())["sensor"]
        return resp

    async def session(self, cli: Any, challenge: str | None = None) -> Any:
        if challenge is None:
            challenge = (await (await cli.get("/api/v1/enrol/challenge")).json())["challenge"]
        signed = self.sign(f"clausewarden-session\n{self.name}\n{challenge}")
        return await cli.post(
            "/api/v1/session",
            json={"sensor": self.name, "challenge": challenge, "signature": signed},
        )

    async def enrolled(self, cli: Any, secret: str) -> str:
        """Enrol (within the fleet) and open a session: the laptop's bearer token."""
        assert (await self.enrol(cli, secret)).status == 201
        got = await self.session(cli)
        assert got.status == 200, await got.text()
        return str((await got.json())["token"])
