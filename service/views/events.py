"""The event log (cells of events resting on at least k devices, newest day first, a page at a
time) and its export as CSV or JSON lines: see service.figures for what is hidden and why."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from policy.vocabulary import OUTCOMES
from service import audit, exports, store
from service.keys import ENGINE, SERVICES
from service.queries import EventFilter, FilterError, page, parse_cursor
from service.views.common import ANY_ROLE, now, refuse, require, settings

PAGE_SIZE = 50


def _filter_choices(request: web.Request) -> dict[str, Any]:
    school = request.app[SERVICES].school
    return {
        "platforms": [p.id for p in school.platforms.platforms],
        "clauses": [c.id for c in school.policy.clauses],
        "outcomes": OUTCOMES,
        "groups": [g.id for g in school.device_groups.device_groups],
    }


@aiohttp_jinja2.template("events.html")
async def event_log(request: web.Request) -> dict[str, Any]:
    await require(request, *ANY_ROLE)
    try:
        flt = EventFilter.from_query(request.query)
        cursor = parse_cursor(request.query.get("cursor"))
    except FilterError as exc:
        raise refuse(str(exc)) from None
    current = await settings(request)
    k = current.k_anonymity
    async with request.app[ENGINE].connect() as conn:
        items, next_cursor, hidden = await page(
            conn, request.app[SERVICES].tz, k, flt, cursor=cursor, limit=PAGE_SIZE
        )
    query = flt.as_query()
    return {
        "page": "events",
        "filter": flt,
        "query": query,
        "items": items,
        "k": k,
        "hidden": hidden,
        "no_devices": current.privacy_level == "none",
        "next_query": {**query, "cursor": next_cursor} if next_cursor else None,
        **_filter_choices(request),
    }


async def event_export(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ANY_ROLE)
    try:
        flt = EventFilter.from_query(request.query)
    except FilterError as exc:
        raise refuse(str(exc)) from None
    fmt = request.query.get("format", "csv")
    if fmt not in exports.CONTENT_TYPES:
        raise refuse("format: csv or json")
    k = (await settings(request)).k_anonymity
    engine = request.app[ENGINE]
    async with engine.begin() as conn:
        await audit.record(
            conn,
            at=store.iso(now(request)),
            actor=user.name,
            action="events.export",
            detail={"format": fmt, "k": k, **flt.as_query()},
        )
    filename = f"clausewarden-events.{'csv' if fmt == 'csv' else 'jsonl'}"
    return await exports.respond(
        request,
        engine,
        request.app[SERVICES].tz,
        k,
        flt,
        fmt,
        exports.attachment_headers(fmt, filename),
    )
