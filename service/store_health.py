"""Whether the store can be written, and what the service does while it cannot.

A database that cannot be written (a full disk, a read-only or immutable file, a failing disk,
PostgreSQL gone or read-only) is a fault of the site, not of the request: the store's error
becomes a 503 with Retry-After (JSON under /api/, a sentence on a page), so a sensor keeps its
events and resends them later, and /healthz says that writes fail. Meanwhile the service
retries in the background: it drops its connections (a SQLite file opened while read-only stays
read-only on that connection), prepares the store again (migrations, audit key, seed) and
probes one small write; once that works it says so and answers normally again.

A service started on a database it cannot write starts all the same (pages that only read may
still work) and reconnects the same way when the file becomes writable.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("clausewarden.service")

RETRY_AFTER_SECONDS = 30
"""What a 503 tells a client to wait (a sensor's shipper backs off on its own too)."""


def write_failure(exc: BaseException) -> str | None:
    """One line naming why the store cannot be written, or None when `exc` is something else
    (a bug keeps its traceback; a constraint or a bad value is not a fault of the site)."""
    causes: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(causes) < 10:
        causes.append(current)
        current = getattr(current, "orig", None) or current.__cause__
    words = " ".join(str(c) for c in causes).lower()
    names = {type(c).__name__ for c in causes}
    if "readonly database" in words or "read-only transaction" in words:
        return "the database is read-only (its file, folder or server refuses writes)"
    if "database or disk is full" in words or "no space left" in words:
        return "the disk holding the database is full"
    if "could not extend file" in words or "disk i/o error" in words:
        return "the database's disk failed a write"
    if "unable to open database file" in words:
        return "the database file cannot be opened for writing"
    if names & {
        "ConnectionRefusedError",
        "ConnectionDoesNotExistError",
        "InterfaceError",
        "CannotConnectNowError",
        "AdminShutdownError",
    } or ("connection" in words and ("closed" in words or "refused" in words)):
        return "the database cannot be reached"
    return None


@dataclass
class StoreHealth:
    retry_seconds: float = 10.0
    failing: str | None = None
    """Why writes fail (one line), or None while they work."""
    since: datetime | None = None
    ready: bool = False
    """The store was prepared (migrations applied, audit key attached, seed written)."""
    _retrying: asyncio.Task[None] | None = field(default=None, repr=False)

    def failed(self, reason: str, now: datetime) -> None:
        if self.failing is None:
            log.error("the store cannot be written: %s; answering 503 and retrying", reason)
            self.since = now
        self.failing = reason

    def recovered(self) -> None:
        if self.failing is not None:
            log.warning("the store can be written again (failing since %s)", self.since)
        self.failing, self.since = None, None

    def report(self) -> dict[str, str]:
        if self.failing is None:
            return {"writes": "ok"}
        since = self.since.strftime("%Y-%m-%dT%H:%M:%SZ") if self.since else "unknown"
        return {"writes": "failing", "why": self.failing, "since": since}

    def retry_in_background(
        self,
        engine: AsyncEngine,
        prepare: Callable[[AsyncEngine], Awaitable[None]],
        clock: Callable[[], datetime],
    ) -> None:
        """Start (once) the loop that reconnects and probes until a write works."""
        if self._retrying is not None and not self._retrying.done():
            return
        self._retrying = asyncio.get_running_loop().create_task(
            self._retry(engine, prepare, clock), name="clausewarden-store-retry"
        )

    async def _retry(
        self,
        engine: AsyncEngine,
        prepare: Callable[[AsyncEngine], Awaitable[None]],
        clock: Callable[[], datetime],
    ) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            try:
                await engine.dispose()  # new connections: a read-only open is not kept
                if not self.ready:
                    await prepare(engine)
                    self.ready = True
                await probe_write(engine)
            except Exception as exc:  # noqa: BLE001 - any failure: wait and try again
                self.failed(write_failure(exc) or f"{type(exc).__name__}", clock())
                continue
            self.recovered()
            return

    async def stop(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
            self._retrying = None


STORE_HEALTH = web.AppKey("store_health", StoreHealth)
Prepare = Callable[[AsyncEngine], Awaitable[None]]
PREPARE = web.AppKey("store_prepare", Prepare)  # type: ignore[arg-type]
"""How the app prepares its store (migrations, audit key, seed), for the reconnect loop."""


async def probe_write(engine: AsyncEngine) -> None:
    """One small real write, so a full disk or a read-only file shows: SQLite rewrites its
    header's user_version (unused by ClauseWarden) with the same value; PostgreSQL makes a
    temporary table dropped at commit (refused by a read-only server)."""
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            version = (await conn.execute(text("PRAGMA user_version"))).scalar_one()
            await conn.execute(text(f"PRAGMA user_version = {int(version)}"))
        else:
            await conn.execute(
                text("CREATE TEMPORARY TABLE clausewarden_probe (x integer) ON COMMIT DROP")
            )


def unavailable(request: web.Request, reason: str) -> web.HTTPServiceUnavailable:
    """The 503 for a store that cannot be written: JSON under /api/ (and /healthz), a sentence
    on a page; Retry-After on both."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    message = f"{reason}; nothing was stored: retry in {RETRY_AFTER_SECONDS} seconds"
    if request.path.startswith("/api/") or request.path == "/healthz":
        import orjson

        body = orjson.dumps({"error": message, "retry_after": RETRY_AFTER_SECONDS})
        return web.HTTPServiceUnavailable(
            body=body, content_type="application/json", headers=headers
        )
    return web.HTTPServiceUnavailable(
        text=f"The service cannot save anything just now: {message}. The school's IT admin "
        "is told by /healthz.",
        headers=headers,
    )
