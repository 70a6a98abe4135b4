"""The people who use the admin pages, their roles, and API tokens for reporting tools.

Four eyes that are two people: the headteacher gives the headteacher or governor role, and the
account then waits until another, different headteacher or governor approves it (the rules:
service.user_store). Governors see this page for the approvals and the accounts made on the
server, and change nothing else here."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service import user_store
from service.keys import ENGINE
from service.security import ADMIN_ROLES, FOUR_EYES_ROLES, ROLES
from service.views.common import now, posted, render_secret, require

READERS = (*ADMIN_ROLES, "governor")

MESSAGES = {
    "added": "The user was added.",
    "added-waiting": (
        "The user was added. Their role counts once another headteacher or governor approves "
        "it below; until then they cannot log in."
    ),
    "saved": "The change was saved; every session of that user has ended.",
    "saved-waiting": (
        "The change was saved. The new role counts once another headteacher or governor "
        "approves it; until then that user cannot log in."
    ),
    "approved": "Approved: the account can now log in with its role.",
}
"""What the page may say after a change: chosen by a code, never text from the URL."""


ONLY_HEADTEACHER = (
    "Only the headteacher gives or changes the {role} role (clause 10.1: a headteacher or "
    "governor role is given by the headteacher and approved by a second person). Ask the "
    "headteacher to do it on the Users page; before any headteacher exists, make the first on "
    "the server: clausewarden user add NAME --role headteacher"
)


async def _users_context(request: web.Request, user: Any, **extra: Any) -> dict[str, Any]:
    async with request.app[ENGINE].connect() as conn:
        rows = await user_store.list_users(conn)
        tokens = await user_store.list_api_tokens(conn)
        waiting = await user_store.waiting(conn)
        announced = await user_store.announced(conn) if user.role in FOUR_EYES_ROLES else []
    return {
        "page": "users",
        "users": rows,
        "tokens": tokens,
        "roles": ROLES,
        "grantable": [r for r in ROLES if _may_grant(user, r)],
        "new_token": None,
        "manages": user.role in ADMIN_ROLES,
        "approves": user.role in FOUR_EYES_ROLES,
        "waiting": waiting,
        "announced": announced,
        "cli": user_store.CLI,
        "message": MESSAGES.get(request.query.get("done", "")),
        **extra,
    }


@aiohttp_jinja2.template("users.html")
async def users_page(request: web.Request) -> dict[str, Any]:
    user = await require(request, *READERS)
    return await _users_context(request, user)


def _may_grant(user: Any, role: str) -> bool:
    """Only the headteacher gives the headteacher or governor role (clause 10.1, four eyes)."""
    return role in ("viewer", "admin") or user.role == "headteacher"


async def user_add(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    role = str(form.get("role", ""))
    if not _may_grant(user, role):
        raise web.HTTPForbidden(text=ONLY_HEADTEACHER.format(role=role))
    async with request.app[ENGINE].begin() as conn:
        await user_store.add_user(
            conn,
            str(form.get("name", "")).strip(),
            role,
            str(form.get("password", "")),
            actor=user.name,
            now=now(request),
        )
    raise web.HTTPSeeOther(f"/users?done=added{'-waiting' if role in FOUR_EYES_ROLES else ''}")


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
        raise web.HTTPForbidden(
            text=ONLY_HEADTEACHER.format(role=role if role and role != target.role else target.role)
        )
    async with request.app[ENGINE].begin() as conn:
        await user_store.set_user(
            conn, name, actor=user.name, now=now(request), role=role, disabled=disabled
        )
    waits = role in FOUR_EYES_ROLES and role != target.role
    raise web.HTTPSeeOther(f"/users?done=saved{'-waiting' if waits else ''}")


async def user_approve(request: web.Request) -> web.StreamResponse:
    """Another headteacher or governor confirms a waiting headteacher or governor role."""
    user, _form = await posted(request, *FOUR_EYES_ROLES)
    async with request.app[ENGINE].begin() as conn:
        await user_store.approve_user(
            conn, request.match_info["name"], approver=user.name, now=now(request)
        )
    raise web.HTTPSeeOther("/users?done=approved")


async def token_add(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    name = str(form.get("name", "")).strip() or "reporting"
    async with request.app[ENGINE].begin() as conn:
        token = await user_store.add_api_token(
            conn, name, user_name=user.name, role="viewer", now=now(request)
        )
    return render_secret(
        "users.html", request, await _users_context(request, user, new_token=token)
    )


async def token_revoke(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    try:
        token_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[ENGINE].begin() as conn:
        await user_store.revoke_api_token(conn, token_id, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/users")
