"""The JSON API: sensors post events and fetch the bundle; reporting tools read events."""

import csv
import io
import secrets
import time
from typing import Any

import orjson
from aiohttp import web
from sqlalchemy import select, text, update

from service import store
from service.db import is_sqlite, school_accounts, sensors
from service.ingest import MAX_BYTES, check_batch, store_rows
from service.keys import CONFIG, ENGINE, SENSOR_CACHE_SECONDS, SERVICES
from service.queries import (
    EVENT_COLUMNS,
    EventFilter,
    FilterError,
    csv_cells,
    event_json,
    page_query,
    parse_cursor,
)
from service.security import ROLES, token_hash


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def json_error(status: int, message: str, **extra: Any) -> web.HTTPException:
    exc = web.HTTPException()
    exc.set_status(status)
    exc.content_type = "application/json"
    exc.body = orjson.dumps({"error": message, **extra})
    return exc


def _bearer(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise json_error(401, "a bearer token is needed (Authorization: Bearer <token>)")
    return token.strip()


async def authenticate_sensor(request: web.Request) -> Any:
    token = _bearer(request)
    cache = request.app[SERVICES].sensor_cache
    key = token_hash(token)
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        sensor = hit[1]
    else:
        async with request.app[ENGINE].connect() as conn:
            sensor = await store.sensor_by_token(conn, token)
        if len(cache) > 1000:
            cache.clear()
        cache[key] = (now + SENSOR_CACHE_SECONDS, sensor)
    if sensor is None:
        raise json_error(401, "unknown token")
    if sensor.revoked_at is not None:
        raise json_error(403, "this sensor has been revoked")
    return sensor


async def post_events(request: web.Request) -> web.Response:
    sensor = await authenticate_sensor(request)
    services = request.app[SERVICES]
    metrics = services.metrics
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise json_error(413, f"a batch is at most {MAX_BYTES} bytes")
    raw = await request.read()  # aiohttp answers 413 past client_max_size
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        metrics.batches_rejected += 1
        raise json_error(400, "the body is not valid JSON", problems=[]) from None
    now = request.app[CONFIG].clock()
    engine = request.app[ENGINE]
    settings = services.bundles.fresh_settings()
    if settings is None:
        async with engine.connect() as conn:
            settings = await services.bundles.settings(conn)
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        if len(body["events"]) > 1000:
            raise json_error(413, "a batch is at most 1000 events")
    rows, status, problems = check_batch(
        body, sensor=sensor.name, now=now, retention_days=settings.retention_days
    )
    if problems:
        metrics.batches_rejected += 1
        if isinstance(body, dict) and isinstance(body.get("events"), list):
            metrics.events_rejected += len(body["events"])
        raise json_error(400, "the batch was refused; nothing was stored", problems=problems[:200])
    values: dict[str, Any] = {}
    last = services.sensor_writes.get(sensor.id)
    if last is None or abs((now - last).total_seconds()) >= 10:
        values["last_seen"] = store.iso(now)  # written at most every 10 s per sensor
    if status is not None and values:
        values["outbox_pending"] = status.get("outbox_pending", 0)
        values["outbox_dropped"] = status.get("outbox_dropped", 0)
        values["oldest_pending"] = status.get("oldest_pending")
    lock = services.write_lock if is_sqlite(engine) else None
    if lock is not None:
        await lock.acquire()
    try:
        async with engine.begin() as conn:
            stored, duplicates, device_rows = await store_rows(conn, rows, services.rollup)
            if values:
                await conn.execute(
                    update(sensors).where(sensors.c.id == sensor.id).values(**values)
                )
        services.rollup.remember(device_rows)
        if values:
            services.sensor_writes[sensor.id] = now
    finally:
        if lock is not None:
            lock.release()
    duplicates += len(body["events"]) - len(rows)  # an event twice in one batch counts too
    metrics.events_stored += stored
    metrics.events_duplicate += duplicates
    return json_response({"stored": stored, "duplicates": duplicates}, status=202)


async def get_bundle(request: web.Request) -> web.Response:
    await authenticate_sensor(request)
    now = request.app[CONFIG].clock()
    async with request.app[ENGINE].connect() as conn:
        bundle, etag = await request.app[SERVICES].bundles.bundle(conn, now)
    headers = {"ETag": etag, "Cache-Control": "no-store"}
    match = request.headers.get("If-None-Match", "")
    if etag in [t.strip() for t in match.split(",")]:
        return web.Response(status=304, headers=headers)
    return json_response(bundle, headers=headers)


async def post_account_request(request: web.Request) -> web.Response:
    sensor = await authenticate_sensor(request)
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise json_error(400, "the body is not valid JSON") from None
    problems = []
    school = request.app[SERVICES].school
    platforms = {p.id for p in school.platforms.platforms}
    if not isinstance(body, dict):
        raise json_error(400, "expected a JSON object")
    for extra in sorted(body.keys() - {"platform", "account_id", "label"}):
        problems.append({"field": str(extra)[:64], "message": "unknown field"})
    if body.get("platform") not in platforms:
        problems.append({"field": "platform", "message": "not a platform of the catalogue"})
    for name in ("account_id", "label"):
        value = body.get(name)
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
            problems.append({"field": name, "message": "expected 1 to 200 characters"})
    if problems:
        raise json_error(400, "the request was refused", problems=problems)
    now = request.app[CONFIG].clock()
    engine = request.app[ENGINE]
    async with engine.begin() as conn:
        existing = (
            await conn.execute(
                select(school_accounts.c.id).where(
                    school_accounts.c.platform == body["platform"],
                    school_accounts.c.account_id == body["account_id"].strip(),
                    school_accounts.c.status != "expired",
                )
            )
        ).first()
        if existing is None:
            await store.add_account(
                conn,
                id=f"{body['platform']}-request-{secrets.token_hex(4)}",
                platform=body["platform"],
                account_id=body["account_id"].strip(),
                label=body["label"].strip(),
                actions=["browse", "post", "message"],
                expires_on=None,
                source="request",
                actor=f"sensor:{sensor.name}",
                now=now,
            )
    return json_response({"status": "pending"}, status=202)


async def authenticate_reader(request: web.Request) -> Any:
    """An API token of the viewer role or above."""
    token = _bearer(request)
    async with request.app[ENGINE].connect() as conn:
        row = await store.api_token_by_token(conn, token)
    if row is None:
        raise json_error(401, "unknown token")
    if row.revoked_at is not None or row.role not in ROLES:
        raise json_error(403, "this token has been revoked")
    return row


async def get_events(request: web.Request) -> web.StreamResponse:
    await authenticate_reader(request)
    try:
        flt = EventFilter.from_query(request.query)
        cursor = parse_cursor(request.query.get("cursor"))
        limit = int(request.query.get("limit", "1000"))
    except (FilterError, ValueError) as exc:
        raise json_error(400, str(exc)) from None
    if not 1 <= limit <= 10_000:
        raise json_error(400, "limit: 1 to 10000")
    query = page_query(flt, cursor=cursor, newest_first=False, limit=limit)
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    async with request.app[ENGINE].connect() as conn:
        result = await conn.stream(query)
        async for partition in result.partitions(500):
            await response.write(b"".join(orjson.dumps(event_json(r)) + b"\n" for r in partition))
    await response.write_eof()
    return response


async def stream_export(
    request: web.Request, flt: EventFilter, fmt: str, filename: str
) -> web.StreamResponse:
    """The filtered events as CSV or JSON lines, written as they are read (never all in memory)."""
    content_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{content_type}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await response.prepare(request)
    if fmt == "csv":
        await response.write((",".join(EVENT_COLUMNS) + "\r\n").encode())
    query = page_query(flt, cursor=None, newest_first=False, limit=None)
    async with request.app[ENGINE].connect() as conn:
        result = await conn.stream(query)
        async for partition in result.partitions(1000):
            if fmt == "csv":
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerows(csv_cells(row) for row in partition)
                await response.write(buffer.getvalue().encode())
            else:
                await response.write(
                    b"".join(orjson.dumps(event_json(r)) + b"\n" for r in partition)
                )
    await response.write_eof()
    return response


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[ENGINE].connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - health reports any database failure
        return json_response({"status": "error", "database": type(exc).__name__}, status=503)
    return json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    m = request.app[SERVICES].metrics
    now = request.app[CONFIG].clock()
    lines = [
        "# HELP clausewarden_events_stored_total Events stored.",
        "# TYPE clausewarden_events_stored_total counter",
        f"clausewarden_events_stored_total {m.events_stored}",
        "# HELP clausewarden_events_duplicate_total Events received again and not stored twice.",
        "# TYPE clausewarden_events_duplicate_total counter",
        f"clausewarden_events_duplicate_total {m.events_duplicate}",
        "# HELP clausewarden_events_rejected_total Events in refused batches.",
        "# TYPE clausewarden_events_rejected_total counter",
        f"clausewarden_events_rejected_total {m.events_rejected}",
        "# HELP clausewarden_batches_rejected_total Batches refused (400).",
        "# TYPE clausewarden_batches_rejected_total counter",
        f"clausewarden_batches_rejected_total {m.batches_rejected}",
    ]
    async with request.app[ENGINE].connect() as conn:
        rows = await store.list_sensors(conn)
    per_sensor = {
        "clausewarden_sensor_last_seen_seconds": "Unix time of the sensor's last batch.",
        "clausewarden_sensor_outbox_pending": "Events waiting in the sensor's outbox.",
        "clausewarden_sensor_outbox_dropped": "Events the sensor dropped (outbox full).",
        "clausewarden_sensor_outbox_lag_seconds": "Age of the oldest event in the outbox.",
    }
    values: dict[str, list[str]] = {name: [] for name in per_sensor}
    for row in rows:
        if row.revoked_at:
            continue
        label = f'{{sensor="{row.name}"}}'
        if row.last_seen:
            ts = store.parse_iso(row.last_seen).timestamp()
            values["clausewarden_sensor_last_seen_seconds"].append(f"{label} {ts:.0f}")
        values["clausewarden_sensor_outbox_pending"].append(f"{label} {row.outbox_pending or 0}")
        values["clausewarden_sensor_outbox_dropped"].append(f"{label} {row.outbox_dropped or 0}")
        lag = 0.0
        if row.oldest_pending:
            lag = max(0.0, (now - store.parse_iso(row.oldest_pending)).total_seconds())
        values["clausewarden_sensor_outbox_lag_seconds"].append(f"{label} {lag:.0f}")
    for name, help_text in per_sensor.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        lines += [f"{name}{v}" for v in values[name]]
    lines += m.render_latency()
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")


async def openapi(request: web.Request) -> web.Response:
    from service.openapi import document

    return json_response(document())


def timed(route: str, started: float, request: web.Request) -> None:
    request.app[SERVICES].metrics.latency[route].observe(time.perf_counter() - started)
