"""Passwords (argon2id), bearer tokens (sha256 of 256 random bits), roles; and the transport's
security (Secure cookies and HSTS over TLS, the trusted reverse proxies)."""

import base64
import hashlib
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "admin", "headteacher", "governor")
ADMIN_ROLES = frozenset({"admin", "headteacher"})
"""May manage sensors, users, settings, school accounts (the headteacher also approves)."""
FOUR_EYES_ROLES = frozenset({"headteacher", "governor"})
"""Roles that count only once another, different headteacher or governor approved them (the very
first headteacher excepted: made on the server with `clausewarden user add`, and announced)."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _unmatchable_hash() -> str:
    """An argon2id hash with the hasher's own parameters whose salt and digest are random bytes:
    checking a password against it costs what a real check costs, and no password matches it.
    Written out rather than hashed, so a process that starts (`serve`, each CLI command) does
    not spend a full argon2 hash before it does anything."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode().rstrip("=")

    salt, digest = secrets.token_bytes(_hasher.salt_len), secrets.token_bytes(_hasher.hash_len)
    parameters = f"m={_hasher.memory_cost},t={_hasher.time_cost},p={_hasher.parallelism}"
    return f"$argon2id$v=19${parameters}${b64(salt)}${b64(digest)}"


_DUMMY_HASH = _unmatchable_hash()


def burn_password_check(password: str) -> None:
    """Spend the time of a real check for an unknown user, so timing does not tell names."""
    verify_password(_DUMMY_HASH, password)


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """A fast lookup key: the token has 256 bits of entropy, so sha256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- Transport: Secure cookies and HSTS whenever the request came over TLS -----------------------

HSTS = "max-age=31536000"
"""A year: once a browser has reached the service over TLS it will not use plain http again."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def parse_networks(addresses: Iterable[str]) -> tuple[IPNetwork, ...]:
    """`--trust-proxy` values (an address or a network, e.g. 127.0.0.1 or 10.0.0.0/24); a
    ValueError names the one that is neither."""
    networks = []
    for address in addresses:
        try:
            networks.append(ipaddress.ip_network(address.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"--trust-proxy: {address!r} is not an address or network (e.g. 127.0.0.1)"
            ) from None
    return tuple(networks)


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(remote: str | None, networks: tuple[IPNetwork, ...]) -> bool:
    peer = _address(remote or "")
    return peer is not None and any(peer in network for network in networks)


def transport_security(trusted_proxies: Iterable[str], always_secure: bool = False) -> Middleware:
    """The middleware that knows whether a request reached the service over TLS: its own TLS
    (`serve --tls-cert`), or a reverse proxy in `trusted_proxies` saying so in
    X-Forwarded-Proto (that proxy's X-Forwarded-For then names the client, for the login
    limiter). Anybody else's forwarded headers are ignored. Over TLS, every cookie is marked
    Secure and the answer carries HSTS; with `always_secure`, cookies are Secure regardless."""
    networks = parse_networks(trusted_proxies)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if networks and _trusted(request.remote, networks):
            changes: dict[str, str] = {}
            proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
            if proto in ("https", "http"):
                changes["scheme"] = proto
            client = _address(request.headers.get("X-Forwarded-For", "").split(",")[-1])
            if client is not None:
                changes["remote"] = str(client)
            if changes:
                request = request.clone(**changes)  # type: ignore[arg-type]
        tls = request.secure
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            _harden(exc, tls, always_secure)
            raise
        _harden(response, tls, always_secure)
        return response

    return middleware


def _harden(response: web.StreamResponse, tls: bool, always_secure: bool) -> None:
    if response.prepared:
        return
    if tls:
        response.headers["Strict-Transport-Security"] = HSTS
    if tls or always_secure:
        for morsel in response.cookies.values():
            morsel["secure"] = True
