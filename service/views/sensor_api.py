"""The sensors' API: post a batch of events, fetch the policy bundle, ask for a school account to
be approved. Each sensor authenticates with its bearer token."""

import logging
import secrets
import time
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from policy.school import account_kinds, account_refusal
from service import account_store, store
from service.account_mail import kind_words, tell_headteacher
from service.db import is_sqlite
from service.ingest import (
    MAX_BYTES,
    Catalogue,
    RateLimit,
    check_batch,
    policy_versions_named,
    retry_after,
    store_rows,
)
from service.keys import CONFIG, ENGINE, SENSOR_CACHE_SECONDS, SERVICES, Services
from service.security import token_hash
from service.views.jsonapi import bearer, json_error, json_response

log = logging.getLogger("clausewarden.service")


async def authenticate_sensor(request: web.Request) -> Any:
    token = bearer(request)
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


def limit(limiter: RateLimit, sensor: Any) -> None:
    """429 with Retry-After when `sensor` is over `limiter`'s rate (never a 5xx)."""
    wait = limiter.take(sensor.id, time.monotonic())
    if wait > 0:
        exc = json_error(429, "too many requests from this sensor; retry later")
        exc.headers["Retry-After"] = retry_after(wait)
        raise exc


def catalogue(services: Services) -> Catalogue:
    if services.catalogue is None:
        services.catalogue = Catalogue(services.school)
    return services.catalogue


async def post_events(request: web.Request) -> web.Response:
    sensor = await authenticate_sensor(request)
    services = request.app[SERVICES]
    limit(services.sensor_limits.events, sensor)
    metrics = services.metrics
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise json_error(413, f"a batch is at most {MAX_BYTES} bytes")
    raw = await request.read()  # aiohttp answers 413 past client_max_size
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        metrics.batches_rejected.inc()
        raise json_error(400, "the body is not valid JSON", problems=[]) from None
    now = request.app[CONFIG].clock()
    engine = request.app[ENGINE]
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        if len(body["events"]) > 1000:
            raise json_error(413, "a batch is at most 1000 events")
    settings = services.bundles.fresh_settings()
    async with engine.connect() as conn:
        if settings is None:
            settings = await services.bundles.settings(conn)
        known = await catalogue(services).known(conn, policy_versions_named(body))
    deferred: list[int] = []
    rows, status, problems = check_batch(
        body,
        sensor=sensor.name,
        now=now,
        retention_days=settings.retention_days,
        known=known,
        deferred=deferred,
    )
    if problems:
        metrics.batches_rejected.inc()
        if isinstance(body, dict) and isinstance(body.get("events"), list):
            metrics.events_rejected.inc(len(body["events"]))
        raise json_error(400, "the batch was refused; nothing was stored", problems=problems[:200])
    skew = clock_skew(status, [body["events"][i] for i in deferred], now)
    if deferred:
        log.warning(
            "sensor %s: %d events more than a day ahead of this service's clock (its clock is "
            "about %d s ahead): not stored yet, the sensor keeps them and sends them again",
            sensor.name,
            len(deferred),
            skew or 0,
        )
    values = sensor_values(services, sensor.id, status, skew, now)
    lock = services.write_lock if is_sqlite(engine) else None
    if lock is not None:
        await lock.acquire()
    try:
        async with engine.begin() as conn:
            stored, duplicates, device_rows = await store_rows(conn, rows, services.rollup)
            if values:
                await store.note_sensor_status(conn, sensor.id, values)
        services.rollup.remember(device_rows)
        if "last_seen" in values:
            services.sensor_writes[sensor.id] = now
        if status is not None and "outbox_pending" in values:
            services.sensor_status[sensor.id] = _status_key(status, skew)
    finally:
        if lock is not None:
            lock.release()
    # an event twice in one batch counts too
    duplicates += len(body["events"]) - len(rows) - len(deferred)
    metrics.events_stored.inc(stored)
    metrics.events_duplicate.inc(duplicates)
    answer: dict[str, Any] = {"stored": stored, "duplicates": duplicates}
    if deferred:
        # Kept by the sensor and sent again: a clock ahead is a fault to fix, not bad events.
        answer["deferred"] = deferred
        answer["service_time"] = store.iso(now)
        answer["clock_ahead_seconds"] = skew
    return json_response(answer, status=202)


def clock_skew(
    status: dict[str, Any] | None, future: list[dict[str, Any]], now: datetime
) -> int | None:
    """How many seconds the sensor's clock is ahead of the service's (negative: behind): from
    the time it says it sent the batch, or at least as far as its latest event ahead of now."""
    skew: int | None = None
    sent = (status or {}).get("sent_at")
    if isinstance(sent, str):
        skew = int((store.parse_iso(sent) - now).total_seconds())
    for ev in future:
        ahead = int((store.parse_iso(ev["time"]) - now).total_seconds())
        skew = ahead if skew is None else max(skew, ahead)
    return skew


def _status_key(status: dict[str, Any], skew: int | None) -> tuple[Any, ...]:
    minutes = None if skew is None else round(skew / 60)
    return (
        status.get("outbox_pending", 0),
        status.get("outbox_dropped", 0),
        status.get("outbox_rejected", 0),
        status.get("oldest_pending"),
        minutes,
    )


def sensor_values(
    services: Services,
    sensor_id: int,
    status: dict[str, Any] | None,
    skew: int | None,
    now: datetime,
) -> dict[str, Any]:
    """What to write on the sensor's row: last_seen at most every 10 s; its outbox status and
    clock with every batch where they changed (so the backlog a sensor reports on draining is
    written at once, not 10 s later)."""
    values: dict[str, Any] = {}
    last = services.sensor_writes.get(sensor_id)
    if last is None or abs((now - last).total_seconds()) >= 10:
        values["last_seen"] = store.iso(now)
    if status is not None and (
        values or services.sensor_status.get(sensor_id) != _status_key(status, skew)
    ):
        values["outbox_pending"] = status.get("outbox_pending", 0)
        values["outbox_dropped"] = status.get("outbox_dropped", 0)
        values["outbox_rejected"] = status.get("outbox_rejected", 0)
        values["oldest_pending"] = status.get("oldest_pending")
        values["clock_skew_seconds"] = skew if skew is not None and abs(skew) >= 60 else 0
    return values


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
    services = request.app[SERVICES]
    limit(services.sensor_limits.account_requests, sensor)
    if request.content_length is not None and request.content_length > 16 * 1024:
        raise json_error(413, "a request to register an account is at most 16 kB")
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise json_error(400, "the body is not valid JSON") from None
    problems = []
    school = services.school
    platforms = {p.id for p in school.platforms.platforms}
    if not isinstance(body, dict):
        raise json_error(400, "expected a JSON object")
    for extra in sorted(body.keys() - {"platform", "account_id", "label", "kind"}):
        problems.append({"field": str(extra)[:64], "message": "unknown field"})
    platform = body.get("platform")
    kind = body.get("kind")
    if not isinstance(platform, str) or platform not in platforms:
        problems.append({"field": "platform", "message": "not a platform of the catalogue"})
    elif kind is not None and not isinstance(kind, str):
        problems.append({"field": "kind", "message": "expected account, profile or page"})
    else:
        # Only what a sensor could ever recognise; a sensor that does not say the kind read the
        # platform's own sign-in cookie (a person's profile on Facebook), never a Page's.
        entry = next(p for p in school.platforms.platforms if p.id == platform)
        kinds = account_kinds(entry)
        if kind is None and kinds:
            kind = next((k for k in kinds if k != "page"), kinds[0])
        refusal = account_refusal(entry, kind)
        if refusal is not None:
            problems.append({"field": "kind" if kinds else "platform", "message": refusal})
    for name in ("account_id", "label"):
        value = body.get(name)
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
            problems.append({"field": name, "message": "expected 1 to 200 characters"})
    if problems:
        raise json_error(400, "the request was refused", problems=problems)
    now = request.app[CONFIG].clock()
    engine = request.app[ENGINE]
    async with engine.begin() as conn:
        known = await account_store.open_account_exists(
            conn, body["platform"], body["account_id"].strip()
        )
        if not known:
            await account_store.add_account(
                conn,
                id=f"{body['platform']}-request-{secrets.token_hex(4)}",
                platform=body["platform"],
                account_id=body["account_id"].strip(),
                label=body["label"].strip(),
                actions=["browse", "post"],
                expires_on=None,
                source="request",
                actor=f"sensor:{sensor.name}",
                now=now,
                kind=kind,
            )
    if not known:
        tell_headteacher(
            request.app,
            platform=entry.name,
            kind=kind_words(entry, kind),
            label=body["label"].strip(),
            requested=f"from a warning page (sensor {sensor.name})",
            at=store.iso(now),
        )
    return json_response({"status": "pending"}, status=202)
