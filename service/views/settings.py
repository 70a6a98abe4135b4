"""The school's settings: privacy level, k, retention, and the term dates and closures sensors use
for working time.

The privacy level, k and the retention period change what is kept and what people see, and clause 7
outside working time (warn, the default, or record only) what staff are told: the headteacher
changes them, or an admin proposes a change that takes effect only when a headteacher (another
person) approves it. Each proposal, approval and rejection is in the audit log. Term
dates stay the admin's to edit."""

from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from policy.vocabulary import PRIVACY_LEVELS
from service import settings_store
from service.keys import ENGINE, SERVICES
from service.security import ADMIN_ROLES
from service.views.common import now, posted, refuse, require, settings

OUTSIDE_WORKING_TIME = {
    "warn": "Warn (clause 7 covers the school's devices and network at any time)",
    "log": "Record only, without a warning",
}
"""The choices for personal use outside working time on the school's devices and network."""

MESSAGES = {
    "saved": "Saved.",
    "proposed": "Proposed: the change takes effect when the headteacher approves it.",
    "approved": "Approved: the change is in effect.",
    "rejected": "Rejected: nothing changed.",
    "schedule": "Term dates saved; sensors get them with the bundle.",
    "file-schedule.yaml": "schedule.yaml's term dates and closures are in force again.",
    "file-settings.yaml": "settings.yaml's privacy level, k, retention and clause 7 outside "
    "working time are in force again.",
    "file-unchanged": "Nothing to do: the file was in force already.",
}
"""The fixed messages the page shows after a form, chosen by a code in the query string."""


@aiohttp_jinja2.template("settings.html")
async def settings_page(request: web.Request) -> dict[str, Any]:
    user = await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].connect() as conn:
        schedule = await request.app[SERVICES].bundles.schedule(conn)
        pending = await settings_store.pending_settings(conn)
        replaced = await settings_store.replaced_files(conn)
    return {
        "replaced": replaced,
        "labels": settings_store.LABELS,
        "page": "settings",
        "pending": pending,
        "may_decide": user.role == "headteacher",
        "settings": await settings(request),
        "levels": PRIVACY_LEVELS,
        "outside_choices": OUTSIDE_WORKING_TIME,
        "schedule": schedule,
        "terms_text": _ranges_text(schedule.terms),
        "closures_text": _ranges_text(schedule.closures),
        "message": MESSAGES.get(request.query.get("message", "")),
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
        await settings_store.save_settings(
            conn, values, action=action, actor=actor, now=now(request)
        )
    request.app[SERVICES].bundles.invalidate()


async def schedule_save(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    terms = _parse_ranges(str(form.get("terms", "")), "terms")
    closures = _parse_ranges(str(form.get("closures", "")), "closures")
    if not terms:
        raise refuse("terms: at least one term")
    values = {"terms": terms, "closures": closures}
    await _save(request, values, action="schedule.save", actor=user.name)
    raise web.HTTPSeeOther("/settings?message=schedule")


async def use_file(request: web.Request) -> web.StreamResponse:
    """Forget what the pages saved of one file's settings: the file is in force again. The
    privacy level, k and retention change what is kept and shown, so settings.yaml's come back
    by the headteacher's hand only."""
    user, form = await posted(request, *ADMIN_ROLES)
    file = str(form.get("file", ""))
    if file not in ("schedule.yaml", "settings.yaml"):
        raise refuse("file: schedule.yaml or settings.yaml")
    if file == "settings.yaml" and user.role != "headteacher":
        raise web.HTTPForbidden(text="Only the headteacher puts settings.yaml's values back.")
    async with request.app[ENGINE].begin() as conn:
        changed = await settings_store.use_file_again(conn, file, actor=user.name, now=now(request))
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther(f"/settings?message=file-{file if changed else 'unchanged'}")


async def settings_save(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    decision = str(form.get("decision", ""))
    if decision:
        return await _decide(request, user, decision)
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
    values: dict[str, Any] = {"privacy_level": level, "k_anonymity": k, "retention_days": days}
    outside = form.get("personal_use_outside_working_time")
    if outside is not None:  # a form without the field leaves the setting as it is
        if str(outside) not in OUTSIDE_WORKING_TIME:
            raise refuse("personal_use_outside_working_time: warn or log")
        values["personal_use_outside_working_time"] = str(outside)
    if user.role == "headteacher":
        await _save(request, values, action="settings.save", actor=user.name)
        raise web.HTTPSeeOther("/settings?message=saved")
    async with request.app[ENGINE].begin() as conn:
        await settings_store.propose_settings(conn, values, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/settings?message=proposed")


async def _decide(request: web.Request, user: Any, decision: str) -> web.StreamResponse:
    """A headteacher approves or rejects the change an admin proposed."""
    if decision not in ("approve", "reject"):
        raise refuse("decision: approve or reject")
    if user.role != "headteacher":
        raise web.HTTPForbidden(text="Only the headteacher approves a change of these settings.")
    async with request.app[ENGINE].begin() as conn:
        await settings_store.decide_settings(
            conn, approve=decision == "approve", actor=user.name, now=now(request)
        )
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther(f"/settings?message={decision.rstrip('e')}ed")
