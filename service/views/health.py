"""Health and metrics, for the school's monitoring (no login: they hold no event data)."""

from aiohttp import web

from service import store
from service.keys import CONFIG, ENGINE, SERVICES
from service.views.jsonapi import json_response


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[ENGINE].connect() as conn:
            await store.ping(conn)
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
