"""Signed, expiring tokens: the allowance granted by "continue", and the warning page's ticket.

A token is `<payload>.<hmac>` where the payload is `kind|platform|device|expiry` (URL-safe text)
and the HMAC-SHA256 uses the proxy-local secret. `device` is itself an HMAC of the client address,
so a token says nothing readable about who holds it.
"""

import base64
import hashlib
import hmac

COOKIE = "__clausewarden_allow"


def device_tag(secret: bytes, client: str) -> str:
    return hmac.new(secret, b"device:" + client.encode(), hashlib.sha256).hexdigest()[:24]


def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: bytes, kind: str, platform: str, device: str, expires: int) -> str:
    payload = f"{kind}|{platform}|{device}|{expires}"
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: bytes, token: str, kind: str, device: str, now: float) -> str | None:
    """The token's platform if it is genuine, of this kind, for this device and unexpired."""
    payload, sep, mac = token.rpartition(".")
    if not sep or not hmac.compare_digest(_mac(secret, payload), mac):
        return None
    parts = payload.split("|")
    if len(parts) != 4 or parts[0] != kind or parts[2] != device:
        return None
    try:
        expires = int(parts[3])
    except ValueError:
        return None
    return parts[1] if now < expires else None
