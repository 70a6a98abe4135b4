"""The sensors (proxies and extensions) that post events: register one (its token is shown
once), revoke one."""

from datetime import timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service import enrolment, sensor_store
from service.keys import ENGINE, SERVICES
from service.security import ADMIN_ROLES
from service.store import iso
from service.views.common import now, posted, refuse, render_secret, require

LAST_EVENT_DAYS = 7
"""How far back the Sensors page looks for a proxy's last event (a bounded read of the events)."""


@aiohttp_jinja2.template("sensors.html")
async def sensors_page(request: web.Request) -> dict[str, Any]:
    await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].connect() as conn:
        rows = await sensor_store.list_sensors(conn)
        fleet = await enrolment.fleet_size(conn)
        enrolled = await enrolment.enrolled_count(conn)
        week_ago = iso(now(request) - timedelta(days=LAST_EVENT_DAYS))
        latest = await sensor_store.last_events(conn, week_ago)
    return {
        "page": "sensors",
        "sensors": rows,
        "last_events": latest,
        "new_token": None,
        "new_name": None,
        "fleet": fleet,
        "enrolled": enrolled,
    }


async def sensor_add(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    name = str(form.get("name", "")).strip()
    kind = str(form.get("kind", "proxy"))
    async with request.app[ENGINE].begin() as conn:
        token = await sensor_store.add_sensor(
            conn, name, actor=user.name, now=now(request), kind=kind
        )
        rows = await sensor_store.list_sensors(conn)
    return render_secret(
        "sensors.html",
        request,
        {"page": "sensors", "sensors": rows, "new_token": token, "new_name": name},
    )


async def sensor_revoke(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].begin() as conn:
        await sensor_store.revoke_sensor(
            conn, request.match_info["name"], actor=user.name, now=now(request)
        )
    request.app[SERVICES].sensor_cache.clear()  # revoked now, not in a few seconds
    raise web.HTTPSeeOther("/sensors")


async def sensor_approve(request: web.Request) -> web.StreamResponse:
    """Approve a laptop enrolled beyond the fleet size."""
    user = await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].begin() as conn:
        await enrolment.approve(conn, request.match_info["name"], actor=user.name, now=now(request))
    request.app[SERVICES].sensor_cache.clear()
    raise web.HTTPSeeOther("/sensors")


async def fleet_size(request: web.Request) -> web.StreamResponse:
    """The number of laptops the admin states: enrolments beyond it wait for approval."""
    user, form = await posted(request, *ADMIN_ROLES)
    try:
        size = int(str(form.get("fleet_size", "")))
    except ValueError:
        raise refuse("fleet size: a whole number of laptops") from None
    async with request.app[ENGINE].begin() as conn:
        await enrolment.set_fleet_size(conn, size, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/sensors")
