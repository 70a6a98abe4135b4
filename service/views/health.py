"""Health and metrics, for the school's monitoring (no login: they hold no event data)."""

from aiohttp import web

from service import store
from service.keys import CONFIG, ENGINE, SERVICES
from service.metrics import SensorFigures
from service.views.jsonapi import json_response


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[ENGINE].connect() as conn:
            await store.ping(conn)
    except Exception as exc:  # noqa: BLE001 - health reports any database failure
        return json_response({"status": "error", "database": type(exc).__name__}, status=503)
    return json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    now = request.app[CONFIG].clock()
    async with request.app[ENGINE].connect() as conn:
        rows = await store.list_sensors(conn)
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
