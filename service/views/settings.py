"""The school's settings: privacy level, k, retention (the headteacher alone turns on stable
pseudonyms), and the term dates and closures sensors use for working time."""

from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from policy.vocabulary import PRIVACY_LEVELS
from service import store
from service.keys import ENGINE, SERVICES
from service.security import ADMIN_ROLES
from service.views.common import now, posted, refuse, require, settings


@aiohttp_jinja2.template("settings.html")
async def settings_page(request: web.Request) -> dict[str, Any]:
    await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].connect() as conn:
        schedule = await request.app[SERVICES].bundles.schedule(conn)
    return {
        "page": "settings",
        "settings": await settings(request),
        "levels": PRIVACY_LEVELS,
        "schedule": schedule,
        "terms_text": _ranges_text(schedule.terms),
        "closures_text": _ranges_text(schedule.closures),
        "message": request.query.get("message"),
    }


def _ranges_text(ranges: Any) -> str:
    return "\n".join(f"{r.name}, {r.start.isoformat()}, {r.end.isoformat()}" for r in ranges)


def _parse_ranges(text: str, what: str) -> list[dict[str, str]]:
    """One range a line: `name, YYYY-MM-DD, YYYY-MM-DD`."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.rsplit(",", 2)]
        try:
            name, start, end = parts
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            raise refuse(
                f"{what}, line {number}: expected 'name, YYYY-MM-DD, YYYY-MM-DD'"
            ) from None
        if not name or last < first:
            raise refuse(f"{what}, line {number}: a name, and an end not before the start")
        out.append({"name": name[:100], "start": first.isoformat(), "end": last.isoformat()})
    return out


async def _save(request: web.Request, values: dict[str, Any], *, action: str, actor: str) -> None:
    async with request.app[ENGINE].begin() as conn:
        await store.save_settings(conn, values, action=action, actor=actor, now=now(request))
    request.app[SERVICES].bundles.invalidate()


async def schedule_save(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    terms = _parse_ranges(str(form.get("terms", "")), "terms")
    closures = _parse_ranges(str(form.get("closures", "")), "closures")
    if not terms:
        raise refuse("terms: at least one term")
    values = {"terms": terms, "closures": closures}
    await _save(request, values, action="schedule.save", actor=user.name)
    raise web.HTTPSeeOther("/settings?message=term dates saved; sensors get them with the bundle")


async def settings_save(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    level = str(form.get("privacy_level", ""))
    if level not in PRIVACY_LEVELS:
        raise refuse("privacy_level: daily, stable or none")
    try:
        k = int(str(form.get("k_anonymity", "")))
        days = int(str(form.get("retention_days", "")))
    except ValueError:
        raise refuse("k and retention days are whole numbers") from None
    if not 1 <= k <= 100 or not 1 <= days <= 3650:
        raise refuse("k: 1 to 100; retention days: 1 to 3650")
    if level == "stable" and user.role != "headteacher":
        raise web.HTTPForbidden(text="Only the headteacher turns on stable pseudonyms.")
    values = {"privacy_level": level, "k_anonymity": k, "retention_days": days}
    await _save(request, values, action="settings.save", actor=user.name)
    raise web.HTTPSeeOther("/settings?message=saved")
