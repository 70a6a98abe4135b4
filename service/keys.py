"""Every AppKey of the service: state lives on the application, typed, never in globals."""

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from policy.school import SchoolConfig
from service.bundle import BundleBuilder
from service.config import Config
from service.ingest import Catalogue, Rollup, SensorLimits
from service.ingest.counting import CountingKeys
from service.metrics import Metrics


@dataclass
class _Strikes:
    times: deque[float]
    """When the last few failures happened (at most `limit` kept)."""
    blocks: int = 0
    """How often this key has been blocked lately: each block lasts twice the one before."""
    until: float = 0.0


@dataclass
class _Limit:
    """`limit` failures within `window` seconds block a key for `backoff` seconds, doubling with
    each block up to `max_backoff`; a key quiet for `forget` seconds is forgotten. At most
    `capacity` keys are kept: when full, the expired go first, then the one failing longest ago
    that is not blocked; a blocked key is never dropped to make room, and nothing is ever
    cleared wholesale (when every kept key is blocked, a new key's failures are not counted,
    but the blocked keys stay blocked)."""

    limit: int
    window: float
    backoff: float
    max_backoff: float
    forget: float = 3600.0
    capacity: int = 10_000
    keys: dict[Any, _Strikes] = field(default_factory=dict)

    def blocked(self, key: Any, now: float) -> bool:
        entry = self.keys.get(key)
        return entry is not None and entry.until > now

    def fail(self, key: Any, now: float) -> None:
        entry = self.keys.get(key)
        if entry is None:
            if len(self.keys) >= self.capacity and not self._make_room(now):
                return
            entry = self.keys[key] = _Strikes(deque(maxlen=self.limit))
        entry.times.append(now)
        if len(entry.times) == self.limit and now - entry.times[0] < self.window:
            entry.blocks += 1
            entry.until = now + min(self.max_backoff, self.backoff * 2 ** (entry.blocks - 1))
            entry.times.clear()

    def forgive(self, key: Any) -> None:
        self.keys.pop(key, None)

    def _last(self, entry: _Strikes) -> float:
        return max(entry.until, entry.times[-1] if entry.times else 0.0)

    def _make_room(self, now: float) -> bool:
        for key in [k for k, e in self.keys.items() if now - self._last(e) > self.forget]:
            del self.keys[key]
        if len(self.keys) < self.capacity:
            return True
        candidates = [(self._last(e), k) for k, e in self.keys.items() if e.until <= now]
        if not candidates:
            return False
        del self.keys[min(candidates, key=lambda c: c[0])[1]]
        return True


@dataclass
class LoginLimiter:
    """Failed logins, limited three ways, each with a backoff that doubles and expires:

    - a name from one address: 5 failures in 5 minutes block that pair (1 minute, then 2, 4...);
    - one address, whatever the names: 30 failures in 5 minutes block the address;
    - a name from every address together: 20 failures in 5 minutes slow that name down for at
      most 5 minutes at a time, except from an address it logged in from before, so no one can
      lock a named user out (one address alone cannot even reach this limit: its pair blocks
      first).
    """

    pair: _Limit = field(default_factory=lambda: _Limit(5, 300.0, 60.0, 3600.0))
    address: _Limit = field(default_factory=lambda: _Limit(30, 300.0, 60.0, 3600.0))
    name: _Limit = field(default_factory=lambda: _Limit(20, 300.0, 30.0, 300.0))
    known: dict[tuple[str, str], float] = field(default_factory=dict)
    """(name, address) -> when that name last logged in from there (at most 10,000 kept)."""
    remember: float = 30 * 86400.0

    def blocked(self, name: str, address: str, now: float) -> bool:
        if self.pair.blocked((name, address), now) or self.address.blocked(address, now):
            return True
        if self.known.get((name, address), -self.remember) > now - self.remember:
            return False
        return self.name.blocked(name, now)

    def fail(self, name: str, address: str, now: float) -> None:
        self.pair.fail((name, address), now)
        self.address.fail(address, now)
        self.name.fail(name, now)

    def succeed(self, name: str, address: str, now: float) -> None:
        self.pair.forgive((name, address))
        if len(self.known) >= 10_000 and (name, address) not in self.known:
            for key in [k for k, t in self.known.items() if now - t > self.remember]:
                del self.known[key]
            if len(self.known) >= 10_000:
                del self.known[min(self.known, key=self.known.__getitem__)]
        self.known[(name, address)] = now


SENSOR_CACHE_SECONDS = 2.0


@dataclass
class Services:
    """What the handlers share, built once at start."""

    school: SchoolConfig
    tz: ZoneInfo
    bundles: BundleBuilder
    rollup: Rollup
    metrics: Metrics = field(default_factory=Metrics)
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """SQLite has one writer: batches queue here instead of retrying on a busy database."""
    logins: LoginLimiter = field(default_factory=LoginLimiter)
    sensor_cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    """token hash -> (monotonic expiry, sensor row): a token is looked up at most every
    SENSOR_CACHE_SECONDS, so a revocation made elsewhere (the CLI) bites within that time."""
    sensor_writes: dict[int, datetime] = field(default_factory=dict)
    """When each sensor's last_seen was last written (it is written at most every 10 s)."""
    sensor_status: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    """The outbox status each sensor last had written (a changed one is written at once)."""
    sensor_limits: SensorLimits = field(default_factory=SensorLimits)
    """Per-sensor rate limits of the sensors' API (429 with Retry-After past them)."""
    catalogue: Catalogue | None = None
    """The ids ingest accepts (made from `school` on first use)."""
    reported_on: dict[int, date] = field(default_factory=dict)
    """The day of each sensor's last staff report: its first of the day is never refused."""
    counting_keys: CountingKeys = field(default_factory=CountingKeys)
    """Today's counting key (memory only): an enrolled laptop is one device per day."""


CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", AsyncEngine)
SERVICES = web.AppKey("services", Services)
USER = web.RequestKey("user", object)
"""The logged-in user's row (or None), looked up once per request."""
