"""Investigations (clause 4.3, four eyes): only with the stable privacy level, the headteacher
opens one with a reason, a governor countersigns it, then the headteacher may test one named
device at a time (a count, never a list of identities); every step is audited.

The service holds no key: a test is a check published to the sensors (service/views/
sensor_checks.py), each of which answers with that device's pseudonym under its own key; the
page shows "waiting for the proxy" until an answer comes, then the count of matching events."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service import investigation_store as cases
from service import sensor_store, user_store
from service.keys import ENGINE
from service.views.common import now, refuse, require, settings

NEEDS_STABLE = "Investigations need the 'stable' privacy level."


@aiohttp_jinja2.template("investigations.html")
async def investigations_page(request: web.Request) -> dict[str, Any]:
    await require(request, "headteacher", "governor")
    current = await settings(request)
    async with request.app[ENGINE].connect() as conn:
        rows = await cases.list_investigations(conn)
        checks = await cases.checks_with_answers(conn)
    return {
        "page": "investigations",
        "investigations": rows,
        "checks": checks,
        "now": now(request).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "stable": current.privacy_level == "stable",
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
    async with request.app[ENGINE].connect() as conn:
        independent = await user_store.approved_independently(conn, user.name, row.opened_by)
    if not independent:
        raise web.HTTPForbidden(
            text="Your governor account was made and approved by the investigation's opener "
            "alone: another headteacher or governor must approve it, or another governor sign."
        )
    async with request.app[ENGINE].begin() as conn:
        await cases.countersign_investigation(conn, row.id, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/investigations")


async def investigation_test(request: web.Request) -> web.StreamResponse:
    """Ask the sensors to test ONE named device: each answers with a count, never a list."""
    user = await require(request, "headteacher")
    row = await _investigation(request)
    if not row.countersigned_by or row.countersigned_by == row.opened_by or row.closed_at:
        raise web.HTTPForbidden(
            text="The investigation must be countersigned by a second person and open."
        )
    await _require_stable(request)
    form = await request.post()
    device = str(form.get("device", "")).strip()
    if not 1 <= len(device) <= 200:
        raise refuse("device: the device identifier the sensors use (its address)")
    # A laptop's credential answers only when named (the identifier its options page shows);
    # without a name the check goes to the proxies, which serve the device's address.
    sensor = str(form.get("sensor", "")).strip() or None
    async with request.app[ENGINE].begin() as conn:
        if sensor is not None:
            named = await sensor_store.get_sensor(conn, sensor)
            if named is None or named.revoked_at is not None:
                raise refuse(f"sensor: no active sensor called {sensor!r} (see the Sensors page)")
        check = await cases.request_check(
            conn, row.id, device=device, actor=user.name, now=now(request), sensor=sensor
        )
    raise web.HTTPSeeOther(f"/investigations#check-{check}")


async def answer_void(request: web.Request) -> web.StreamResponse:
    """The headteacher voids one sensor's answer to a device test: it then counts for nothing."""
    user = await require(request, "headteacher")
    try:
        check_id = int(request.match_info["check"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[ENGINE].begin() as conn:
        done = await cases.void_answer(
            conn, check_id, request.match_info["sensor"], actor=user.name, now=now(request)
        )
    if not done:
        raise refuse("no such answer, or it is voided already")
    raise web.HTTPSeeOther(f"/investigations#check-{check_id}")


async def investigation_close(request: web.Request) -> web.StreamResponse:
    user = await require(request, "headteacher", "governor")
    row = await _investigation(request)
    async with request.app[ENGINE].begin() as conn:
        await cases.close_investigation(conn, row.id, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/investigations")
