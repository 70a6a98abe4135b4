"""The admin pages: dashboard, event log, school accounts, sensors, users, settings, audit log,
investigations. Every form carries a CSRF token (checked by the middleware); every change is
written to the hash-chained audit log."""

import re
from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func, select, update

from policy.event import pseudonym
from policy.vocabulary import ACTIONS, OUTCOMES, PRIVACY_LEVELS
from service import audit, charts, reports, store
from service.db import events, investigations
from service.dpia import dpia_markdown
from service.keys import CONFIG, ENGINE, SERVICES
from service.queries import EventFilter, FilterError, page, parse_cursor
from service.security import ADMIN_ROLES, ROLES, UNSUPPRESSED_ROLES
from service.views.api import stream_export
from service.views.auth import require

ANY_ROLE = ROLES
_ACCOUNT_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def _now(request: web.Request) -> Any:
    return request.app[CONFIG].clock()


def _today(request: web.Request) -> date:
    return _now(request).astimezone(request.app[SERVICES].tz).date()


async def _settings(request: web.Request) -> Any:
    async with request.app[ENGINE].connect() as conn:
        return await request.app[SERVICES].bundles.settings(conn)


def _refuse(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message)


# dashboard -----------------------------------------------------------------------------------


@aiohttp_jinja2.template("dashboard.html")
async def dashboard(request: web.Request) -> dict[str, Any]:
    user = await require(request, *ANY_ROLE)
    services = request.app[SERVICES]
    settings = await _settings(request)
    try:
        span = int(request.query.get("days", "30"))
    except ValueError:
        span = 30
    span = span if span in (7, 30, 90, 365) else 30
    today = _today(request)
    start, end = reports.range_for(today, span)
    suppress = user.role not in UNSUPPRESSED_ROLES
    async with request.app[ENGINE].connect() as conn:
        fig = await reports.figures(
            conn,
            start=start,
            end=end,
            k=settings.k_anonymity,
            suppress=suppress,
            by_events=settings.privacy_level == "none",
        )
    days = fig.days
    outcome_chart = charts.stacked_bars(
        days,
        [(o, [fig.value("outcome", o, d) for d in days]) for o in OUTCOMES],
        colours=charts.OUTCOME_COLOURS,
    )
    platform_rows = reports.as_table(fig, "platform")
    top = [r["value"] for r in platform_rows[:7]]
    platform_chart = charts.stacked_bars(
        days, [(p, [fig.value("platform", p, d) for d in days]) for p in top]
    )
    clause_rows = reports.as_table(fig, "clause")
    clause_chart = charts.hbars([(f"clause {r['value']}", r["total"]) for r in clause_rows[:12]])
    heat: dict[tuple[int, int], int | None] = {}
    for value in fig.values("hour"):
        wd, hour = value.split("-")
        heat[(int(wd), int(hour))] = fig.summed("hour", value)
    heatmap = charts.heatmap(heat)
    went_back = fig.summed("response", "went_back")
    continued = fig.summed("response", "continued")
    devices: list[int | None] = []
    for d in days:
        cell = fig.cells.get("all", {}).get("", {}).get(d)
        if cell is None:
            devices.append(0)
        elif suppress and settings.privacy_level != "none" and cell.devices < fig.k:
            devices.append(None)
        else:
            devices.append(cell.devices)
    device_chart = charts.stacked_bars(days, [("distinct devices", devices)], height=160)
    total = fig.summed("all", "")
    return {
        "page": "dashboard",
        "span": span,
        "start": start,
        "end": end,
        "k": settings.k_anonymity,
        "suppress": suppress,
        "total": total,
        "outcome_chart": outcome_chart,
        "platform_chart": platform_chart,
        "platform_rows": platform_rows,
        "clause_chart": clause_chart,
        "heatmap": heatmap,
        "went_back": went_back,
        "continued": continued,
        "device_chart": device_chart,
        "privacy_level": settings.privacy_level,
        "reminders": reports.reminders(services.school, settings, today),
    }


# event log -----------------------------------------------------------------------------------


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
        raise _refuse(str(exc)) from None
    async with request.app[ENGINE].connect() as conn:
        items, next_cursor = await page(conn, flt, cursor=cursor, limit=50)
    query = flt.as_query()
    return {
        "page": "events",
        "filter": flt,
        "query": query,
        "items": items,
        "next_query": {**query, "cursor": next_cursor} if next_cursor else None,
        **_filter_choices(request),
    }


async def event_export(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ANY_ROLE)
    try:
        flt = EventFilter.from_query(request.query)
    except FilterError as exc:
        raise _refuse(str(exc)) from None
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "json"):
        raise _refuse("format: csv or json")
    async with request.app[ENGINE].begin() as conn:
        await audit.record(
            conn,
            at=store.iso(_now(request)),
            actor=user.name,
            action="events.export",
            detail={"format": fmt, **flt.as_query()},
        )
    ext = "csv" if fmt == "csv" else "jsonl"
    return await stream_export(request, flt, fmt, f"clausewarden-events.{ext}")


# school accounts (clause 10.1) ---------------------------------------------------------------


@aiohttp_jinja2.template("accounts.html")
async def accounts(request: web.Request) -> dict[str, Any]:
    await require(request, *ANY_ROLE)
    async with request.app[ENGINE].connect() as conn:
        rows = await store.list_accounts(conn)
    school = request.app[SERVICES].school
    return {
        "page": "accounts",
        "pending": [r for r in rows if r.status == "pending"],
        "approved": [r for r in rows if r.status == "approved"],
        "expired": [r for r in rows if r.status == "expired"],
        "platforms": [p.id for p in school.platforms.platforms],
        "actions": ACTIONS,
        "message": request.query.get("message"),
    }


def _account_form(form: Any, platforms: set[str]) -> tuple[str, list[str], date | None]:
    label = str(form.get("label", "")).strip()
    if not 1 <= len(label) <= 200:
        raise _refuse("label: 1 to 200 characters")
    actions = [a for a in form.getall("actions", []) if a in ACTIONS]
    if not actions:
        raise _refuse("choose at least one allowed action")
    expires = str(form.get("expires_on", "")).strip()
    try:
        expires_on = date.fromisoformat(expires) if expires else None
    except ValueError:
        raise _refuse("expires_on: a date like 2027-08-31") from None
    return label, actions, expires_on


async def account_add(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    form = await request.post()
    school = request.app[SERVICES].school
    platforms = {p.id for p in school.platforms.platforms}
    account = str(form.get("id", "")).strip()
    platform = str(form.get("platform", ""))
    account_id = str(form.get("account_id", "")).strip()
    if not _ACCOUNT_ID.fullmatch(account):
        raise _refuse("id: lower-case letters, digits, '-', '_' or '.'")
    if platform not in platforms:
        raise _refuse("platform: not in the catalogue")
    if not 1 <= len(account_id) <= 200:
        raise _refuse("account_id: 1 to 200 characters")
    label, actions, expires_on = _account_form(form, platforms)
    try:
        async with request.app[ENGINE].begin() as conn:
            await store.add_account(
                conn,
                id=account,
                platform=platform,
                account_id=account_id,
                label=label,
                actions=actions,
                expires_on=expires_on,
                source="admin",
                actor=user.name,
                now=_now(request),
            )
    except store.StoreError as exc:
        raise _refuse(str(exc)) from None
    raise web.HTTPSeeOther("/accounts?message=added; it waits for the headteacher's approval")


async def account_edit(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    form = await request.post()
    platforms = {p.id for p in request.app[SERVICES].school.platforms.platforms}
    label, actions, expires_on = _account_form(form, platforms)
    account = request.match_info["id"]
    try:
        async with request.app[ENGINE].begin() as conn:
            await store.edit_account(
                conn,
                account,
                label=label,
                actions=actions,
                expires_on=expires_on,
                actor=user.name,
                now=_now(request),
            )
            if user.role != "headteacher":
                # A change made by anyone else needs the headteacher's approval again.
                from service.db import school_accounts

                await conn.execute(
                    update(school_accounts)
                    .where(school_accounts.c.id == account, school_accounts.c.status == "approved")
                    .values(status="pending")
                )
    except store.StoreError as exc:
        raise _refuse(str(exc)) from None
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=saved")


async def account_approve(request: web.Request) -> web.StreamResponse:
    user = await require(request, "headteacher")
    try:
        async with request.app[ENGINE].begin() as conn:
            await store.approve_account(
                conn,
                request.match_info["id"],
                actor=user.name,
                today=_today(request),
                now=_now(request),
            )
    except store.StoreError as exc:
        raise _refuse(str(exc)) from None
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=approved; sensors receive it with the next bundle")


async def account_expire(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    try:
        async with request.app[ENGINE].begin() as conn:
            await store.expire_account(
                conn,
                request.match_info["id"],
                actor=user.name,
                today=_today(request) - timedelta(days=1),
                now=_now(request),
            )
    except store.StoreError as exc:
        raise _refuse(str(exc)) from None
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=expired")


# sensors -------------------------------------------------------------------------------------


@aiohttp_jinja2.template("sensors.html")
async def sensors_page(request: web.Request) -> dict[str, Any]:
    await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].connect() as conn:
        rows = await store.list_sensors(conn)
    return {"page": "sensors", "sensors": rows, "new_token": None, "new_name": None}


async def sensor_add(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    form = await request.post()
    name = str(form.get("name", "")).strip()
    try:
        async with request.app[ENGINE].begin() as conn:
            token = await store.add_sensor(conn, name, actor=user.name, now=_now(request))
            rows = await store.list_sensors(conn)
    except store.StoreError as exc:
        raise _refuse(str(exc)) from None
    response = aiohttp_jinja2.render_template(
        "sensors.html",
        request,
        {"page": "sensors", "sensors": rows, "new_token": token, "new_name": name},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def sensor_revoke(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    try:
        async with request.app[ENGINE].begin() as conn:
            await store.revoke_sensor(
                conn, request.match_info["name"], actor=user.name, now=_now(request)
            )
    except store.StoreError as exc:
        raise _refuse(str(exc)) from None
    request.app[SERVICES].sensor_cache.clear()  # revoked now, not in a few seconds
    raise web.HTTPSeeOther("/sensors")


# users and API tokens ------------------------------------------------------------------------


async def _users_context(request: web.Request, **extra: Any) -> dict[str, Any]:
    async with request.app[ENGINE].connect() as conn:
        rows = await store.list_users(conn)
        tokens = await store.list_api_tokens(conn)
    return {
        "page": "users",
        "users": rows,
        "tokens": tokens,
        "roles": ROLES,
        "new_token": None,
        **extra,
    }


@aiohttp_jinja2.template("users.html")
async def users_page(request: web.Request) -> dict[str, Any]:
    await require(request, *ADMIN_ROLES)
    return await _users_context(request)


def _may_grant(user: Any, role: str) -> bool:
    """Only the headteacher gives the headteacher or governor role (clause 10.1, four eyes)."""
    return role in ("viewer", "admin") or user.role == "headteacher"


async def user_add(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    form = await request.post()
    role = str(form.get("role", ""))
    if not _may_grant(user, role):
        raise web.HTTPForbidden(text="Only the headteacher gives that role.")
    try:
        async with request.app[ENGINE].begin() as conn:
            await store.add_user(
                conn,
                str(form.get("name", "")).strip(),
                role,
                str(form.get("password", "")),
                actor=user.name,
                now=_now(request),
            )
    except store.StoreError as exc:
        raise _refuse(str(exc)) from None
    raise web.HTTPSeeOther("/users")


async def user_change(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    form = await request.post()
    name = request.match_info["name"]
    role = str(form.get("role", "")) or None
    disabled = {"yes": True, "no": False}.get(str(form.get("disabled", "")))
    async with request.app[ENGINE].connect() as conn:
        target = await store.get_user(conn, name)
    if target is None:
        raise web.HTTPNotFound()
    if (role and not _may_grant(user, role)) or not _may_grant(user, target.role):
        raise web.HTTPForbidden(text="Only the headteacher changes that role.")
    try:
        async with request.app[ENGINE].begin() as conn:
            await store.set_user(
                conn, name, actor=user.name, now=_now(request), role=role, disabled=disabled
            )
    except store.StoreError as exc:
        raise _refuse(str(exc)) from None
    raise web.HTTPSeeOther("/users")


async def token_add(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    form = await request.post()
    name = str(form.get("name", "")).strip() or "reporting"
    async with request.app[ENGINE].begin() as conn:
        token = await store.add_api_token(
            conn, name, user_name=user.name, role="viewer", now=_now(request)
        )
    response = aiohttp_jinja2.render_template(
        "users.html", request, await _users_context(request, new_token=token)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def token_revoke(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    try:
        token_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[ENGINE].begin() as conn:
        await store.revoke_api_token(conn, token_id, actor=user.name, now=_now(request))
    raise web.HTTPSeeOther("/users")


# settings, audit, DPIA -----------------------------------------------------------------------


@aiohttp_jinja2.template("settings.html")
async def settings_page(request: web.Request) -> dict[str, Any]:
    await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].connect() as conn:
        schedule = await request.app[SERVICES].bundles.schedule(conn)
    return {
        "page": "settings",
        "settings": await _settings(request),
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
            raise _refuse(
                f"{what}, line {number}: expected 'name, YYYY-MM-DD, YYYY-MM-DD'"
            ) from None
        if not name or last < first:
            raise _refuse(f"{what}, line {number}: a name, and an end not before the start")
        out.append({"name": name[:100], "start": first.isoformat(), "end": last.isoformat()})
    return out


async def schedule_save(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    form = await request.post()
    terms = _parse_ranges(str(form.get("terms", "")), "terms")
    closures = _parse_ranges(str(form.get("closures", "")), "closures")
    if not terms:
        raise _refuse("terms: at least one term")
    async with request.app[ENGINE].begin() as conn:
        await store.put_setting(conn, "terms", terms)
        await store.put_setting(conn, "closures", closures)
        await audit.record(
            conn,
            at=store.iso(_now(request)),
            actor=user.name,
            action="schedule.save",
            detail={"terms": terms, "closures": closures},
        )
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/settings?message=term dates saved; sensors get them with the bundle")


async def settings_save(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    form = await request.post()
    level = str(form.get("privacy_level", ""))
    if level not in PRIVACY_LEVELS:
        raise _refuse("privacy_level: daily, stable or none")
    try:
        k = int(str(form.get("k_anonymity", "")))
        days = int(str(form.get("retention_days", "")))
    except ValueError:
        raise _refuse("k and retention days are whole numbers") from None
    if not 1 <= k <= 100 or not 1 <= days <= 3650:
        raise _refuse("k: 1 to 100; retention days: 1 to 3650")
    if level == "stable" and user.role != "headteacher":
        raise web.HTTPForbidden(text="Only the headteacher turns on stable pseudonyms.")
    values = {"privacy_level": level, "k_anonymity": k, "retention_days": days}
    async with request.app[ENGINE].begin() as conn:
        for key, value in values.items():
            await store.put_setting(conn, key, value)
        await audit.record(
            conn,
            at=store.iso(_now(request)),
            actor=user.name,
            action="settings.save",
            detail=values,
        )
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/settings?message=saved")


@aiohttp_jinja2.template("audit.html")
async def audit_page(request: web.Request) -> dict[str, Any]:
    await require(request, *ADMIN_ROLES, "governor")
    async with request.app[ENGINE].connect() as conn:
        rows = await audit.recent(conn)
        count, problems = await audit.verify(conn)
    return {"page": "audit", "entries": rows, "count": count, "problems": problems}


async def dpia_page(request: web.Request) -> web.StreamResponse:
    await require(request, *ADMIN_ROLES, "governor")
    settings = await _settings(request)
    text = dpia_markdown(request.app[SERVICES].school, settings, _today(request))
    return web.Response(
        text=text,
        content_type="text/markdown",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="clausewarden-dpia.md"'},
    )


# investigations (clause 4.3, four eyes) ------------------------------------------------------


@aiohttp_jinja2.template("investigations.html")
async def investigations_page(request: web.Request) -> dict[str, Any]:
    await require(request, "headteacher", "governor")
    settings = await _settings(request)
    async with request.app[ENGINE].connect() as conn:
        rows = list(await conn.execute(select(investigations).order_by(investigations.c.id.desc())))
    return {
        "page": "investigations",
        "investigations": rows,
        "stable": settings.privacy_level == "stable",
        "result": request.query.get("result"),
    }


async def _investigation(request: web.Request) -> Any:
    try:
        ident = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[ENGINE].connect() as conn:
        row = (
            await conn.execute(select(investigations).where(investigations.c.id == ident))
        ).first()
    if row is None:
        raise web.HTTPNotFound()
    return row


async def investigation_open(request: web.Request) -> web.StreamResponse:
    user = await require(request, "headteacher")
    if (await _settings(request)).privacy_level != "stable":
        raise _refuse("Investigations need the 'stable' privacy level.")
    form = await request.post()
    reason = str(form.get("reason", "")).strip()
    if not 20 <= len(reason) <= 4000:
        raise _refuse("reason: write why (at least 20 characters)")
    now = store.iso(_now(request))
    async with request.app[ENGINE].begin() as conn:
        await conn.execute(
            investigations.insert().values(opened_by=user.name, opened_at=now, reason=reason)
        )
        await audit.record(
            conn, at=now, actor=user.name, action="investigation.open", detail={"reason": reason}
        )
    raise web.HTTPSeeOther("/investigations")


async def investigation_countersign(request: web.Request) -> web.StreamResponse:
    user = await require(request, "governor")
    row = await _investigation(request)
    if row.countersigned_by or row.closed_at:
        raise _refuse("already countersigned or closed")
    if row.opened_by == user.name:
        raise web.HTTPForbidden(text="A second person must countersign.")
    now = store.iso(_now(request))
    async with request.app[ENGINE].begin() as conn:
        await conn.execute(
            update(investigations)
            .where(investigations.c.id == row.id)
            .values(countersigned_by=user.name, countersigned_at=now)
        )
        await audit.record(
            conn,
            at=now,
            actor=user.name,
            action="investigation.countersign",
            detail={"id": row.id},
        )
    raise web.HTTPSeeOther("/investigations")


async def investigation_test(request: web.Request) -> web.StreamResponse:
    """Test ONE named device against the pseudonyms: a count, never a list of identities."""
    user = await require(request, "headteacher")
    row = await _investigation(request)
    if not row.countersigned_by or row.closed_at:
        raise web.HTTPForbidden(text="The investigation must be countersigned and open.")
    if (await _settings(request)).privacy_level != "stable":
        raise _refuse("Investigations need the 'stable' privacy level.")
    form = await request.post()
    device = str(form.get("device", "")).strip()
    if not 1 <= len(device) <= 200:
        raise _refuse("device: the device identifier the sensors use (its address)")
    key = bytes.fromhex(request.app[SERVICES].bundles.salts.stable_key())
    nym = pseudonym(key, device)
    now = store.iso(_now(request))
    async with request.app[ENGINE].begin() as conn:
        count = (
            await conn.execute(
                select(func.count()).select_from(events).where(events.c.device == nym)
            )
        ).scalar_one()
        await audit.record(
            conn,
            at=now,
            actor=user.name,
            action="investigation.test",
            detail={"id": row.id, "device": device, "matching_events": count},
        )
    raise web.HTTPSeeOther(f"/investigations?result={count} stored events match that device")


async def investigation_close(request: web.Request) -> web.StreamResponse:
    user = await require(request, "headteacher", "governor")
    row = await _investigation(request)
    now = store.iso(_now(request))
    async with request.app[ENGINE].begin() as conn:
        await conn.execute(
            update(investigations).where(investigations.c.id == row.id).values(closed_at=now)
        )
        await audit.record(
            conn, at=now, actor=user.name, action="investigation.close", detail={"id": row.id}
        )
    raise web.HTTPSeeOther("/investigations")
