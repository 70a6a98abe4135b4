"""Proxy-local secrets in 0600 files: the allowance key, the long-lived device key of the `stable`
privacy level, and the day's salt. None of them ever leaves the proxy, and the service hands out
none: pseudonyms of different sensors need not agree."""

import hashlib
import hmac
import json
import os
import secrets
import threading
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


def read_key(path: Path) -> bytes | None:
    """The 32-byte key kept in `path`, or None when there is none (or it is unreadable)."""
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return key if len(key) == 32 else None


def private_key(path: Path) -> bytes:
    """A 32-byte key kept in `path` (0600), created on first use: by the first of the proxy
    processes sharing the data folder that gets there, and the others read it (several workers
    started at once must sign with one key)."""
    key = read_key(path)
    if key is not None:
        return key
    fresh = secrets.token_bytes(32)
    mine = path.with_name(f"{path.name}.{os.getpid()}.new")
    write_private(mine, fresh.hex().encode())
    try:
        os.link(mine, path)  # whole and 0600, and only where there is no key yet
    except FileExistsError:
        key = read_key(path)
        if key is not None:
            return key
        os.replace(mine, path)  # an unreadable key: replaced, as before
    finally:
        mine.unlink(missing_ok=True)
    return fresh


class DailySalt:
    """The salt of one school day, kept in memory and in a 0600 file so that a restart the same
    day keeps each device's pseudonym; replaced by a new one when the day changes, the old one
    deleted with the file it was in. A day whose salt is gone never gets one again.

    `for_day` runs in the proxy's hooks: it never touches the disk itself. A new salt is written
    by `save` (the caller runs it off the event loop), and `load` / `forget_before` are for
    startup and the proxy's midnight housekeeping (also off the event loop)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._day: str | None = None
        self._salt: bytes | None = None
        self._unsaved = False

    def load(self, today: str | None) -> None:
        """Read the salt file (startup); a salt of a day other than `today` is deleted."""
        try:
            data = json.loads(self.path.read_text())
            day, salt = str(data["date"]), bytes.fromhex(data["salt"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError):
            self._unlink()  # unreadable: of no use to anyone
            return
        with self._lock:
            if today is not None and day != today:
                self._day, self._salt, self._unsaved = None, None, False
                self._unlink()
            elif len(salt) == 32:
                self._day, self._salt, self._unsaved = day, salt, False

    def for_day(self, day: str) -> bytes | None:
        """The salt of `day` (YYYY-MM-DD, the school's local day), made when the day first needs
        one; None for a day before the one in hand (its salt is destroyed)."""
        with self._lock:
            if self._day == day and self._salt is not None:
                return self._salt
            if self._day is not None and day < self._day:
                return None
            self._day, self._salt, self._unsaved = day, secrets.token_bytes(32), True
            return self._salt

    @property
    def unsaved(self) -> bool:
        return self._unsaved

    def save(self) -> None:
        """Write the salt in hand to its file, replacing (so deleting) the day before's."""
        with self._lock:
            if not self._unsaved or self._salt is None:
                return
            day, salt = self._day, self._salt
            write_private(self.path, json.dumps({"date": day, "salt": salt.hex()}).encode())
            self._unsaved = False

    def forget_before(self, today: str) -> bool:
        """Destroy the salt of any day before `today` (in memory and on disk); True if one was."""
        with self._lock:
            if self._day is None or self._day >= today:
                return False
            self._day, self._salt, self._unsaved = today, None, False
            # `_day` stays at today with no salt: for_day(today) makes a new one, and no day
            # before today gets one again.
            self._unlink()
            return True

    def _unlink(self) -> None:
        for path in (self.path, self.path.with_name(self.path.name + ".tmp")):
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    def tag_key(self, day: str) -> bytes | None:
        """A key for the day's outbox tags, derived from the day's salt (gone with it)."""
        salt = self.for_day(day)
        if salt is None:
            return None
        return hmac.new(salt, b"clausewarden outbox self tag", hashlib.sha256).digest()
