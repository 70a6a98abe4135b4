"""Pages anyone may read without logging in."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from policy.coverage import HEADING_ONLY, clause_map, gaps
from service.dpia import privacy_context
from service.keys import ENGINE, SERVICES
from service.views.common import now


@aiohttp_jinja2.template("privacy.html")
async def privacy(request: web.Request) -> dict[str, Any]:
    """Transparency (clause 9): what is monitored and what an event holds, from the settings."""
    services = request.app[SERVICES]
    async with request.app[ENGINE].connect() as conn:
        settings = await services.bundles.settings(conn)
    return {"page": "privacy", **privacy_context(services.school, settings)}


@aiohttp_jinja2.template("clauses.html")
async def clauses(request: web.Request) -> dict[str, Any]:
    """The clause coverage map: every clause of the school's policy with what ClauseWarden does
    for it, from the bundle in force (rules as the settings resolve them) and rules.yaml."""
    services = request.app[SERVICES]
    async with request.app[ENGINE].connect() as conn:
        bundle, _ = await services.bundles.bundle(conn, now(request))
    entries = clause_map(bundle, services.school.rules.not_judged)
    return {
        "page": "clauses",
        "school_name": services.school.policy.school.name,
        "policy_title": services.school.policy.document.title,
        "policy_version": services.school.policy.document.version,
        "entries": entries,
        "judged": sum(1 for e in entries if e.rules or e.routes),
        "not_judged": sum(1 for e in entries if e.not_judged and not (e.rules or e.routes)),
        "gaps": gaps(entries),
        "heading_only": HEADING_ONLY,
    }
