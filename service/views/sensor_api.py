"""The sensors' API: post a batch of events, fetch the policy bundle, ask for a school account to
be approved. Each sensor authenticates with its bearer token."""

import logging
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from policy.event import Event
from policy.school import account_kinds, account_refusal
from service import account_store, sensor_store, store
from service.account_mail import kind_words, tell_headteacher
from service.api_models import (
    MAX_ACCOUNT_REQUEST_BYTES,
    AccountRequest,
    BatchAnswer,
    FieldProblem,
    Pending,
    SensorStatus,
    problems_of,
)
from service.db import is_sqlite
from service.ingest import (
    MAX_BYTES,
    Catalogue,
    TooLarge,
    check_batch,
    policy_versions_named,
    store_events,
)
from service.keys import CONFIG, ENGINE, SERVICES, Services
from service.views.jsonapi import json_error, json_response
from service.views.sensor_auth import authenticate_sensor, hold_to

log = logging.getLogger("clausewarden.service")


ENROLLED_LAPTOPS = "enrolled-laptops"
"""What the events of enrolled laptops name as their sensor below level stable (their own name is
a laptop's for good, and would link its events across days)."""


def claims_for(name: str, body: Any) -> None:
    """An enrolled laptop's events name it, whatever sensor name they were recorded under (one
    recorded before the laptop's enrolment finished names the policy's): the credential alone
    says which laptop sent them, and one_device_per_day relabels them anyway."""
    found = body.get("events") if isinstance(body, dict) else None
    for event in found if isinstance(found, list) else ():
        if isinstance(event, dict) and "sensor" in event:
            event["sensor"] = name


def one_device_per_day(
    services: Services, sensor: Any, events: list[Event], level: str, now: datetime
) -> list[Event]:
    """An enrolled laptop's events as stored: whatever pseudonyms the batch claims, one device per
    local day (service.ingest.counting); its own sensor name only at level stable, where a named
    laptop answers an investigation check with the count of its events."""
    today = now.astimezone(services.tz).date()
    stored_as = sensor.name if level == "stable" else ENROLLED_LAPTOPS
    out = []
    for event in events:
        device = event.device
        if device is not None:
            day = services.rollup.local(event.time)[0]
            device = services.counting_keys.tag(sensor.id, day, today)
        out.append(replace(event, device=device, sensor=stored_as))
    return out


def catalogue(services: Services) -> Catalogue:
    if services.catalogue is None:
        services.catalogue = Catalogue(services.school)
    return services.catalogue


async def post_events(request: web.Request) -> web.Response:
    sensor = await authenticate_sensor(request)
    services = request.app[SERVICES]
    hold_to(services.sensor_limits.events, sensor)
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
    settings = services.bundles.fresh_settings()
    async with engine.connect() as conn:
        if settings is None:
            settings = await services.bundles.settings(conn)
        known = await catalogue(services).known(conn, policy_versions_named(body))
    if sensor.public_key is not None:
        claims_for(sensor.name, body)
    deferred: list[int] = []
    try:
        checked, status, problems = check_batch(
            body,
            sensor=sensor.name,
            now=now,
            retention_days=settings.retention_days,
            known=known,
            deferred=deferred,
        )
    except TooLarge as exc:
        raise json_error(413, str(exc)) from None
    if problems:
        metrics.batches_rejected.inc()
        if isinstance(body, dict) and isinstance(body.get("events"), list):
            metrics.events_rejected.inc(len(body["events"]))
        raise json_error(400, "the batch was refused; nothing was stored", problems=problems[:200])
    if sensor.public_key is not None:
        checked = one_device_per_day(services, sensor, checked, settings.privacy_level, now)
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
            stored, duplicates, device_rows = await store_events(conn, checked, services.rollup)
            if values:
                await sensor_store.note_sensor_status(conn, sensor.id, values)
        services.rollup.remember(device_rows)
        if "last_seen" in values:
            services.sensor_writes[sensor.id] = now
        if status is not None and "outbox_pending" in values:
            services.sensor_status[sensor.id] = _status_key(status, skew)
    finally:
        if lock is not None:
            lock.release()
    # an event twice in one batch counts too
    duplicates += len(body["events"]) - len(checked) - len(deferred)
    metrics.events_stored.inc(stored)
    metrics.events_duplicate.inc(duplicates)
    deferral: dict[str, Any] = {}
    if deferred:
        # Kept by the sensor and sent again: a clock ahead is a fault to fix, not bad events.
        deferral = {
            "deferred": deferred,
            "service_time": store.iso(now),
            "clock_ahead_seconds": skew,
        }
    answer = BatchAnswer(stored=stored, duplicates=duplicates, **deferral)
    return json_response(answer.to_json(), status=202)


def clock_skew(
    status: SensorStatus | None, future: list[dict[str, Any]], now: datetime
) -> int | None:
    """How many seconds the sensor's clock is ahead of the service's (negative: behind): from
    the time it says it sent the batch, its clock now, so the report clears once the clock is
    set right, even while events it timed earlier wait; from a sensor that does not say, at
    least as far as its latest event ahead of now."""
    if status is not None and status.sent_at is not None:
        return int((store.parse_iso(status.sent_at) - now).total_seconds())
    skew: int | None = None
    for ev in future:
        ahead = int((store.parse_iso(ev["time"]) - now).total_seconds())
        skew = ahead if skew is None else max(skew, ahead)
    return skew


def _status_key(status: SensorStatus, skew: int | None) -> tuple[Any, ...]:
    minutes = None if skew is None else round(skew / 60)
    return (
        status.outbox_pending,
        status.outbox_dropped,
        status.outbox_rejected,
        status.oldest_pending,
        minutes,
    )


def sensor_values(
    services: Services,
    sensor_id: int,
    status: SensorStatus | None,
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
        values["outbox_pending"] = status.outbox_pending
        values["outbox_dropped"] = status.outbox_dropped
        values["outbox_rejected"] = status.outbox_rejected
        values["oldest_pending"] = status.oldest_pending
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


ACCOUNT_REQUEST_PROBLEMS = {
    "": "expected a JSON object",
    "platform": "not a platform of the catalogue",
    "account_id": "expected 1 to 200 characters",
    "label": "expected 1 to 200 characters",
    "kind": "expected account, profile or page",
}
"""What a sensor is told of each refused field of an account request."""


def _refused(problems: dict[str, str]) -> web.HTTPException:
    """400 FieldRefusal: each problem of an account request, by field."""
    listed = [FieldProblem(field=field, message=text).to_json() for field, text in problems.items()]
    return json_error(400, "the request was refused", problems=listed)


async def post_account_request(request: web.Request) -> web.Response:
    sensor = await authenticate_sensor(request)
    services = request.app[SERVICES]
    if request.content_length is not None and request.content_length > MAX_ACCOUNT_REQUEST_BYTES:
        raise json_error(413, "a request to register an account is at most 16 kB")
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise json_error(400, "the body is not valid JSON") from None
    found: list[tuple[str, str]] = []
    asked = None
    try:
        asked = AccountRequest.model_validate(body)
    except ValidationError as exc:
        found = problems_of(exc, ACCOUNT_REQUEST_PROBLEMS)
    platforms = {p.id: p for p in services.school.platforms.platforms}
    platform = body.get("platform") if isinstance(body, dict) else None
    if isinstance(platform, str) and platform not in platforms:
        found.append(("platform", ACCOUNT_REQUEST_PROBLEMS["platform"]))
    if asked is None or found:
        raise _refused(dict(found))
    entry = platforms[asked.platform]
    # Only what a sensor could ever recognise; a sensor that does not say the kind read the
    # platform's own sign-in cookie (a person's profile on Facebook), never a Page's.
    kinds = account_kinds(entry)
    kind = asked.kind
    if kind is None and kinds:
        kind = next((k for k in kinds if k != "page"), kinds[0])
    refusal = account_refusal(entry, kind)
    if refusal is not None:
        raise _refused({"kind" if kinds else "platform": refusal})
    # Only a request that would be kept counts against the credential's limit: a refused body
    # costs nothing, so it cannot use the limit up (each enrolled laptop has its own).
    proxy = getattr(sensor, "kind", "proxy") == "proxy"  # one credential for every device
    limits = services.sensor_limits
    hold_to(limits.proxy_account_requests if proxy else limits.account_requests, sensor)
    account_id, label = asked.account_id.strip(), asked.label.strip()
    now = request.app[CONFIG].clock()
    engine = request.app[ENGINE]
    async with engine.begin() as conn:
        known = await account_store.open_account_exists(conn, asked.platform, account_id)
        if not known:
            await account_store.add_account(
                conn,
                id=f"{asked.platform}-request-{secrets.token_hex(4)}",
                platform=asked.platform,
                account_id=account_id,
                label=label,
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
            label=label,
            requested=f"from a warning page (sensor {sensor.name})",
            at=store.iso(now),
        )
    return json_response(Pending().to_json(), status=202)
