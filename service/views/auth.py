"""Logging in and out, and changing one's own password (sessions in encrypted cookies, each
carrying its user's session generation; who is asking: service.views.common)."""

import asyncio
import re
import time
from typing import Any

import aiohttp_jinja2
import aiohttp_session
from aiohttp import web

from service import audit, store, user_store
from service.keys import CONFIG, ENGINE, SERVICES
from service.security import burn_password_check, verify_password
from service.views.common import now, posted, require

_SAFE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*")
"""A path on this site: starts with one "/", then only URL characters (no space, tab or other
control character a browser would drop, no backslash a browser would read as "/")."""

ERRORS = {
    "wrong": "Wrong name or password.",
    "waiting": (
        "This account waits for the approval of another headteacher or governor. "
        "Ask one of them to approve it on the Users page."
    ),
    "limited": "Too many failed attempts from here. Wait a few minutes, then try again.",
}


def _safe_next(value: str | None) -> str:
    if value and len(value) <= 2000 and _SAFE_PATH.fullmatch(value):
        return value
    return "/"


NOTICES = {"password": "Your password has been changed. Log in with the new one."}
"""What the login page may say after a redirect: chosen by a code, never text from the URL."""


@aiohttp_jinja2.template("login.html")
async def login_form(request: web.Request) -> dict[str, Any]:
    return {
        "error": None,
        "notice": NOTICES.get(request.query.get("done", "")),
        "next": _safe_next(request.query.get("next")),
    }


def _refuse(request: web.Request, code: str, status: int, target: str) -> web.Response:
    response = aiohttp_jinja2.render_template(
        "login.html", request, {"error": ERRORS[code], "next": target}
    )
    response.set_status(status)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    target = _safe_next(str(form.get("next", "/")))
    limiter = request.app[SERVICES].logins
    address = request.remote or "unknown"
    clock = time.monotonic()
    if limiter.blocked(name, address, clock):
        return _refuse(request, "limited", 429, target)
    async with request.app[ENGINE].connect() as conn:
        user = await user_store.get_user(conn, name)
    # argon2 takes a good part of a second: off the event loop, so other requests go on.
    if user is None:
        await asyncio.to_thread(burn_password_check, password)
        ok = False
    else:
        ok = await asyncio.to_thread(verify_password, user.password_hash, password)
        ok = ok and not user.disabled
    if not ok:
        limiter.fail(name, address, clock)
        return _refuse(request, "wrong", 401, target)
    limiter.succeed(name, address, clock)
    if user_store.is_waiting(user):
        return _refuse(request, "waiting", 403, target)
    session = await aiohttp_session.new_session(request)
    session["user"] = user.name
    session["gen"] = user.session_gen
    at = store.iso(request.app[CONFIG].clock())
    async with request.app[ENGINE].begin() as conn:
        await audit.record(conn, at=at, actor=user.name, action="login", detail={})
    raise web.HTTPSeeOther(target)


async def logout(request: web.Request) -> web.StreamResponse:
    """Log out everywhere: every session of this user ends, not only this browser's."""
    session = await aiohttp_session.get_session(request)
    name = session.get("user")
    session.invalidate()
    if isinstance(name, str):
        async with request.app[ENGINE].begin() as conn:
            if await user_store.get_user(conn, name) is not None:
                await user_store.end_sessions(conn, name, now=now(request))
    raise web.HTTPSeeOther("/login")


PASSWORD_MESSAGES = {
    "changed": "Your password has been changed. Log in again with the new one.",
    "wrong": "Your present password was not right. Nothing was changed.",
    "short": "A password needs at least 10 characters. Nothing was changed.",
    "differ": "The two new passwords differ. Nothing was changed.",
}


@aiohttp_jinja2.template("password.html")
async def password_page(request: web.Request) -> dict[str, Any]:
    await require(request)
    return {"page": "password", "message": None}


async def password_change(request: web.Request) -> web.StreamResponse:
    """Change one's own password (which ends every session of theirs, this one included)."""
    user, form = await posted(request)
    present = str(form.get("present", ""))[:1024]
    new = str(form.get("new", ""))[:1024]
    code = None
    if not await asyncio.to_thread(verify_password, user.password_hash, present):
        code = "wrong"
    elif len(new) < 10:
        code = "short"
    elif new != str(form.get("again", ""))[:1024]:
        code = "differ"
    if code is not None:
        response = aiohttp_jinja2.render_template(
            "password.html",
            request,
            {"page": "password", "message": PASSWORD_MESSAGES[code], "failed": True},
        )
        response.set_status(400)
        return response
    async with request.app[ENGINE].begin() as conn:
        await user_store.set_user(conn, user.name, actor=user.name, now=now(request), password=new)
    (await aiohttp_session.get_session(request)).invalidate()
    raise web.HTTPSeeOther("/login?done=password")
