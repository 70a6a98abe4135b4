"""One credential per laptop (issue 16, section 1).

The managed policy carries only an enrolment secret (a sensor of kind "enrol"), readable by anyone
at a laptop: it can do nothing but enrol. Each laptop makes an ECDSA P-256 key pair at first start
(WebCrypto, the private key non-extractable in the extension's IndexedDB) and enrols the public
key; the service keeps only that public key, as a sensor of kind "laptop" named after the key's
fingerprint, revocable one by one. Up to the fleet size the admin states, an enrolment is active at
once; beyond it, it waits for the admin's approval.

A laptop's bearer token is a short-lived session: it signs a challenge (the service's time and a
random nonce) and gets a new token for SESSION_MINUTES. A challenge is good for CHALLENGE_SECONDS
and must be later than the last one that laptop signed, so a signature cannot be replayed."""

import base64
import binascii
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service import audit
from service.db import sensors
from service.security import new_token, token_hash
from service.settings_store import get_settings, put_setting
from service.store import StoreError, iso

FLEET_SIZE = "fleet_size"
SESSION_MINUTES = 60
CHALLENGE_SECONDS = 300
MAX_WAITING = 100
"""Enrolments waiting for approval at most: the secret is readable, so it must not fill the page."""


class EnrolmentRefused(StoreError):
    """A request to enrol or sign in that the service refuses: the message says why."""


def challenge(now: datetime) -> str:
    """What a laptop signs for a session: the service's time (to the microsecond) and a nonce."""
    return f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}~{secrets.token_hex(8)}"


def signed_text(sensor: str, challenge_text: str) -> bytes:
    """The exact bytes a laptop signs (named, so a signature means nothing elsewhere)."""
    return f"clausewarden-session\n{sensor}\n{challenge_text}".encode()


def _public_key(spki_b64: str) -> ec.EllipticCurvePublicKey:
    try:
        key = load_der_public_key(base64.b64decode(spki_b64, validate=True))
    except (ValueError, binascii.Error):
        raise EnrolmentRefused("public_key: expected an SPKI public key, base64") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise EnrolmentRefused("public_key: expected an ECDSA P-256 key")
    return key


def laptop_name(spki_b64: str) -> str:
    """The laptop's sensor name, which its options page shows: from its public key's fingerprint."""
    return "laptop-" + hashlib.sha256(base64.b64decode(spki_b64)).hexdigest()[:16]


async def fleet_size(conn: AsyncConnection) -> int:
    return int((await get_settings(conn)).get(FLEET_SIZE, 0))


async def set_fleet_size(conn: AsyncConnection, size: int, *, actor: str, now: datetime) -> None:
    if not 0 <= size <= 100_000:
        raise StoreError("fleet size: a whole number of laptops, 0 to 100000")
    await put_setting(conn, FLEET_SIZE, size)
    await audit.record(
        conn, at=iso(now), actor=actor, action="sensor.fleet_size", detail={"size": size}
    )


async def _count(conn: AsyncConnection, *, waiting: bool) -> int:
    query = select(func.count()).where(
        sensors.c.public_key.is_not(None),
        sensors.c.revoked_at.is_(None),
        sensors.c.waiting.is_(waiting),
    )
    return int((await conn.execute(query)).scalar_one())


async def enrolled_count(conn: AsyncConnection) -> int:
    """Laptops enrolled and active (not revoked, not waiting)."""
    return await _count(conn, waiting=False)


async def enrol(conn: AsyncConnection, spki_b64: str, *, now: datetime) -> tuple[str, bool]:
    """Enrol a laptop's public key: (its sensor name, whether it waits for approval). The same
    key again gets the same answer (a laptop that lost the reply retries)."""
    _public_key(spki_b64)
    name = laptop_name(spki_b64)
    row = (await conn.execute(select(sensors).where(sensors.c.name == name))).first()
    if row is not None:
        if row.revoked_at is not None:
            raise EnrolmentRefused("this laptop's key has been revoked: it cannot enrol again")
        return name, bool(row.waiting)
    waiting = await enrolled_count(conn) >= await fleet_size(conn)
    if waiting and await _count(conn, waiting=True) >= MAX_WAITING:
        raise EnrolmentRefused(
            "too many enrolments are waiting for the admin's approval; ask the admin"
        )
    await conn.execute(
        sensors.insert().values(
            name=name,
            # No bearer token until the laptop signs a challenge: this one is never shown.
            token_hash=token_hash(new_token("cwl")),
            created_at=iso(now),
            kind="laptop",
            public_key=spki_b64,
            waiting=waiting,
        )
    )
    await audit.record(
        conn,
        at=iso(now),
        actor=f"enrolment:{name}",
        action="sensor.enrol",
        detail={"name": name, "waiting": waiting},
    )
    return name, waiting


async def approve(conn: AsyncConnection, name: str, *, actor: str, now: datetime) -> None:
    result = await conn.execute(
        update(sensors)
        .where(sensors.c.name == name, sensors.c.waiting.is_(True), sensors.c.revoked_at.is_(None))
        .values(waiting=False)
    )
    if result.rowcount == 0:
        raise StoreError(f"no enrolment of {name!r} is waiting for approval")
    await audit.record(
        conn, at=iso(now), actor=actor, action="sensor.approve", detail={"name": name}
    )


def _verify(row: Any, challenge_text: str, signature_b64: str) -> None:
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (ValueError, binascii.Error):
        raise EnrolmentRefused("signature: expected base64") from None
    if len(raw) != 64:
        raise EnrolmentRefused("signature: expected WebCrypto's 64-byte ECDSA P-256 signature")
    der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    try:
        _public_key(row.public_key).verify(
            der, signed_text(row.name, challenge_text), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise EnrolmentRefused("the signature does not match this laptop's key") from None


async def open_session(
    conn: AsyncConnection, name: str, challenge_text: str, signature_b64: str, *, now: datetime
) -> tuple[str, str]:
    """A new bearer token for the enrolled laptop `name`, which signed `challenge_text`:
    (token, expires_at). The previous token stops working."""
    row = (await conn.execute(select(sensors).where(sensors.c.name == name))).first()
    if row is None or row.public_key is None:
        raise EnrolmentRefused("no laptop enrolled under that name: enrol again")
    if row.revoked_at is not None:
        raise EnrolmentRefused("this laptop has been revoked")
    if row.waiting:
        raise EnrolmentRefused("this laptop waits for the admin's approval (Sensors page)")
    stamp, _, _nonce = challenge_text.partition("~")
    try:
        issued = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=now.tzinfo)
    except ValueError:
        raise EnrolmentRefused("challenge: expected one from GET /api/v1/enrol/challenge") from None
    if abs((now - issued).total_seconds()) > CHALLENGE_SECONDS:
        raise EnrolmentRefused("the challenge has expired: ask for a new one")
    last = row.last_challenge
    if last is not None and (challenge_text == last or stamp < last.partition("~")[0]):
        raise EnrolmentRefused("that challenge was signed before: ask for a new one")
    _verify(row, challenge_text, signature_b64)
    token = new_token("cwl")
    expires = iso(now + timedelta(minutes=SESSION_MINUTES))
    await conn.execute(
        update(sensors)
        .where(sensors.c.id == row.id)
        .values(
            token_hash=token_hash(token), session_expires=expires, last_challenge=challenge_text
        )
    )
    return token, expires
