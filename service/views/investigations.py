"""Investigations (clause 4.3, four eyes): only with the stable privacy level, the headteacher
opens one with a reason, a governor countersigns it, then the headteacher may test one named
device at a time (a count, never a list of identities); every step is audited."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from policy.event import pseudonym
from service import investigation_store as cases
from service.keys import ENGINE, SERVICES
from service.views.common import now, refuse, require, settings

NEEDS_STABLE = "Investigations need the 'stable' privacy level."


@aiohttp_jinja2.template("investigations.html")
async def investigations_page(request: web.Request) -> dict[str, Any]:
    await require(request, "headteacher", "governor")
    current = await settings(request)
    async with request.app[ENGINE].connect() as conn:
        rows = await cases.list_investigations(conn)
    return {
        "page": "investigations",
        "investigations": rows,
        "stable": current.privacy_level == "stable",
        "result": request.query.get("result"),
    }


async def _investigation(request: web.Request) -> Any:
    try:
        ident = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[ENGINE].connect() as conn:
        row = await cases.get_investigation(conn, ident)
    if row is None:
        raise web.HTTPNotFound()
    return row


async def _require_stable(request: web.Request) -> None:
    if (await settings(request)).privacy_level != "stable":
        raise refuse(NEEDS_STABLE)


async def investigation_open(request: web.Request) -> web.StreamResponse:
    user = await require(request, "headteacher")
    await _require_stable(request)
    form = await request.post()
    reason = str(form.get("reason", "")).strip()
    if not 20 <= len(reason) <= 4000:
        raise refuse("reason: write why (at least 20 characters)")
    async with request.app[ENGINE].begin() as conn:
        await cases.open_investigation(conn, reason=reason, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/investigations")


async def investigation_countersign(request: web.Request) -> web.StreamResponse:
    user = await require(request, "governor")
    row = await _investigation(request)
    if row.countersigned_by or row.closed_at:
        raise refuse("already countersigned or closed")
    if row.opened_by == user.name:
        raise web.HTTPForbidden(text="A second person must countersign.")
    async with request.app[ENGINE].begin() as conn:
        await cases.countersign_investigation(conn, row.id, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/investigations")


async def investigation_test(request: web.Request) -> web.StreamResponse:
    """Test ONE named device against the pseudonyms: a count, never a list of identities."""
    user = await require(request, "headteacher")
    row = await _investigation(request)
    if not row.countersigned_by or row.closed_at:
        raise web.HTTPForbidden(text="The investigation must be countersigned and open.")
    await _require_stable(request)
    form = await request.post()
    device = str(form.get("device", "")).strip()
    if not 1 <= len(device) <= 200:
        raise refuse("device: the device identifier the sensors use (its address)")
    key = bytes.fromhex(request.app[SERVICES].bundles.salts.stable_key())
    async with request.app[ENGINE].begin() as conn:
        count = await cases.match_device(
            conn,
            row.id,
            device=device,
            nym=pseudonym(key, device),
            actor=user.name,
            now=now(request),
        )
    raise web.HTTPSeeOther(f"/investigations?result={count} stored events match that device")


async def investigation_close(request: web.Request) -> web.StreamResponse:
    user = await require(request, "headteacher", "governor")
    row = await _investigation(request)
    async with request.app[ENGINE].begin() as conn:
        await cases.close_investigation(conn, row.id, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/investigations")
