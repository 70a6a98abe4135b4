"""Health and metrics, for the school's monitoring. /healthz needs no login (it says only whether
the database answers and takes writes). /metrics names the sensors and counts stored events as
they arrive, so it needs a bearer token: an API token of the admin or headteacher role (made on
/users), as a Prometheus job's `authorization: {credentials_file: ...}`."""

from aiohttp import web

from service import sensor_store, store, user_store
from service.db import is_sqlite
from service.keys import CONFIG, ENGINE, SERVICES
from service.metrics import SensorFigures
from service.security import ADMIN_ROLES
from service.store_health import (
    PREPARE,
    RETRY_AFTER_SECONDS,
    STORE_HEALTH,
    probe_write,
    write_failure,
)
from service.views.jsonapi import bearer, json_error, json_response


async def healthz(request: web.Request) -> web.Response:
    """200 {"status": "ok"} while the database answers and takes writes; else 503 with
    Retry-After, saying whether it answers and why writes fail (a full disk, a read-only file),
    since when. Each call tries one small write (service.store_health.probe_write)."""
    health = request.app[STORE_HEALTH]
    engine = request.app[ENGINE]
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    try:
        async with engine.connect() as conn:
            await store.ping(conn)
    except Exception as exc:  # noqa: BLE001 - health reports any database failure
        body = {"status": "error", "database": type(exc).__name__, **health.report()}
        return json_response(body, status=503, headers=headers)
    try:
        lock = request.app[SERVICES].write_lock if is_sqlite(engine) else None
        if lock is not None:
            async with lock:
                await probe_write(engine)
        else:
            await probe_write(engine)
    except Exception as exc:  # noqa: BLE001 - any failed write is reported
        reason = write_failure(exc) or type(exc).__name__
        clock = request.app[CONFIG].clock
        health.failed(reason, clock())
        health.retry_in_background(engine, request.app[PREPARE], clock)
    else:
        if health.ready:
            health.recovered()
    if health.failing is not None or not health.ready:
        body = {"status": "error", "database": "answers", **health.report()}
        return json_response(body, status=503, headers=headers)
    return json_response({"status": "ok", "writes": "ok"})


async def metrics(request: web.Request) -> web.Response:
    token = bearer(request)
    now = request.app[CONFIG].clock()
    async with request.app[ENGINE].connect() as conn:
        reader = await user_store.api_token_by_token(conn, token)
        if reader is None:
            raise json_error(401, "unknown token: /metrics needs an admin's API token")
        if reader.revoked_at is not None or reader.role not in ADMIN_ROLES:
            raise json_error(403, "/metrics needs an API token of the admin or headteacher role")
        rows = await sensor_store.list_sensors(conn)
    sensors = [
        SensorFigures(
            name=row.name,
            last_seen=store.parse_iso(row.last_seen).timestamp() if row.last_seen else None,
            outbox_pending=row.outbox_pending or 0,
            outbox_dropped=row.outbox_dropped or 0,
            outbox_lag=max(0.0, (now - store.parse_iso(row.oldest_pending)).total_seconds())
            if row.oldest_pending
            else 0.0,
        )
        for row in rows
        if not row.revoked_at
    ]
    body = request.app[SERVICES].metrics.render(sensors)
    return web.Response(body=body, content_type="text/plain", charset="utf-8")
