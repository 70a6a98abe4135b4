"""Sustained ingest over the real HTTP API: `clausewarden serve` in its own process, 8 clients
posting batches (of 100, then 1,000) of realistic events; prints events/s and the service's CPU
and memory, and how much of the service's CPU per event goes on checking it (in-process: the
check is `service.ingest.check_batch`, one plain validator derived from policy.event).

    .venv/bin/python bench/ingest.py                      # SQLite in a temporary data folder
    .venv/bin/python bench/ingest.py --database postgresql+asyncpg://user:pw@127.0.0.1/db
    .venv/bin/python bench/ingest.py --seconds 20 --clients 8 --batch 100 --batch 1000
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.events import an_event  # noqa: E402
from tests.support.net import free_port, stop, wait_for_port  # noqa: E402

PLATFORMS: list[tuple[str, Any]] = [
    ("facebook", "social_network"),
    ("instagram", "social_network"),
    ("x", "social_network"),
    ("linkedin", "professional_network"),
    ("youtube", "video"),
    ("whatsapp", "messaging"),
]
DEVICES = [uuid.uuid4().hex for _ in range(200)]


def make_event(now: datetime, sensor: str) -> dict[str, object]:
    platform, category = random.choice(PLATFORMS)
    at = now - timedelta(minutes=random.randrange(0, 60))  # a sensor ships within minutes
    at = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    outcome = random.choice(("warn", "warn", "log", "block"))
    return an_event(
        time=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        sensor=sensor,
        device=random.choice(DEVICES),
        platform=platform,
        category=category,
        outcome=outcome,
        clauses=("7",) if outcome == "log" else ("6.2", "7"),
        rule="social-working-time",
        device_group="staff-devices",
        account="unknown",
        policy_version="wycliffe-smp-2017-02",
        response=random.choice(("none", "went_back")),
    ).to_json()


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def client(
    url: str, token: str, batch: int, bodies: list[bytes], stop_at: float, counts: list[int]
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        i = 0
        while time.monotonic() < stop_at:
            async with session.post(url, data=bodies[i % len(bodies)], headers=headers) as resp:
                body = await resp.json()
                if resp.status != 202:
                    raise RuntimeError(f"{resp.status}: {body}")
                counts[0] += body["stored"]
                counts[1] += body["duplicates"]
            i += 1


async def run_phase(
    url: str, token: str, sensor: str, batch: int, clients: int, seconds: float, pid: int
) -> dict[str, float]:
    now = datetime.now(UTC)
    # Pre-build request bodies so the clients spend little CPU (they share the machine).
    per_client = max(2, int(seconds * 40_000 / batch / clients) + 2)
    bodies = [
        [
            orjson.dumps({"events": [make_event(now, sensor) for _ in range(batch)]})
            for _ in range(per_client)
        ]
        for _ in range(clients)
    ]
    counts = [0, 0]
    cpu0, t0 = proc_cpu_seconds(pid), time.monotonic()
    own0 = time.process_time()
    stop_at = t0 + seconds
    await asyncio.gather(
        *(client(url, token, batch, bodies[c], stop_at, counts) for c in range(clients))
    )
    elapsed = time.monotonic() - t0
    cpu = proc_cpu_seconds(pid) - cpu0
    own = time.process_time() - own0
    return {
        "client_cpu_pct": 100 * own / elapsed,
        "batch": batch,
        "events_per_s": counts[0] / elapsed,
        "duplicates": counts[1],
        "service_cpu_pct": 100 * cpu / elapsed,
        "service_rss_mib": proc_rss_mib(pid),
    }


def validation_us_per_event(sensor: str, batch: int, rounds: int = 20) -> float:
    """In-process time to check one event of a batch of `batch` (the best of `rounds`)."""
    from service.ingest import check_batch

    now = datetime.now(UTC)
    body = orjson.loads(orjson.dumps({"events": [make_event(now, sensor) for _ in range(batch)]}))
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        checked, _status, problems = check_batch(body, sensor=sensor, now=now, retention_days=90)
        best = min(best, time.perf_counter() - t0)
        if problems or len(checked) != batch:
            raise RuntimeError(f"the bench's events were refused: {problems[:3]}")
    return best / batch * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temp folder)")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, action="append")
    args = parser.parse_args()
    batches = args.batch or [100, 1000]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        common = ["--data-dir", str(data)]
        if args.database:
            common += ["--database", args.database]
        out = subprocess.run(
            [sys.executable, "-m", "clausewarden", "sensor", "add", f"bench-{uuid.uuid4().hex[:6]}"]
            + common,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        token = out.strip().splitlines()[-1]
        sensor = out.split("'")[1]
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "clausewarden", "serve", "--port", str(port), *common],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, process)
            url = f"http://127.0.0.1:{port}/api/v1/events"
            store = "PostgreSQL" if args.database else "SQLite (WAL, synchronous=NORMAL)"
            print(
                f"ingest over HTTP into {store}, {args.clients} clients, {args.seconds:.0f} s each"
            )
            for batch in batches:
                r = asyncio.run(
                    run_phase(url, token, sensor, batch, args.clients, args.seconds, process.pid)
                )
                print(
                    f"  batches of {batch:>5}: {r['events_per_s']:>9,.0f} events/s   "
                    f"service CPU {r['service_cpu_pct']:.0f} %   RSS {r['service_rss_mib']:.0f} MiB"
                    f"   (clients' CPU {r['client_cpu_pct']:.0f} %)"
                )
                per_event = r["service_cpu_pct"] / 100 / r["events_per_s"] * 1e6
                check = validation_us_per_event(sensor, batch)
                print(
                    f"    service CPU per event {per_event:.1f} us, of which checking "
                    f"{check:.1f} us (ratio {check / per_event:.2f})"
                )
            if not args.database:
                size = (data / "clausewarden.db").stat().st_size
                wal = data / "clausewarden.db-wal"
                size += wal.stat().st_size if wal.exists() else 0
                print(f"  database file(s): {size / 2**20:.0f} MiB")
        finally:
            stop(process)


if __name__ == "__main__":
    main()
