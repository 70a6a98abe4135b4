"""The key that authenticates backups, kept outside them.

`clausewarden backup` signs each archive's manifest (which holds the SHA-256 of every file in it)
with an HMAC-SHA-256 under this key, and `clausewarden restore` refuses an archive whose manifest
or files do not match: an archive whose users table was edited, or whose session or audit key was
replaced, is not restored. The key is never in an archive (the audit key and the session key are,
so they cannot vouch for it): it lives in the configuration folder, `backup.key` (0600), made at
the first backup; a restore on a new machine needs a copy of it kept apart from the backups
(docs/operating.md).
"""

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

KEY_FILE = "backup.key"
DEFAULT_CONFIG_DIR = Path("/etc/clausewarden")
_DOMAIN = b"cw-backup-v1\n"


class BackupKeyError(Exception):
    """The key cannot be used; the message is one line that names the fix."""


def key_path(key: Path | None, config_dir: Path | None) -> Path:
    """--key, else backup.key in the configuration folder (--config, $CLAUSEWARDEN_CONFIG, else
    /etc/clausewarden). Never the built-in configuration inside the installed package."""
    if key is not None:
        return key.expanduser()
    folder = config_dir or Path(os.environ.get("CLAUSEWARDEN_CONFIG") or DEFAULT_CONFIG_DIR)
    return folder.expanduser() / KEY_FILE


def _read(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise BackupKeyError(
            f"{path} can be read by others (mode {mode:o}): `chmod 600 {path}`, then try again"
        )
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) < 32:
        raise BackupKeyError(
            f"{path} is not a backup key (64 hex digits): put back the copy kept apart from the "
            "backups"
        )
    return key


def load_key(path: Path) -> bytes:
    """The key for a restore: it must exist already."""
    if not path.is_file():
        raise BackupKeyError(
            f"no backup key at {path}: copy there the backup.key kept apart from the backups "
            "(or give --key FILE); a backup is never restored unchecked"
        )
    return _read(path)


def load_or_make_key(path: Path) -> tuple[bytes, bool]:
    """The key for a backup, made (0600) at the first backup: (key, whether made just now)."""
    if path.is_file():
        return _read(path), False
    if not path.parent.is_dir():
        raise BackupKeyError(
            f"no folder {path.parent} for the backup key: give --config (the configuration "
            "folder) or --key FILE"
        )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
    return _read(path), True


def sign(key: bytes, manifest: bytes) -> str:
    return hmac.new(key, _DOMAIN + manifest, hashlib.sha256).hexdigest()


def signed_by(key: bytes, manifest: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(key, manifest), signature.strip())
