"""Every AppKey of the service: state lives on the application, typed, never in globals."""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from policy.school import SchoolConfig
from service.bundle import BundleSource
from service.config import Config
from service.ingest import Catalogue, Rollup, SensorLimits
from service.metrics import Metrics


@dataclass
class LoginLimiter:
    """At most `limit` failed logins per name and per client address in `window` seconds."""

    limit: int = 5
    window: float = 300.0
    failures: dict[str, list[float]] = field(default_factory=dict)

    def blocked(self, keys: list[str], now: float) -> bool:
        for key in keys:
            recent = [t for t in self.failures.get(key, []) if now - t < self.window]
            self.failures[key] = recent
            if len(recent) >= self.limit:
                return True
        return False

    def fail(self, keys: list[str], now: float) -> None:
        for key in keys:
            self.failures.setdefault(key, []).append(now)
        if len(self.failures) > 10_000:
            self.failures.clear()


SENSOR_CACHE_SECONDS = 2.0


@dataclass
class Services:
    """What the handlers share, built once at start."""

    school: SchoolConfig
    tz: ZoneInfo
    bundles: BundleSource
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
    sensor_limits: SensorLimits = field(default_factory=SensorLimits)
    """Per-sensor rate limits of the sensors' API (429 with Retry-After past them)."""
    catalogue: Catalogue | None = None
    """The ids ingest accepts (made from `school` on first use)."""


CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", AsyncEngine)
SERVICES = web.AppKey("services", Services)
USER = web.RequestKey("user", object)
"""The logged-in user's row (or None), looked up once per request."""
