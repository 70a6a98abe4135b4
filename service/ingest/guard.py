"""What ingest accepts beyond the event's shape: only ids this service's catalogue knows, from a
sensor that is not flooding it.

`Catalogue` holds the ids of the configuration the service runs (platforms, rules, device groups,
continue reasons) and, per published policy version, the clause ids of that version's document
(the `policy_versions` table); an event naming any other id is refused, so a token holder cannot
fill the store or the exports with made-up platforms, rules or clauses.

`RateLimit` is a token bucket per sensor: a burst, then a steady rate; over it a sensor is told
429 with Retry-After (never a 5xx), and the buckets are bounded by the number of sensors.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.decide import NO_RULE
from policy.school import SchoolConfig
from service.db import policy_versions


@dataclass(frozen=True, slots=True)
class Known:
    """The ids one event may name."""

    platforms: frozenset[str]
    rules: frozenset[str]
    device_groups: frozenset[str]
    reasons: frozenset[str]
    clauses: frozenset[str]


class Catalogue:
    """The ids of the service's configuration, and the clauses of each published policy version."""

    def __init__(self, school: SchoolConfig) -> None:
        self.platforms = frozenset(p.id for p in school.platforms.platforms)
        self.rules = frozenset({*(r.id for r in school.rules.rules), NO_RULE})
        self.device_groups = frozenset(g.id for g in school.device_groups.device_groups)
        self.reasons = frozenset(r.id for r in school.settings.settings.continue_reasons)
        self._clauses: dict[str, frozenset[str] | None] = {
            school.policy.document.version: frozenset(c.id for c in school.policy.clauses)
        }

    async def known(self, conn: AsyncConnection, versions: Iterable[str]) -> dict[str, Known]:
        """The ids for each of `versions` this service has published (others are left out)."""
        wanted = [v for v in set(versions) if v not in self._clauses]
        if wanted:
            rows = await conn.execute(
                select(policy_versions.c.version, policy_versions.c.document).where(
                    policy_versions.c.version.in_(wanted[:50])
                )
            )
            found = {row.version: _clause_ids(row.document) for row in rows}
            if len(self._clauses) < 1000:  # bounded: versions are few, made-up ones not kept
                self._clauses.update(found)
            else:
                return self._with(versions, found)
        return self._with(versions, {})

    def _with(
        self, versions: Iterable[str], extra: Mapping[str, frozenset[str]]
    ) -> dict[str, Known]:
        out = {}
        for version in set(versions):
            clauses = extra.get(version) or self._clauses.get(version)
            if clauses is not None:
                out[version] = Known(
                    self.platforms, self.rules, self.device_groups, self.reasons, clauses
                )
        return out


def _clause_ids(document: str) -> frozenset[str]:
    try:
        data = orjson.loads(document)
        return frozenset(str(c["id"]) for c in data.get("clauses", ()))
    except (orjson.JSONDecodeError, TypeError, KeyError, AttributeError):
        return frozenset()


UNKNOWN_ID_PROBLEMS = {
    "policy_version": "not a policy version this service has published",
    "platform": "not a platform of the service's catalogue",
    "rule": "not a rule of the service's configuration",
    "device_group": "not a device group of the service's configuration",
    "reason_category": "not one of the configured continue reasons",
    "clauses": "names a clause that this policy version does not have",
    "may_apply": "names a clause that this policy version does not have",
}
"""What ingest says of an id the catalogue does not know, by field."""


def unknown_ids(ev: Mapping[str, Any], known: Known | None) -> list[tuple[str, str]]:
    """(field, message) for each id of a well-formed event that the catalogue does not know."""
    if known is None:
        return [("policy_version", UNKNOWN_ID_PROBLEMS["policy_version"])]
    unknown = []
    if ev["platform"] not in known.platforms:
        unknown.append("platform")
    if ev["rule"] not in known.rules:
        unknown.append("rule")
    if ev["device_group"] not in known.device_groups:
        unknown.append("device_group")
    if ev.get("reason_category") is not None and ev["reason_category"] not in known.reasons:
        unknown.append("reason_category")
    if any(c not in known.clauses for c in ev["clauses"]):
        unknown.append("clauses")
    if any(c not in known.clauses for c in ev.get("may_apply", ())):
        unknown.append("may_apply")
    return [(field, UNKNOWN_ID_PROBLEMS[field]) for field in unknown]


@dataclass
class RateLimit:
    """A token bucket per key: `burst` at once, then `per_second`; bounded by `max_keys`."""

    burst: float
    per_second: float
    max_keys: int = 10_000
    _buckets: dict[Any, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: Any, now: float) -> float:
        """0 if `key` may go on now (and a token is taken); else the seconds until it may."""
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - last) * self.per_second)
        if tokens >= 1:
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.per_second

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled (they hold nothing a sensor would miss)."""
        full = [
            k
            for k, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.per_second >= self.burst
        ]
        for k in full:
            del self._buckets[k]


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


@dataclass
class SensorLimits:
    """The per-sensor limits of the sensors' API (keyed by sensor id)."""

    events: RateLimit = field(default_factory=lambda: RateLimit(burst=60, per_second=2))
    """Batches: a proxy ships every few seconds, an extension every minute; a backlog drains in
    bursts of 60 batches (60,000 events), then 2 a second."""
    account_requests: RateLimit = field(
        default_factory=lambda: RateLimit(burst=10, per_second=1 / 60)
    )
    """Requests to register a school account: made by a person, a few a day."""
    staff_reports: RateLimit = field(default_factory=lambda: RateLimit(burst=10, per_second=1 / 60))
    proxy_account_requests: RateLimit = field(
        default_factory=lambda: RateLimit(burst=60, per_second=1 / 10)
    )
    """Account requests relayed by a proxy: as for its reports, the proxy limits each device."""
    proxy_staff_reports: RateLimit = field(
        default_factory=lambda: RateLimit(burst=60, per_second=1 / 10)
    )
    """Reports relayed by a proxy: its one credential speaks for every device behind it, and the
    proxy holds each device to its own limit (proxy_addon/report_limits.py), so this only bounds
    the proxy as a whole."""
    enrolments: RateLimit = field(default_factory=lambda: RateLimit(burst=200, per_second=1))
    """Enrolments per enrolment secret: a fleet's first morning in one burst, then one a second
    (a laptop refused tries again a minute later); the fleet size bounds what is kept."""
    """Reports to the headteacher (clause 8.1): written by a person, a few a term. The extension's
    token is shared by every laptop, so the burst is ten and then one a minute."""
