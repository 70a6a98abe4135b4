"""The sensors' side of an investigation's device test (clause 4.3, four eyes).

The service holds no key that maps a pseudonym to a device. When the headteacher tests one named
device of a countersigned, open investigation, the request is published here for a day:

- `GET /api/v1/investigation-checks` (a sensor's token): the checks this sensor can answer and
  has not answered, each with the investigation id, the device address, who opened and who
  countersigned. Only at the `stable` level; otherwise an empty list. A check reaches the sensor
  the headteacher named (a laptop's credential) or, when she named none, every proxy-kind sensor
  (a proxy serves the address): a laptop's credential never sees another device's address.
- `POST /api/v1/investigation-checks/{id}` with `{"device": "<pseudonym>"}`: the sensor's answer,
  that device's pseudonym under the sensor's own key. The service counts that sensor's stored
  events carrying it, keeps the count (never the pseudonym) and writes it to the audit log; the
  headteacher sees the count on the investigations page. The answer tells the sensor nothing.
"""

import orjson
from aiohttp import web
from pydantic import ValidationError

from service import investigation_store as cases
from service.api_models import Answered, Check, CheckAnswer, Checks
from service.keys import CONFIG, ENGINE, SERVICES
from service.views.jsonapi import json_error, json_response
from service.views.sensor_auth import authenticate_sensor


async def _stable(request: web.Request) -> bool:
    async with request.app[ENGINE].connect() as conn:
        settings = await request.app[SERVICES].bundles.settings(conn)
    return bool(settings.privacy_level == "stable")


async def get_checks(request: web.Request) -> web.Response:
    sensor = await authenticate_sensor(request)
    headers = {"Cache-Control": "no-store"}
    if not await _stable(request):
        return json_response(Checks(checks=[]).to_json(), headers=headers)
    now = request.app[CONFIG].clock()
    async with request.app[ENGINE].connect() as conn:
        rows = await cases.checks_for_sensor(conn, sensor, now)
    checks = [
        Check(
            id=r.id,
            investigation=r.investigation_id,
            device=r.device,
            opened_by=r.opened_by,
            countersigned_by=r.countersigned_by,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
            expires_at=r.expires_at,
        )
        for r in rows
    ]
    return json_response(Checks(checks=checks).to_json(), headers=headers)


async def post_answer(request: web.Request) -> web.Response:
    sensor_row = await authenticate_sensor(request)
    sensor = str(sensor_row.name)
    try:
        check_id = int(request.match_info["id"])
    except ValueError:
        raise json_error(404, "no such check") from None
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise json_error(400, "the body is not valid JSON") from None
    if not isinstance(body, dict) or body.keys() != {"device"}:
        raise json_error(400, 'expected {"device": "<the device\'s pseudonym>"}')
    try:
        device = CheckAnswer.model_validate(body).device
    except ValidationError:
        raise json_error(400, "device: expected the pseudonym, 32 lowercase hex digits") from None
    if not await _stable(request):
        raise json_error(409, "device tests need the 'stable' privacy level")
    now = request.app[CONFIG].clock()
    services = request.app[SERVICES]
    async with services.write_lock, request.app[ENGINE].begin() as conn:
        check = await cases.published_check(conn, check_id, sensor_row, now)
        if check is None:
            raise json_error(404, "no such check for this sensor (expired, closed or never asked)")
        count = await cases.answer_check(
            conn,
            check,
            sensor=sensor,
            device_pseudonym=device,
            now=now,
            one_device=sensor_row.public_key is not None,
        )
    if count is None:
        raise json_error(409, "this sensor has answered that check already")
    return json_response(Answered().to_json(), status=202)
