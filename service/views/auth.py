"""Logging in and out (sessions in encrypted cookies; who is asking: service.views.common)."""

import time
from typing import Any

import aiohttp_jinja2
import aiohttp_session
from aiohttp import web

from service import audit, store, user_store
from service.keys import CONFIG, ENGINE, SERVICES
from service.security import burn_password_check, verify_password


@aiohttp_jinja2.template("login.html")
async def login_form(request: web.Request) -> dict[str, Any]:
    return {"error": None, "next": _safe_next(request.query.get("next"))}


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    target = _safe_next(str(form.get("next", "/")))
    limiter = request.app[SERVICES].logins
    keys = [f"name:{name}", f"addr:{request.remote}"]
    now = time.monotonic()
    if limiter.blocked(keys, now):
        response = aiohttp_jinja2.render_template(
            "login.html",
            request,
            {"error": "Too many failed attempts. Wait a few minutes.", "next": target},
        )
        response.set_status(429)
        return response
    async with request.app[ENGINE].connect() as conn:
        user = await user_store.get_user(conn, name)
    if user is None:
        burn_password_check(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and not user.disabled
    if not ok:
        limiter.fail(keys, now)
        response = aiohttp_jinja2.render_template(
            "login.html", request, {"error": "Wrong name or password.", "next": target}
        )
        response.set_status(401)
        return response
    session = await aiohttp_session.new_session(request)
    session["user"] = user.name
    at = store.iso(request.app[CONFIG].clock())
    async with request.app[ENGINE].begin() as conn:
        await audit.record(conn, at=at, actor=user.name, action="login", detail={})
    raise web.HTTPSeeOther(target)


async def logout(request: web.Request) -> web.StreamResponse:
    session = await aiohttp_session.get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/login")
