"""Passwords (argon2id), bearer tokens (sha256 of 256 random bits), roles."""

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "admin", "headteacher", "governor")
ADMIN_ROLES = frozenset({"admin", "headteacher"})
"""May manage sensors, users, settings, school accounts (the headteacher also approves)."""
FOUR_EYES_ROLES = frozenset({"headteacher", "governor"})
"""Roles that count only once another, different headteacher or governor approved them (the very
first headteacher excepted: made on the server with `clausewarden user add`, and announced)."""
UNSUPPRESSED_ROLES = frozenset({"headteacher", "governor"})
"""See breakdowns with fewer than k devices (viewer and admin see "fewer than k")."""

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = hash_password(secrets.token_hex(16))


def burn_password_check(password: str) -> None:
    """Spend the time of a real check for an unknown user, so timing does not tell names."""
    verify_password(_DUMMY_HASH, password)


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """A fast lookup key: the token has 256 bits of entropy, so sha256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()
