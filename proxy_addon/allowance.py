"""Signed, expiring tokens: the allowance granted by "continue", and the warning page's ticket.

A token is `<payload>.<hmac>` where the payload is `kind|platform|device|expiry` (URL-safe text),
with `|nonce` after it for a token used once (the ticket, the Tell form's token: two shown in the
same second are two tokens, so using one leaves the other usable), and the HMAC-SHA256 uses the
proxy-local secret. `device` is itself an HMAC of the client address,
so a token says nothing readable about who holds it.

The warning page's ticket carries, signed, the Decision the page is about, so that its Continue
and Go back answer that decision and decide nothing again from an address.
"""

import base64
import dataclasses
import hashlib
import hmac
import json
import secrets

from policy.facts import Decision

COOKIE = "__clausewarden_allow"
TICKET = "ticket"


def device_tag(secret: bytes, client: str) -> str:
    return hmac.new(secret, b"device:" + client.encode(), hashlib.sha256).hexdigest()[:24]


def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(
    secret: bytes, kind: str, platform: str, device: str, expires: int, *, once: bool = False
) -> str:
    """A token; `once`: with a random nonce, for a token that proxy_addon.used_tickets uses up."""
    payload = f"{kind}|{platform}|{device}|{expires}" + (f"|{_nonce()}" if once else "")
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: bytes, token: str, kind: str, device: str, now: float) -> str | None:
    """The token's platform if it is genuine, of this kind, for this device and unexpired."""
    found = verified(secret, token, kind, device)
    return found[0] if found is not None and now < found[1] else None


def verified(secret: bytes, token: str, kind: str, device: str) -> tuple[str, int] | None:
    """The token's platform and expiry (epoch seconds) if it is genuine, of this kind and for
    this device; expired or not."""
    payload, sep, mac = token.rpartition(".")
    if not sep or not hmac.compare_digest(_mac(secret, payload), mac):
        return None
    parts = payload.split("|")
    if len(parts) not in (4, 5) or parts[0] != kind or parts[2] != device:
        return None
    try:
        return parts[1], int(parts[3])
    except ValueError:
        return None


def _nonce() -> str:
    return secrets.token_urlsafe(9)  # no "|", "~" or "."


def expiry(token: str) -> int:
    """When a token or ticket that `verified` or `read_ticket` accepted expires (epoch seconds)."""
    return int(token.rpartition(".")[0].partition("~")[0].split("|")[3])


def sign_ticket(secret: bytes, decision: Decision, device: str, expires: int) -> str:
    """The warning page's ticket: for this device and the decision's platform, until `expires`,
    carrying the decision (a ticket is `<ticket token>~<decision>`, both under one HMAC)."""
    fields = json.dumps(dataclasses.asdict(decision), separators=(",", ":"), sort_keys=True)
    carried = base64.urlsafe_b64encode(fields.encode()).decode().rstrip("=")
    payload = f"{TICKET}|{decision.platform}|{device}|{expires}|{_nonce()}~{carried}"
    return f"{payload}.{_mac(secret, payload)}"


def read_ticket(secret: bytes, token: str, device: str, now: float) -> Decision | None:
    """The decision a genuine, unexpired ticket of this device carries; else None."""
    payload, sep, mac = token.rpartition(".")
    if not sep or not hmac.compare_digest(_mac(secret, payload), mac):
        return None
    head, tilde, carried = payload.partition("~")
    parts = head.split("|")
    if not tilde or len(parts) not in (4, 5) or parts[0] != TICKET or parts[2] != device:
        return None
    try:
        if not now < int(parts[3]):
            return None
        fields = json.loads(base64.urlsafe_b64decode(carried + "=" * (-len(carried) % 4)))
        decision = Decision(
            **{
                **fields,
                "clauses": tuple(fields["clauses"]),
                "may_apply": tuple(fields.get("may_apply", ())),
            }
        )
    except (ValueError, TypeError, KeyError):
        return None  # signed by this proxy, so only one of an older version's shape
    return decision if decision.platform == parts[1] else None
