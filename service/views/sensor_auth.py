"""How a sensor is known on the sensors' API, written once for every endpoint it calls: its
bearer token names it (401 unknown, 403 revoked), and each endpoint may hold it to a rate (429
with Retry-After, never a 5xx)."""

import time
from typing import Any

from aiohttp import web

from service import sensor_store
from service.ingest import RateLimit, retry_after
from service.keys import CONFIG, ENGINE, SENSOR_CACHE_SECONDS, SERVICES
from service.security import token_hash
from service.store import iso
from service.views.jsonapi import bearer, json_error


async def authenticate_sensor(request: web.Request) -> Any:
    """The sensor row of the request's token. Looked up at most every SENSOR_CACHE_SECONDS per
    token: a proxy ships every few seconds (revoking on the Sensors page clears the cache)."""
    token = bearer(request)
    cache = request.app[SERVICES].sensor_cache
    key = token_hash(token)
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        sensor = hit[1]
    else:
        async with request.app[ENGINE].connect() as conn:
            sensor = await sensor_store.sensor_by_token(conn, token)
        if len(cache) > 1000:
            cache.clear()
        cache[key] = (now + SENSOR_CACHE_SECONDS, sensor)
    if sensor is None:
        raise json_error(401, "unknown token")
    if sensor.revoked_at is not None:
        raise json_error(403, "this sensor has been revoked")
    if sensor.kind == "enrol":
        raise json_error(403, "an enrolment secret can only enrol a laptop (POST /api/v1/enrol)")
    if sensor.waiting:
        raise json_error(403, "this laptop waits for the admin's approval (Sensors page)")
    if sensor.session_expires is not None and sensor.session_expires <= iso(
        request.app[CONFIG].clock()
    ):
        raise json_error(
            401, "the session has expired: sign a new challenge (POST /api/v1/session)"
        )
    return sensor


async def authenticate_enrolment(request: web.Request) -> Any:
    """The enrolment secret's sensor row (kind "enrol"): it may enrol, nothing else."""
    async with request.app[ENGINE].connect() as conn:
        sensor = await sensor_store.sensor_by_token(conn, bearer(request))
    if sensor is None or sensor.kind != "enrol":
        raise json_error(401, "unknown enrolment secret")
    if sensor.revoked_at is not None:
        raise json_error(403, "this enrolment secret has been revoked")
    return sensor


def hold_to(limiter: RateLimit, sensor: Any, what: str = "requests") -> None:
    """429 with Retry-After when `sensor` is over `limiter`'s rate."""
    wait = limiter.take(sensor.id, time.monotonic())
    if wait > 0:
        exc = json_error(429, f"too many {what} from this sensor; retry later")
        exc.headers["Retry-After"] = retry_after(wait)
        raise exc
