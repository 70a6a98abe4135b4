"""Tickets used once: the warning page's ticket (Continue, Go back) and the Tell the Headteacher
form's token each work one time, also when several proxy processes share a host.

Shared through a small SQLite file in the proxy's data folder (WAL, 0600), which every mitmdump
started with that folder opens: claiming a ticket is one `INSERT OR IGNORE` of its id, so of any
number of uses, in any of the processes, exactly one inserts the row. The id is an HMAC of the
ticket under the proxy's allowance key, never the ticket. A row is kept until the ticket itself
expires (after that the signature check refuses it anyway), then pruned.

`use` runs the claim in a worker thread: a hook never waits on the disk.
"""

import asyncio
import hashlib
import hmac
import logging
import os
import sqlite3
import threading
from pathlib import Path

from proxy_addon.paths import USED_TICKETS_FILE
from proxy_addon.shared import Shared

log = logging.getLogger("clausewarden")

SCHEMA = """
CREATE TABLE IF NOT EXISTS used (id TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS used_expires ON used (expires);
"""
BUSY_MS = 2000
"""How long a claim waits for another process's write (each write is one short transaction)."""


class UsedTickets:
    """The used-ticket store of this proxy's data folder (an addon only to close it at the end)."""

    name = "clausewarden_used_tickets"

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._path: Path | None = None

    async def use(self, ticket: str, expires: int, now: float) -> bool:
        """Claim `ticket` (genuine and unexpired: the caller checked its signature) for its one
        use. True the first time, in any process sharing the data folder; False after, and when
        the store cannot be written (a ticket that cannot be claimed is not used)."""
        path = self.shared.data_dir / USED_TICKETS_FILE
        ident = hmac.new(self.shared.secret, b"used:" + ticket.encode(), hashlib.sha256).hexdigest()
        try:
            return await asyncio.to_thread(self._claim, path, ident, expires, int(now))
        except (sqlite3.Error, OSError) as exc:
            log.warning("a ticket could not be checked, so it was refused: %s", exc)
            return False

    def _claim(self, path: Path, ident: str, expires: int, now: int) -> bool:
        with self._lock:
            db = self._open(path)
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM used WHERE expires <= ?", (now,))
                claimed = db.execute(
                    "INSERT OR IGNORE INTO used (id, expires) VALUES (?, ?)", (ident, expires)
                ).rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return claimed == 1

    def _open(self, path: Path) -> sqlite3.Connection:
        if self._db is not None and self._path == path:
            return self._db
        self._close()
        # created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=0)
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA secure_delete=ON")
            db.executescript(SCHEMA)
        except BaseException:
            db.close()
            raise
        self._db, self._path = db, path
        return db

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = self._path = None

    async def done(self) -> None:
        await asyncio.to_thread(self._close_locked)

    def _close_locked(self) -> None:
        with self._lock:
            self._close()
