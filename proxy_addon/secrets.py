"""Proxy-local secrets in 0600 files: the allowance key, and the salts when there is no service."""

import json
import os
import secrets
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by the owner only (created 0600, replaced atomically)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def private_key(path: Path) -> bytes:
    """A 32-byte key kept in `path` (0600), created on first use."""
    try:
        key = bytes.fromhex(path.read_text().strip())
        if len(key) == 32:
            return key
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    write_private(path, key.hex().encode())
    return key


def daily_salt(path: Path, day: str) -> bytes:
    """The local salt for `day` (no service): kept for that day only, yesterday's is overwritten."""
    try:
        data = json.loads(path.read_text())
        if data.get("date") == day:
            return bytes.fromhex(data["salt"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    salt = secrets.token_bytes(32)
    write_private(path, json.dumps({"date": day, "salt": salt.hex()}).encode())
    return salt
