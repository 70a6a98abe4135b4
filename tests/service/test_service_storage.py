"""The same storage and API behaviour on SQLite and on a real PostgreSQL: "one URL apart" is
proven here, migrations included (each test gets a fresh database)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from service import account_store, audit, retention, sensor_store
from service.db import daily_counts, events
from service.keys import ENGINE, SERVICES
from service.queries import EventFilter, page, parse_cursor
from tests.support.service import add_sensor, bearer, event


async def test_ingest_is_idempotent_and_all_or_nothing(pg_or_sqlite_cli):
    cli = pg_or_sqlite_cli
    token = await add_sensor(cli)
    batch = [event() for _ in range(50)]
    resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    assert await resp.json() == {"stored": 50, "duplicates": 0}
    resp = await cli.post(
        "/api/v1/events", json={"events": [*batch[:10], event()]}, headers=bearer(token)
    )
    assert await resp.json() == {"stored": 1, "duplicates": 10}
    resp = await cli.post(
        "/api/v1/events", json={"events": [event(), event(outcome="nope")]}, headers=bearer(token)
    )
    assert resp.status == 400
    async with cli.server.app[ENGINE].connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(events))).scalar_one() == 51
        total = (
            await conn.execute(select(daily_counts.c.n).where(daily_counts.c.dim == "all"))
        ).scalar_one()
    assert total == 51  # duplicates never counted twice in the rollups


async def test_revocation_and_bundle_etag(pg_or_sqlite_cli):
    cli = pg_or_sqlite_cli
    token = await add_sensor(cli)
    resp = await cli.get("/api/v1/bundle", headers=bearer(token))
    etag = resp.headers["ETag"]
    again = await cli.get("/api/v1/bundle", headers={**bearer(token), "If-None-Match": etag})
    assert again.status == 304
    async with cli.server.app[ENGINE].begin() as conn:
        await sensor_store.revoke_sensor(conn, "proxy1", actor="test", now=datetime.now(UTC))
    # Revoked from outside the web pages (as the CLI does): the token cache lasts 2 seconds.
    cli.server.app[SERVICES].sensor_cache.clear()
    assert (await cli.get("/api/v1/bundle", headers=bearer(token))).status == 403


async def test_cursor_pages_cover_every_shown_cell_once(pg_or_sqlite_cli):
    cli = pg_or_sqlite_cli
    token = await add_sensor(cli)
    platforms = ("facebook", "x", "instagram")
    batch = [
        event(time=f"2026-11-{20 + day}T0{day}:{(i % 4) * 15:02d}:00Z", platform=p)
        for day in range(6)
        for p in platforms
        for i in range(3)
    ]
    resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    assert resp.status == 202
    seen: list[tuple[str, str]] = []
    cursor = None
    tz = cli.server.app[SERVICES].tz
    async with cli.server.app[ENGINE].connect() as conn:
        while True:
            items, next_cursor, hidden = await page(
                conn, tz, 3, EventFilter(), cursor=cursor, limit=4
            )
            assert hidden == 0
            seen += [(i["day"], i["platform"]) for i in items]
            assert all(i["events"] == 3 for i in items)
            if next_cursor is None:
                break
            cursor = parse_cursor(next_cursor)
    assert sorted(seen) == sorted({(e["time"][:10], e["platform"]) for e in batch})
    assert len(seen) == 18 and seen[0][0] == "2026-11-25"  # newest day first


async def test_retention_deletes_events_keeps_rollups_and_audits(pg_or_sqlite_cli, clock):
    cli = pg_or_sqlite_cli
    token = await add_sensor(cli)
    batch = [event(time="2026-09-01T10:00:00Z"), event(time="2026-11-25T09:00:00Z")]
    await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    services = cli.server.app[SERVICES]
    clock.now = clock.now + timedelta(days=30)
    summary = await retention.run(cli.server.app[ENGINE], services.bundles, services.tz, clock.now)
    assert summary["events_deleted"] == 1
    async with cli.server.app[ENGINE].connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(events))).scalar_one() == 1
        kept = (
            await conn.execute(
                select(daily_counts.c.n, daily_counts.c.devices).where(
                    daily_counts.c.day == "2026-09-01", daily_counts.c.dim == "all"
                )
            )
        ).one()
        assert tuple(kept) == (1, 1)
        _count, problems = await audit.verify(conn)
    assert problems == []


async def test_unapproved_account_requests_are_deleted_after_7_days(pg_or_sqlite_cli, clock):
    cli = pg_or_sqlite_cli
    token = await add_sensor(cli)
    body = {"platform": "facebook", "account_id": "1000123", "label": "Year 6 page"}
    resp = await cli.post("/api/v1/account-requests", json=body, headers=bearer(token))
    assert resp.status == 202
    services = cli.server.app[SERVICES]
    engine = cli.server.app[ENGINE]
    clock.now = clock.now + timedelta(days=6)
    assert (await retention.run(engine, services.bundles, services.tz, clock.now))[
        "requests_deleted"
    ] == 0
    clock.now = clock.now + timedelta(days=2)
    summary = await retention.run(engine, services.bundles, services.tz, clock.now)
    assert summary["requests_deleted"] == 1
    async with engine.connect() as conn:
        assert await account_store.list_accounts(conn, status="pending") == []
