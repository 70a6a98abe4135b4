"""What the school answers for: the audit log, chained under a key outside the database, with its
head (entry count and hash) for the governors to write down as an anchor, and the DPIA (read by
the admins and the governors)."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service import audit, user_store
from service.dpia import dpia_markdown
from service.keys import ENGINE, SERVICES
from service.security import ADMIN_ROLES, FOUR_EYES_ROLES
from service.views.common import require, settings, today

READERS = (*ADMIN_ROLES, "governor")


@aiohttp_jinja2.template("audit.html")
async def audit_page(request: web.Request) -> dict[str, Any]:
    user = await require(request, *READERS)
    async with request.app[ENGINE].connect() as conn:
        rows = await audit.recent(conn)
        count, problems = await audit.verify(conn)
        head_count, head_hash = await audit.head(conn)
        announced = await user_store.announced(conn) if user.role in FOUR_EYES_ROLES else []
    return {
        "page": "audit",
        "entries": rows,
        "count": count,
        "problems": problems,
        "head_count": head_count,
        "head_hash": head_hash,
        "anchor_digits": audit.MIN_ANCHOR_HEX,
        "announced": announced,
        "cli": user_store.CLI,
    }


async def dpia_page(request: web.Request) -> web.StreamResponse:
    await require(request, *READERS)
    text = dpia_markdown(request.app[SERVICES].school, await settings(request), today(request))
    return web.Response(
        text=text,
        content_type="text/markdown",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="clausewarden-dpia.md"'},
    )
