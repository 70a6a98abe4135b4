"""The durable outbox: every event is in SQLite (WAL) before the page that caused it is sent.

Bounded: past `max_pending` unshipped events a new event is not kept, and the count of events not
kept is itself stored (and reported to the service as `outbox_dropped`). An event that cannot
be written (a full disk, a read-only file) is counted the same way, in memory until the file can
be written again: a failure to record never stops a warning, and is never silent. Shipped events
stay for the rest of the day so staff can see their own (the self-view), then are pruned;
unshipped ones older than the retention period are deleted (the service would refuse them
anyway).

Each row carries a device tag for the self-view that rotates daily: the tag the caller gives,
under a key of that day (`tag_key`, derived from the proxy's daily salt). When the day's salt is
destroyed the day's tags can no longer be recomputed, and pruning blanks past days' tags too.
"""

import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from policy.event import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    day TEXT NOT NULL,
    self_tag TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_pending ON events (state, seq);
CREATE INDEX IF NOT EXISTS events_self ON events (self_tag, day);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('dropped', 0);
INSERT OR IGNORE INTO meta VALUES ('rejected', 0);
"""
PENDING, SHIPPED, REJECTED, DEFERRED = 0, 1, 2, 3
"""DEFERRED: the service said the event's time is more than a day ahead of its clock (this
proxy's clock is ahead); it is kept, counted as pending, and sent again later."""
UNSHIPPED = (PENDING, DEFERRED)
"""Still to be sent: the pending count and the oldest pending time include deferred events."""


class Outbox:
    """One SQLite file; safe to use from the proxy's thread and the shipper (one lock)."""

    def __init__(
        self,
        path: Path,
        max_pending: int = 100_000,
        tag_key: Callable[[str], bytes | None] | None = None,
    ) -> None:
        self.path = path
        self.max_pending = max_pending
        self.tag_key = tag_key
        self._lock = threading.Lock()
        self.unwritten = 0  # events that could not be written, not yet added to 'dropped'
        self.write_error = ""  # the last write failure, for the log and `doctor`
        # 0600 whoever runs it and whatever the umask: SQLite gives its -wal and -shm files the
        # database file's mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process
        self._db.execute("PRAGMA secure_delete=ON")  # a deleted row's bytes are overwritten
        self._db.executescript(SCHEMA)
        self._pending = self._count_pending()

    def _count_pending(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM events WHERE state IN (?, ?)", UNSHIPPED
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _day_tag(self, day: str, self_tag: str) -> str:
        """The stored tag of `self_tag` on `day` ('' when that day's key is gone or unset)."""
        key = self.tag_key(day) if self.tag_key is not None else None
        if key is None or not self_tag:
            return ""
        return hmac.new(key, self_tag.encode(), hashlib.sha256).hexdigest()[:24]

    def add(self, event: Event, day: str, self_tag: str) -> bool:
        """Keep `event`; False (and the dropped count goes up) when the outbox is full or the
        event could not be written (`write_error` says why). Never raises for a write."""
        with self._lock:
            try:
                if self._pending >= self.max_pending:
                    self._db.execute("UPDATE meta SET value = value + 1 WHERE name = 'dropped'")
                    return False
                self._db.execute(
                    "INSERT OR IGNORE INTO events (id, day, self_tag, data) VALUES (?, ?, ?, ?)",
                    (
                        event.id,
                        day,
                        self._day_tag(day, self_tag),
                        json.dumps(event.to_json(), separators=(",", ":")),
                    ),
                )
            except sqlite3.Error as exc:  # a full disk, a read-only or damaged file
                self.unwritten += 1
                self.write_error = str(exc)
                return False
            self._pending += 1
            self._count_unwritten()
            return True

    def _count_unwritten(self) -> None:
        """Once the file can be written again, the events lost meanwhile join the stored count."""
        if not self.unwritten:
            return
        try:
            self._db.execute(
                "UPDATE meta SET value = value + ? WHERE name = 'dropped'", (self.unwritten,)
            )
        except sqlite3.Error:
            return
        self.unwritten, self.write_error = 0, ""

    def pending(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, data FROM events WHERE state = 0 ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(int(seq), json.loads(data)) for seq, data in rows]

    def mark(self, seqs: Sequence[int], state: int) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            cur = self._db.executemany(
                "UPDATE events SET state = ? WHERE seq = ? AND state IN (?, ?)",
                [(state, s, *UNSHIPPED) for s in seqs],
            )
            if state == REJECTED and cur.rowcount > 0:  # counted for good (rows are pruned)
                self._db.execute(
                    "UPDATE meta SET value = value + ? WHERE name = 'rejected'", (cur.rowcount,)
                )
            self._db.execute("COMMIT")
            self._pending = self._count_pending()

    def retry_deferred(self) -> int:
        """Deferred events become pending again (to be sent once more); returns how many."""
        with self._lock:
            cur = self._db.execute("UPDATE events SET state = 0 WHERE state = 3")
            return cur.rowcount

    def status(self) -> dict[str, Any]:
        """`sensor_status` of the ingest API: pending count (deferred ones included), dropped
        count (outbox full, or an event that could not be written), refused count (the service
        refused them for good), oldest pending time."""
        with self._lock:
            oldest = self._db.execute(
                "SELECT data FROM events WHERE state IN (?, ?) ORDER BY seq LIMIT 1", UNSHIPPED
            ).fetchone()
            dropped = self._db.execute("SELECT value FROM meta WHERE name = 'dropped'").fetchone()
            rejected = self._db.execute("SELECT value FROM meta WHERE name = 'rejected'").fetchone()
        return {
            "outbox_pending": self._pending,
            "outbox_dropped": int(dropped[0]) + self.unwritten,
            "outbox_rejected": int(rejected[0]),
            "oldest_pending": json.loads(oldest[0])["time"] if oldest else None,
        }

    def for_self(self, self_tag: str, day: str) -> list[dict[str, Any]]:
        """This device's own events of `day` (the staff self-view), oldest first."""
        self_tag = self._day_tag(day, self_tag)
        if not self_tag:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM events WHERE self_tag = ? AND day = ? ORDER BY seq",
                (self_tag, day),
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    def all_events(self) -> list[tuple[str, dict[str, Any]]]:
        """Every event kept, with its state name (for `clausewarden outbox export`)."""
        names = {PENDING: "pending", SHIPPED: "shipped", REJECTED: "rejected", DEFERRED: "deferred"}
        with self._lock:
            rows = self._db.execute("SELECT state, data FROM events ORDER BY seq").fetchall()
        return [(names[int(state)], json.loads(data)) for state, data in rows]

    def prune(self, before_day: str, expired_before: str | None = None) -> int:
        """Forget shipped events of days before `before_day` (the self-view shows today only) and
        blank the device tags of the rest of those days; delete unshipped events of days before
        `expired_before` (past the retention period). Returns how many events were deleted."""
        with self._lock:
            self._db.execute("BEGIN")
            cur = self._db.execute(
                "DELETE FROM events WHERE state IN (1, 2) AND day < ?", (before_day,)
            )
            deleted = cur.rowcount
            if expired_before is not None:
                cur = self._db.execute("DELETE FROM events WHERE day < ?", (expired_before,))
                deleted += cur.rowcount
            self._db.execute(
                "UPDATE events SET self_tag = '' WHERE day < ? AND self_tag != ''", (before_day,)
            )
            self._db.execute("COMMIT")
            self._pending = self._count_pending()
            return deleted
