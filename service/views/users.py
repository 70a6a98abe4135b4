"""The people who use the admin pages, their roles, and API tokens for reporting tools."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service import user_store
from service.keys import ENGINE
from service.security import ADMIN_ROLES, ROLES
from service.views.common import now, posted, render_secret, require


async def _users_context(request: web.Request, **extra: Any) -> dict[str, Any]:
    async with request.app[ENGINE].connect() as conn:
        rows = await user_store.list_users(conn)
        tokens = await user_store.list_api_tokens(conn)
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
    user, form = await posted(request, *ADMIN_ROLES)
    role = str(form.get("role", ""))
    if not _may_grant(user, role):
        raise web.HTTPForbidden(text="Only the headteacher gives that role.")
    async with request.app[ENGINE].begin() as conn:
        await user_store.add_user(
            conn,
            str(form.get("name", "")).strip(),
            role,
            str(form.get("password", "")),
            actor=user.name,
            now=now(request),
        )
    raise web.HTTPSeeOther("/users")


async def user_change(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    name = request.match_info["name"]
    role = str(form.get("role", "")) or None
    disabled = {"yes": True, "no": False}.get(str(form.get("disabled", "")))
    async with request.app[ENGINE].connect() as conn:
        target = await user_store.get_user(conn, name)
    if target is None:
        raise web.HTTPNotFound()
    if (role and not _may_grant(user, role)) or not _may_grant(user, target.role):
        raise web.HTTPForbidden(text="Only the headteacher changes that role.")
    async with request.app[ENGINE].begin() as conn:
        await user_store.set_user(
            conn, name, actor=user.name, now=now(request), role=role, disabled=disabled
        )
    raise web.HTTPSeeOther("/users")


async def token_add(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    name = str(form.get("name", "")).strip() or "reporting"
    async with request.app[ENGINE].begin() as conn:
        token = await user_store.add_api_token(
            conn, name, user_name=user.name, role="viewer", now=now(request)
        )
    return render_secret("users.html", request, await _users_context(request, new_token=token))


async def token_revoke(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    try:
        token_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[ENGINE].begin() as conn:
        await user_store.revoke_api_token(conn, token_id, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/users")
