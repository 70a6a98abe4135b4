"""A laptop's enrolment and sessions (service.enrolment): JSON for the extension.

- `POST /api/v1/enrol` (the enrolment secret as bearer token) with `{"public_key": "<SPKI,
  base64>"}` → 201 `{"sensor": "laptop-…", "waiting": false}`.
- `GET /api/v1/enrol/challenge` → `{"challenge": "…"}` (no token: it is only the time and a nonce).
- `POST /api/v1/session` with `{"sensor", "challenge", "signature"}` (the signature of
  `clausewarden-session\\n<sensor>\\n<challenge>`, ECDSA P-256 SHA-256, raw r||s, base64) →
  `{"token": "cwl_…", "expires_at": "…"}`, the laptop's bearer token until then.
"""

from typing import Any

import orjson
from aiohttp import web

from service import enrolment
from service.keys import CONFIG, ENGINE, SERVICES
from service.views.jsonapi import json_error, json_response
from service.views.sensor_auth import authenticate_enrolment, hold_to


async def _object(request: web.Request, keys: set[str]) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise json_error(400, "the body is not valid JSON") from None
    if (
        not isinstance(body, dict)
        or body.keys() != keys
        or not all(isinstance(v, str) and len(v) <= 1000 for v in body.values())
    ):
        raise json_error(400, f"expected a JSON object with the strings {sorted(keys)}")
    return body


async def post_enrol(request: web.Request) -> web.Response:
    secret = await authenticate_enrolment(request)
    hold_to(request.app[SERVICES].sensor_limits.enrolments, secret, "enrolments")
    body = await _object(request, {"public_key"})
    now = request.app[CONFIG].clock()
    try:
        async with request.app[SERVICES].write_lock, request.app[ENGINE].begin() as conn:
            name, waiting = await enrolment.enrol(conn, body["public_key"], now=now)
    except enrolment.EnrolmentRefused as exc:
        raise json_error(403, str(exc)) from None
    return json_response({"sensor": name, "waiting": waiting}, status=201)


async def get_challenge(request: web.Request) -> web.Response:
    text = enrolment.challenge(request.app[CONFIG].clock())
    return json_response({"challenge": text}, headers={"Cache-Control": "no-store"})


async def post_session(request: web.Request) -> web.Response:
    body = await _object(request, {"sensor", "challenge", "signature"})
    # No limit per laptop name here: anyone can send a bad signature under a laptop's name, and
    # a limit would let them keep that laptop from its session.
    now = request.app[CONFIG].clock()
    try:
        async with request.app[SERVICES].write_lock, request.app[ENGINE].begin() as conn:
            token, expires = await enrolment.open_session(
                conn, body["sensor"], body["challenge"], body["signature"], now=now
            )
    except enrolment.EnrolmentRefused as exc:
        raise json_error(403, str(exc)) from None
    request.app[SERVICES].sensor_cache.clear()  # the laptop's previous token ends now
    return json_response(
        {"token": token, "expires_at": expires}, headers={"Cache-Control": "no-store"}
    )
