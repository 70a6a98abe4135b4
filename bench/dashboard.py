"""Dashboard and event-log query latency at scale: fills a SQLite store (or PostgreSQL) with N
anonymised events over 90 days through the ingest code, then times each dashboard query and
event-log pages (p50/p95), and prints the database size per million events.

    .venv/bin/python bench/dashboard.py                 # 1,000,000 events, SQLite
    .venv/bin/python bench/dashboard.py --events 10000000
    .venv/bin/python bench/dashboard.py --database postgresql+asyncpg://user:pw@127.0.0.1/db
"""

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import figures  # noqa: E402
from service.db import make_engine, migrate  # noqa: E402
from service.ingest import Rollup, check_batch, store_events  # noqa: E402
from service.queries import EventFilter, page, parse_cursor  # noqa: E402

PLATFORMS = [
    ("facebook", "social_network", 30),
    ("instagram", "social_network", 12),
    ("x", "social_network", 10),
    ("linkedin", "professional_network", 10),
    ("youtube", "video", 20),
    ("whatsapp", "messaging", 8),
    ("tiktok", "social_network", 6),
    ("reddit", "forum", 4),
]
TZ = ZoneInfo("Europe/London")


def events_for_day(day: date, n: int, devices: list[str]) -> list[dict[str, Any]]:
    names = [p for p, _, _ in PLATFORMS]
    cats = {p: c for p, c, _ in PLATFORMS}
    weights = [w for _, _, w in PLATFORMS]
    out = []
    for _ in range(n):
        platform = random.choices(names, weights)[0]
        hour = random.choice((8, 9, 10, 11, 12, 12, 13, 13, 14, 15, 16, 17))
        at = datetime(day.year, day.month, day.day, hour, random.choice((0, 15, 30, 45)), tzinfo=TZ)
        outcome = random.choice(("warn", "warn", "log", "block"))
        out.append(
            {
                "id": uuid.uuid4().hex,
                "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "sensor": "bench",
                "device": random.choice(devices),
                "platform": platform,
                "category": cats[platform],
                "action": "browse",
                "outcome": outcome,
                "clauses": ["7"] if outcome == "log" else ["6.2", "7"],
                "rule": "social-working-time",
                "working_time": True,
                "device_group": random.choice(("staff-devices", "staff-devices", "staff-wifi")),
                "account": "unknown",
                "school_account": None,
                "policy_version": "wycliffe-smp-2017-02",
                "response": random.choice(("none", "went_back", "continued"))
                if outcome == "warn"
                else "none",
                "reason_category": None,
            }
        )
    for e in out:
        if e["response"] == "continued":
            e["reason_category"] = "teaching-resource"
    return out


async def fill(engine: Any, total: int, days: int, now: datetime) -> float:
    rollup = Rollup(TZ)
    today = now.astimezone(TZ).date()
    per_day = total // days
    t0 = time.perf_counter()
    for d in range(days):
        day = today - timedelta(days=days - 1 - d)
        devices = [uuid.uuid4().hex for _ in range(200)]  # the day's pseudonyms
        remaining = per_day
        while remaining > 0:
            n = min(1000, remaining)
            checked, _s, problems = check_batch(
                {"events": events_for_day(day, n, devices)},
                sensor="bench",
                now=now,
                retention_days=days + 1,
            )
            assert not problems, problems[:2]
            async with engine.begin() as conn:
                _stored, _dup, device_rows = await store_events(conn, checked, rollup)
            rollup.remember(device_rows)
            remaining -= n
        if d % 10 == 9:
            print(f"  filled {per_day * (d + 1):,} events", flush=True)
    return time.perf_counter() - t0


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite+aiosqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        await migrate(engine)
        now = datetime.now(UTC)
        print(f"filling {args.events:,} events over {args.days} days ...", flush=True)
        seconds = await fill(engine, args.events, args.days, now)
        print(f"filled in {seconds:.0f} s ({args.events / seconds:,.0f} events/s in-process)")
        today = now.astimezone(TZ).date()
        cursor_holder: dict[str, Any] = {}

        async def dash(days: int, suppress: bool) -> None:
            start, end = figures.range_for(today, days)
            async with engine.connect() as conn:
                await figures.figures(conn, start=start, end=end, k=3, coarse=not suppress)

        async def log_page(flt: EventFilter, deep: bool = False) -> None:
            async with engine.connect() as conn:
                cursor = cursor_holder.get("deep") if deep else None
                _items, nxt, _hidden = await page(conn, TZ, 3, flt, cursor=cursor, limit=50)
                if not deep and nxt:
                    cursor_holder["first"] = nxt

        # a cursor far down the log: after skipping ~100 pages
        async with engine.connect() as conn:
            cursor = None
            for _ in range(100):
                _items, nxt, _hidden = await page(
                    conn, TZ, 3, EventFilter(), cursor=cursor, limit=50
                )
                cursor = parse_cursor(nxt) if nxt else None
            cursor_holder["deep"] = cursor

        cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("dashboard, 30 days (all figures)", lambda: dash(30, True)),
            ("dashboard, 90 days (all figures)", lambda: dash(90, True)),
            ("event log, first page", lambda: log_page(EventFilter())),
            ("event log, page 101 (cursor)", lambda: log_page(EventFilter(), deep=True)),
            (
                "event log, platform=reddit",
                lambda: log_page(EventFilter(platform="reddit")),
            ),
            (
                "event log, outcome=block + clause 6.2",
                lambda: log_page(EventFilter(outcome="block", clause="6.2")),
            ),
            (
                "event log, last 7 days, staff-wifi, working time",
                lambda: log_page(
                    EventFilter(
                        start=today - timedelta(days=6),
                        device_group="staff-wifi",
                        working_time=True,
                    )
                ),
            ),
        ]
        print(f"query latency over {args.events:,} events ({args.repeat} runs each):")
        for name, fn in cases:
            p50, p95 = await timed(fn, args.repeat)
            print(f"  {name:<50} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
        await engine.dispose()
        if not args.database:
            files = list(Path(tmp).glob("bench.db*"))
            size = sum(f.stat().st_size for f in files)
            print(
                f"database size: {size / 2**20:,.0f} MiB, "
                f"{size / 2**20 / (args.events / 1e6):,.0f} MiB per million events"
            )


if __name__ == "__main__":
    asyncio.run(main())
