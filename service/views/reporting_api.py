"""The reporting API: tools with an API token (viewer role or above) read the event log's cells
(each resting on at least k devices, see service.figures) as JSON lines, the last line saying how
many are hidden and where the next page starts; the OpenAPI document describes the whole JSON
API."""

from typing import Any

from aiohttp import web

from service import exports, user_store
from service.keys import ENGINE, SERVICES
from service.queries import EventFilter, FilterError, parse_cursor
from service.security import ROLES
from service.views.jsonapi import bearer, json_error, json_response


async def authenticate_reader(request: web.Request) -> Any:
    """An API token of the viewer role or above."""
    token = bearer(request)
    async with request.app[ENGINE].connect() as conn:
        row = await user_store.api_token_by_token(conn, token)
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
    headers = {"Content-Type": exports.CONTENT_TYPES["json"]}
    services = request.app[SERVICES]
    async with request.app[ENGINE].connect() as conn:
        k = (await services.bundles.settings(conn)).k_anonymity
    return await exports.respond(
        request,
        request.app[ENGINE],
        services.tz,
        k,
        flt,
        "json",
        headers,
        cursor=cursor,
        limit=limit,
    )


async def openapi(request: web.Request) -> web.Response:
    from service.openapi import document

    return json_response(document())
