"""A realistic school term of anonymised events for `clausewarden demo --sample-data`.

Each event is decided by the real policy (`policy.decide`) from a plausible request at a
plausible time, then anonymised exactly as a sensor does, so the dashboard shows what the
school's own rules would produce.
"""

import random
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from policy import Facts, decide
from policy.engine import Policy
from policy.event import event_from_decision, pseudonym
from policy.school import SchoolConfig
from service.ingest import Rollup, check_batch, store_events

PLATFORM_WEIGHTS = {
    "facebook": 26,
    "youtube": 22,
    "instagram": 10,
    "x": 8,
    "linkedin": 8,
    "whatsapp": 7,
    "tiktok": 6,
    "pinterest": 4,
    "reddit": 3,
    "wikipedia": 4,
    "snapchat": 2,
}
HOUR_WEIGHTS = {7: 2, 8: 6, 9: 3, 10: 4, 11: 3, 12: 12, 13: 9, 14: 3, 15: 6, 16: 8, 17: 5, 18: 3}


def _term_days(school: SchoolConfig, today: date, days: int) -> list[date]:
    start = today - timedelta(days=days - 1)
    closed: set[date] = set()
    for closure in school.schedule.closures:
        d = closure.start
        while d <= closure.end:
            closed.add(d)
            d += timedelta(days=1)
    closed |= {d.date for d in school.schedule.bank_holidays}
    out = []
    d = start
    while d <= today:
        if d.weekday() < 5 and d not in closed:
            out.append(d)
        d += timedelta(days=1)
    return out


def generate(
    school: SchoolConfig,
    bundle: dict[str, Any],
    *,
    sensor: str,
    today: date,
    days: int = 60,
    devices: int = 24,
    per_day: int = 70,
    seed: int = 7,
) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    policy = Policy.from_bundle(bundle)
    tz = ZoneInfo(school.schedule.time_zone)
    catalogue = {p.id: p for p in school.platforms.platforms}
    names = [p for p in PLATFORM_WEIGHTS if p in catalogue]
    weights = [PLATFORM_WEIGHTS[p] for p in names]
    hours = list(HOUR_WEIGHTS)
    hour_weights = list(HOUR_WEIGHTS.values())
    # the sample's events are page views: the reasons that continue one
    reasons = [
        r.id
        for r in school.settings.settings.continue_reasons
        if r.acts.get("browse") == "continue"
    ]
    granularity = school.settings.settings.event_time_granularity_minutes
    out: list[dict[str, Any]] = []
    for day in _term_days(school, today, days):
        salt = secrets.token_bytes(32)  # each day's salt, forgotten at once
        for _ in range(max(1, int(rng.gauss(per_day, per_day / 5)))):
            platform = rng.choices(names, weights)[0]
            hour = rng.choices(hours, hour_weights)[0]
            local = datetime.combine(day, time(hour, rng.randrange(60)), tz)
            device = rng.randrange(devices)
            client = f"10.0.{device // 200}.{device % 200 + 10}"
            domain = catalogue[platform].domains[0]
            facts = Facts.from_url(
                f"https://www.{domain}/",
                method="GET",
                headers={"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
                cookies={},
                body=None,
                at=local,
                client=client,
            )
            decision = decide(facts, policy)
            if not decision.record:
                continue
            response, reason = "none", None
            if decision.outcome == "warn":
                roll = rng.random()
                if roll < 0.6:
                    response = "went_back"
                elif roll < 0.85 and decision.allow_continue:
                    response, reason = "continued", rng.choice(reasons)
            event = event_from_decision(
                decision,
                event_id=uuid.uuid4().hex,
                at=local,
                sensor=sensor,
                device=pseudonym(salt, client),
                policy_version=bundle["policy_version"],
                granularity_minutes=granularity,
                response=response,
                reason_category=reason,
            )
            out.append(event.to_json())
    return out


async def load(
    engine: AsyncEngine,
    school: SchoolConfig,
    bundle: dict[str, Any],
    *,
    sensor: str,
    now: datetime,
    retention_days: int,
) -> int:
    """Generate and store (through the same checks and inserts as the API); returns the count."""
    tz = ZoneInfo(school.schedule.time_zone)
    today = now.astimezone(tz).date()
    days = 60
    for term in school.schedule.terms:  # from the start of the current term, if in one
        if term.start <= today <= term.end:
            days = (today - term.start).days + 1
    events = generate(
        school, bundle, sensor=sensor, today=today, days=min(days, retention_days - 1)
    )
    rollup = Rollup(tz)
    stored = 0
    for i in range(0, len(events), 1000):
        checked, _status, problems = check_batch(
            {"events": events[i : i + 1000]},
            sensor=sensor,
            now=now.astimezone(UTC),
            retention_days=retention_days,
        )
        if problems:
            raise ValueError(f"sample data refused: {problems[:3]}")
        async with engine.begin() as conn:
            stored += (await store_events(conn, checked, rollup))[0]
    return stored
