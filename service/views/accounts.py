"""The school's own social media accounts (clause 10.1): an admin adds or edits one, only the
headteacher approves it, and sensors receive the approved ones with the next bundle."""

from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from policy.ids import ACCOUNT_ID
from policy.vocabulary import ACTIONS
from service import store
from service.keys import ENGINE, SERVICES
from service.security import ADMIN_ROLES
from service.views.common import ANY_ROLE, now, posted, refuse, require, today


def _platforms(request: web.Request) -> list[str]:
    return [p.id for p in request.app[SERVICES].school.platforms.platforms]


MESSAGES = {
    "added": "Added; it waits for the headteacher's approval.",
    "saved": "Saved.",
    "approved": "Approved; sensors receive it with the next bundle.",
    "expired": "Expired.",
}
"""What the page may say after a change: chosen by a code, never text from the URL."""


@aiohttp_jinja2.template("accounts.html")
async def accounts(request: web.Request) -> dict[str, Any]:
    await require(request, *ANY_ROLE)
    async with request.app[ENGINE].connect() as conn:
        rows = await store.list_accounts(conn)
    return {
        "page": "accounts",
        "pending": [r for r in rows if r.status == "pending"],
        "approved": [r for r in rows if r.status == "approved"],
        "expired": [r for r in rows if r.status == "expired"],
        "platforms": _platforms(request),
        "actions": ACTIONS,
        "message": MESSAGES.get(request.query.get("message", "")),
    }


def _account_form(form: Any) -> tuple[str, list[str], date | None]:
    """The fields an add and an edit share: (label, allowed actions, expiry date or None)."""
    label = str(form.get("label", "")).strip()
    if not 1 <= len(label) <= 200:
        raise refuse("label: 1 to 200 characters")
    actions = [a for a in form.getall("actions", []) if a in ACTIONS]
    if not actions:
        raise refuse("choose at least one allowed action")
    expires = str(form.get("expires_on", "")).strip()
    try:
        expires_on = date.fromisoformat(expires) if expires else None
    except ValueError:
        raise refuse("expires_on: a date like 2027-08-31") from None
    return label, actions, expires_on


async def account_add(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    account = str(form.get("id", "")).strip()
    platform = str(form.get("platform", ""))
    account_id = str(form.get("account_id", "")).strip()
    if not ACCOUNT_ID.fullmatch(account):
        raise refuse("id: lower-case letters, digits, '-', '_' or '.'")
    if platform not in _platforms(request):
        raise refuse("platform: not in the catalogue")
    if not 1 <= len(account_id) <= 200:
        raise refuse("account_id: 1 to 200 characters")
    label, actions, expires_on = _account_form(form)
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
            now=now(request),
        )
    raise web.HTTPSeeOther("/accounts?message=added")


async def account_edit(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    label, actions, expires_on = _account_form(form)
    account = request.match_info["id"]
    async with request.app[ENGINE].begin() as conn:
        await store.edit_account(
            conn,
            account,
            label=label,
            actions=actions,
            expires_on=expires_on,
            actor=user.name,
            now=now(request),
        )
        if user.role != "headteacher":
            # A change made by anyone else needs the headteacher's approval again.
            await store.unapprove_account(conn, account)
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=saved")


async def account_approve(request: web.Request) -> web.StreamResponse:
    user = await require(request, "headteacher")
    async with request.app[ENGINE].begin() as conn:
        await store.approve_account(
            conn, request.match_info["id"], actor=user.name, today=today(request), now=now(request)
        )
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=approved")


async def account_expire(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].begin() as conn:
        await store.expire_account(
            conn,
            request.match_info["id"],
            actor=user.name,
            today=today(request) - timedelta(days=1),
            now=now(request),
        )
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=expired")
