"""What the admin pages share: who is asking and may they, the clock, the settings in force, a
refusal, a page that shows a secret once."""

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
import aiohttp_session
from aiohttp import web

from service import user_store
from service.keys import CONFIG, ENGINE, SERVICES, USER
from service.security import ROLES

ANY_ROLE = ROLES


async def current_user(request: web.Request) -> Any:
    """The logged-in user's row, or None (looked up once per request)."""
    if USER in request:
        return request[USER]
    session = await aiohttp_session.get_session(request)
    name = session.get("user")
    user = None
    if isinstance(name, str):
        async with request.app[ENGINE].connect() as conn:
            user = await user_store.get_user(conn, name)
        # A session ends when its user logs out anywhere, changes password or role, is
        # disabled (each raises the user's session generation), or waits for an approval.
        if not user_store.is_active(user) or session.get("gen") != user.session_gen:
            user = None
            session.invalidate()
    request[USER] = user
    return user


async def require(request: web.Request, *roles: str) -> Any:
    """The logged-in user, if their role is one of `roles` (any role when none given)."""
    user = await current_user(request)
    if user is None:
        raise web.HTTPSeeOther(f"/login?next={quote(request.rel_url.path)}")
    if roles and user.role not in roles:
        raise web.HTTPForbidden(text="Your role does not allow this.")
    return user


async def posted(request: web.Request, *roles: str) -> tuple[Any, Any]:
    """The logged-in user (as `require`) and the form they posted."""
    user = await require(request, *roles)
    return user, await request.post()


def now(request: web.Request) -> datetime:
    return request.app[CONFIG].clock()


def today(request: web.Request) -> date:
    """The school's date (in its time zone)."""
    return now(request).astimezone(request.app[SERVICES].tz).date()


async def settings(request: web.Request) -> Any:
    async with request.app[ENGINE].connect() as conn:
        return await request.app[SERVICES].bundles.settings(conn)


def refuse(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message)


def render_secret(template: str, request: web.Request, context: dict[str, Any]) -> web.Response:
    """A page that shows a new token once: no cache may keep it."""
    response = aiohttp_jinja2.render_template(template, request, context)
    response.headers["Cache-Control"] = "no-store"
    return response
