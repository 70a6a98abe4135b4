"""Pages anyone may read without logging in."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.dpia import privacy_context
from service.keys import ENGINE, SERVICES


@aiohttp_jinja2.template("privacy.html")
async def privacy(request: web.Request) -> dict[str, Any]:
    """Transparency (clause 9): what is monitored and what an event holds, from the settings."""
    services = request.app[SERVICES]
    async with request.app[ENGINE].connect() as conn:
        settings = await services.bundles.settings(conn)
    return {"page": "privacy", **privacy_context(services.school, settings)}
