"""The sensor API against the real app and a real SQLite file: every status, idempotency,
all-or-nothing batches, revocation, the bundle's ETag and salt rotation."""

import os
import stat
from datetime import UTC, datetime

import orjson
from sqlalchemy import func, select

from service import account_store, user_store
from service.db import events
from service.keys import ENGINE
from tests.support.service import Clock, add_sensor, add_user, bearer, event


async def count_events(cli) -> int:
    async with cli.server.app[ENGINE].connect() as conn:
        return (await conn.execute(select(func.count()).select_from(events))).scalar_one()


async def test_a_valid_batch_is_stored_and_counted(cli):
    token = await add_sensor(cli)
    batch = [event() for _ in range(10)]
    resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    assert resp.status == 202
    assert await resp.json() == {"stored": 10, "duplicates": 0}
    assert await count_events(cli) == 10


async def test_a_resent_batch_is_counted_as_duplicates_not_stored_twice(cli):
    token = await add_sensor(cli)
    batch = [event() for _ in range(5)]
    await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    resp = await cli.post(
        "/api/v1/events", json={"events": [*batch, event()]}, headers=bearer(token)
    )
    assert await resp.json() == {"stored": 1, "duplicates": 5}
    assert await count_events(cli) == 6


async def test_one_bad_event_refuses_the_whole_batch_and_names_index_and_field(cli):
    token = await add_sensor(cli)
    batch = [event(), event(action="shout"), event(extra=1)]
    resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    assert resp.status == 400
    problems = (await resp.json())["problems"]
    assert {"index": 1, "field": "action"} in [
        {"index": p["index"], "field": p["field"]} for p in problems
    ]
    assert {"index": 2, "field": "extra"} in [
        {"index": p["index"], "field": p["field"]} for p in problems
    ]
    assert await count_events(cli) == 0


async def test_wrong_types_and_far_times_are_refused(cli, clock: Clock):
    token = await add_sensor(cli)
    for bad in (
        event(working_time="yes"),
        event(clauses="6.2"),
        event(device="not-hex"),
        event(time="2025-01-01T10:00:00Z"),  # older than 90 days of retention
        event(time="2026-11-25 09:45:00"),
        event(sensor="someone-else"),
        event(reason_category="teaching-resource"),  # only with "continued"
    ):
        resp = await cli.post("/api/v1/events", json={"events": [bad]}, headers=bearer(token))
        assert resp.status == 400, bad
    assert await count_events(cli) == 0
    # More than a day ahead: the sensor's clock is ahead. Not stored, not refused for good: the
    # answer names it as deferred and the sensor keeps it (tests/service/test_faults.py).
    ahead = event(time="2026-11-27T10:00:00Z")
    resp = await cli.post("/api/v1/events", json={"events": [ahead]}, headers=bearer(token))
    assert resp.status == 202
    assert (await resp.json())["deferred"] == [0]
    assert await count_events(cli) == 0


async def test_no_token_is_401_and_a_revoked_token_is_403(cli):
    token = await add_sensor(cli)
    resp = await cli.post("/api/v1/events", json={"events": []})
    assert resp.status == 401
    resp = await cli.post("/api/v1/events", json={"events": []}, headers=bearer("cws_nope"))
    assert resp.status == 401
    from service import sensor_store

    async with cli.server.app[ENGINE].begin() as conn:
        await sensor_store.revoke_sensor(conn, "proxy1", actor="test", now=datetime.now(UTC))
    resp = await cli.post("/api/v1/events", json={"events": [event()]}, headers=bearer(token))
    assert resp.status == 403
    resp = await cli.get("/api/v1/bundle", headers=bearer(token))
    assert resp.status == 403


async def test_more_than_1000_events_or_1_mib_is_413(cli):
    token = await add_sensor(cli)
    resp = await cli.post(
        "/api/v1/events", json={"events": [event() for _ in range(1001)]}, headers=bearer(token)
    )
    assert resp.status == 413
    big = orjson.dumps({"events": [event(rule="x" * 60)] * 1, "pad": "x" * (1024 * 1024)})
    resp = await cli.post(
        "/api/v1/events",
        data=big,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert resp.status == 413
    assert await count_events(cli) == 0


async def test_invalid_json_is_400(cli):
    token = await add_sensor(cli)
    resp = await cli.post("/api/v1/events", data=b"{nope", headers=bearer(token))
    assert resp.status == 400


async def test_sensor_status_updates_last_seen_and_outbox_figures_in_metrics(cli):
    token = await add_sensor(cli)
    status = {"outbox_pending": 12, "outbox_dropped": 3, "oldest_pending": "2026-11-25T09:30:00Z"}
    resp = await cli.post(
        "/api/v1/events",
        json={"events": [event()], "sensor_status": status},
        headers=bearer(token),
    )
    assert resp.status == 202
    assert (await cli.get("/metrics")).status == 401  # an admin's API token reads them
    await add_user(cli, "alice", "admin")
    async with cli.server.app[ENGINE].begin() as conn:
        reader = await user_store.add_api_token(
            conn, "prometheus", user_name="alice", role="admin", now=datetime.now(UTC)
        )
    text = await (await cli.get("/metrics", headers=bearer(reader))).text()
    assert 'clausewarden_sensor_outbox_pending{sensor="proxy1"} 12' in text
    assert 'clausewarden_sensor_outbox_dropped{sensor="proxy1"} 3' in text
    assert 'clausewarden_sensor_outbox_lag_seconds{sensor="proxy1"} 1800' in text
    assert "clausewarden_events_stored_total 1" in text
    assert 'clausewarden_request_seconds_count{route="/api/v1/events"}' in text


async def test_healthz_answers_ok(cli):
    resp = await cli.get("/healthz")
    assert resp.status == 200
    assert (await resp.json())["status"] == "ok"


async def test_bundle_has_etag_and_if_none_match_gives_304(cli):
    token = await add_sensor(cli)
    resp = await cli.get("/api/v1/bundle", headers=bearer(token))
    assert resp.status == 200
    bundle = await resp.json()
    etag = resp.headers["ETag"]
    assert etag == f'"{bundle["version"]}-daily"'
    assert bundle["privacy"] == {"level": "daily"}  # each sensor keeps its own salt
    again = await cli.get("/api/v1/bundle", headers={**bearer(token), "If-None-Match": etag})
    assert again.status == 304
    assert (await cli.get("/api/v1/bundle")).status == 401


async def test_the_bundle_is_the_same_across_midnight_and_the_service_keeps_no_salt(
    cli, clock, config
):
    token = await add_sensor(cli)
    clock.now = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)  # London is UTC in November
    first = await cli.get("/api/v1/bundle", headers=bearer(token))
    clock.now = datetime(2026, 11, 26, 0, 0, 30, tzinfo=UTC)
    second = await cli.get("/api/v1/bundle", headers=bearer(token))
    assert first.headers["ETag"] == second.headers["ETag"]
    assert (await first.json())["privacy"] == (await second.json())["privacy"] == {"level": "daily"}
    assert not (config.data_dir / "daily-salt.json").exists()
    assert stat.S_IMODE(os.stat(config.data_dir / "session.key").st_mode) == 0o600


async def test_account_request_waits_in_the_pending_list_not_in_the_bundle(cli):
    token = await add_sensor(cli)
    resp = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "facebook", "account_id": "1000123", "label": "Year 6 class page"},
        headers=bearer(token),
    )
    assert resp.status == 202
    assert await resp.json() == {"status": "pending"}

    async with cli.server.app[ENGINE].connect() as conn:
        pending = await account_store.list_accounts(conn, status="pending")
    assert [(a.platform, a.account_id) for a in pending] == [("facebook", "1000123")]
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    assert bundle["accounts"] == []
    bad = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "myspace", "account_id": "1", "label": "x"},
        headers=bearer(token),
    )
    assert bad.status == 400


async def test_openapi_describes_exactly_the_api_routes(cli):
    doc = await (await cli.get("/api/v1/openapi.json")).json()
    described = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for route in cli.server.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and (path.startswith("/api/") or path in ("/healthz", "/metrics")):
            if route.method != "HEAD":
                served.add((path, route.method))
    assert described == served


async def test_sample_data_is_a_term_of_valid_events_decided_by_the_policy(cli, clock):
    from service import sample
    from service.keys import SERVICES

    services = cli.server.app[SERVICES]
    engine = cli.server.app[ENGINE]
    async with engine.connect() as conn:
        bundle, _etag = await services.bundles.bundle(conn, clock.now)
    stored = await sample.load(
        engine, services.school, bundle, sensor="demo", now=clock.now, retention_days=90
    )
    assert stored > 1000
    assert await count_events(cli) == stored
    async with engine.connect() as conn:
        first = (await conn.execute(select(func.min(events.c.time)))).scalar_one()
    assert first >= "2026-09-02"  # the autumn term began on 2 September


async def test_the_same_event_twice_in_one_batch_is_stored_once_and_counted(cli):
    token = await add_sensor(cli)
    one = event()
    resp = await cli.post("/api/v1/events", json={"events": [one, one]}, headers=bearer(token))
    assert await resp.json() == {"stored": 1, "duplicates": 1}
    assert await count_events(cli) == 1
