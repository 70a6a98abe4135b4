"""The school's own social media accounts (clause 10.1): an admin adds or edits one, only the
headteacher approves it (choosing its allowed actions and its expiry), and sensors receive the
approved ones with the next bundle.

An account can be approved only where a sensor can recognise it: on a platform whose cookies
carry the account's id, and of the kind the id is (a Facebook Page matches only while someone acts
as it; a person's own profile matches everything that person does there). For the platforms whose
cookies carry no id, the school names a device instead (a school accounts device group in
device_groups.yaml)."""

from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from policy.approvals import ActLimit, act_limits, refusal
from policy.config import Platform
from policy.ids import ACCOUNT_ID
from policy.school import ACCOUNT_KIND_WORDS, account_kinds, account_refusal, default_expiry
from policy.vocabulary import APPROVABLE_ACTIONS as ACTIONS
from service import account_store, store
from service.account_mail import kind_words, tell_headteacher
from service.keys import ENGINE, SERVICES
from service.security import ADMIN_ROLES
from service.views.common import ANY_ROLE, now, posted, refuse, require, today

APPROVAL_ACTIONS_OFF = ("message",)
"""Left unticked on the approval form whatever was asked: the headteacher ticks them on purpose."""


def _catalogue(request: web.Request) -> dict[str, Platform]:
    return {p.id: p for p in request.app[SERVICES].school.platforms.platforms}


def _limits(request: web.Request) -> dict[str, ActLimit]:
    """What an approval can give each act under the school's rules (clause 10.3)."""
    return act_limits(request.app[SERVICES].school.rules.rules)


def _what_still_applies(request: web.Request, limits: dict[str, ActLimit]) -> dict[str, Any]:
    """For the headteacher deciding: the acts no approval allows, the acts that keep their
    notice, and the clauses quoted (10.3 and the clauses those rules cite, e.g. 6.2 and 8.1)."""
    never = [limit for limit in limits.values() if limit.limit == "never"]
    notice = [limit for limit in limits.values() if limit.limit == "notice"]
    cited = dict.fromkeys(c for limit in (*never, *notice) for c in limit.clauses)
    texts = {c.id: c for c in request.app[SERVICES].school.policy.clauses}
    ids = [c for c in ("10.3", *cited) if c in texts]
    return {
        "never": never,
        "notice": notice,
        "quoted": [texts[c] for c in dict.fromkeys(ids)],
    }


MESSAGES = {
    "added": "Added; it waits for the headteacher's approval.",
    "saved": "Saved.",
    "approved": "Approved; sensors receive it with the next bundle.",
    "expired": "Expired.",
}
"""What the page may say after a change: chosen by a code, never text from the URL."""


def _source_words(row: Any) -> str:
    if row.source == "config":
        return "from accounts.yaml"
    if row.source == "request":
        return f"asked for from a warning page ({row.requested_by})"
    return f"added in these pages by {row.requested_by}"


async def _context(request: web.Request, user: Any) -> dict[str, Any]:
    catalogue = _catalogue(request)
    services = request.app[SERVICES]
    async with request.app[ENGINE].connect() as conn:
        rows = await account_store.list_accounts(conn)
        problems = await account_store.accounts_file_problems(conn)
        schedule = await services.bundles.schedule(conn)
    views = [
        {
            "row": r,
            "kind": kind_words(catalogue.get(r.platform), r.kind),
            "source": _source_words(r),
            "actions": r.actions.split(","),
            "from_file": r.source == "config",
        }
        for r in rows
    ]
    matchable = [p for p in catalogue.values() if p.account_cookies]
    unmatchable = [p for p in catalogue.values() if not p.account_cookies]
    groups = [g for g in services.school.device_groups.device_groups if g.school_accounts]
    limits = _limits(request)
    return {
        "page": "accounts",
        "pending": [v for v in views if v["row"].status == "pending"],
        "approved": [v for v in views if v["row"].status == "approved"],
        "expired": [v for v in views if v["row"].status == "expired"],
        "platforms": [(p.id, p.name) for p in matchable],
        "kinds": {p.id: account_kinds(p) for p in matchable},
        "kind_words": ACCOUNT_KIND_WORDS,
        "unmatchable": [p.name for p in unmatchable],
        "device_groups": [
            {
                "label": g.label,
                "platforms": [
                    catalogue[p].name if p in catalogue else p
                    for p in (g.school_accounts.platforms if g.school_accounts else ())
                ],
                "actions": g.school_accounts.actions if g.school_accounts else [],
            }
            for g in groups
        ],
        "file_problems": problems,
        "actions": [a for a in ACTIONS if limits[a].limit != "never"],
        "limits": _what_still_applies(request, limits),
        "approval_off": APPROVAL_ACTIONS_OFF,
        "default_expiry": default_expiry(today(request), list(schedule.terms)).isoformat(),
        "message": MESSAGES.get(request.query.get("message", "")),
        "error": None,
        "form": {},
        "user": user,
    }


@aiohttp_jinja2.template("accounts.html")
async def accounts(request: web.Request) -> dict[str, Any]:
    user = await require(request, *ANY_ROLE)
    return await _context(request, user)


async def _form_error(request: web.Request, user: Any, message: str, form: Any) -> web.Response:
    """The page again with the error said at the top of the form, the fields kept (400)."""
    context = await _context(request, user)
    context["error"] = message
    context["form"] = {k: str(form.get(k, "")) for k in ("id", "platform", "account_id", "label")}
    context["form"]["kind"] = str(form.get("kind", "account"))
    context["form"]["actions"] = [a for a in form.getall("actions", []) if a in ACTIONS]
    context["form"]["expires_on"] = str(form.get("expires_on", ""))
    return aiohttp_jinja2.render_template("accounts.html", request, context, status=400)


def _actions(form: Any, limits: dict[str, ActLimit]) -> list[str]:
    actions = [a for a in form.getall("actions", []) if a in ACTIONS]
    return approvable(actions, limits)


def approvable(actions: list[str], limits: dict[str, ActLimit]) -> list[str]:
    """`actions`, refused (one line naming the clause) where a rule blocks one from every
    account: no approval can allow what a clause says never (6.2, references; clause 10.3)."""
    if not actions:
        raise refuse("choose at least one allowed action")
    for action in actions:
        if limits[action].limit == "never":
            raise refuse(refusal(limits[action]))
    return actions


def _expiry(form: Any) -> date | None:
    expires = str(form.get("expires_on", "")).strip()
    try:
        return date.fromisoformat(expires) if expires else None
    except ValueError:
        raise refuse("expires_on: a date like 2027-08-31") from None


def _account_form(form: Any, limits: dict[str, ActLimit]) -> tuple[str, list[str], date | None]:
    """The fields an add and an edit share: (label, allowed actions, expiry date or None)."""
    label = str(form.get("label", "")).strip()
    if not 1 <= len(label) <= 200:
        raise refuse("label: 1 to 200 characters")
    return label, _actions(form, limits), _expiry(form)


def check_account(platform: Platform | None, kind: str | None) -> str | None:
    """Why this account cannot be approved (one line naming the fix), or None."""
    if platform is None:
        return "Platform: not in the catalogue."
    refusal = account_refusal(platform, kind)
    if refusal is None:
        return None
    if not platform.account_cookies:
        return (
            f"{platform.name} cannot be approved by account id: its cookies carry no account "
            "id, so ClauseWarden could never tell the school's account from anyone else's. Ask "
            "the IT admin to make the device where the school uses it a school accounts device "
            "group (school_accounts in device_groups.yaml)."
        )
    return f"Which kind of account: {refusal}."


async def account_add(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    account = str(form.get("id", "")).strip()
    platform_id = str(form.get("platform", ""))
    account_id = str(form.get("account_id", "")).strip()
    kind = str(form.get("kind", "")).strip() or None
    if not ACCOUNT_ID.fullmatch(account):
        return await _form_error(
            request, user, "Id: lower-case letters, digits, '-', '_' or '.'.", form
        )
    platform = _catalogue(request).get(platform_id)
    problem = check_account(platform, kind)
    if problem is not None:
        return await _form_error(request, user, problem, form)
    assert platform is not None  # noqa: S101 - check_account refused a platform not known
    if not 1 <= len(account_id) <= 200:
        return await _form_error(request, user, "Account id: 1 to 200 characters.", form)
    try:
        label, actions, expires_on = _account_form(form, _limits(request))
    except web.HTTPBadRequest as exc:
        return await _form_error(request, user, f"{exc.text}.", form)
    kinds = account_kinds(platform)
    async with request.app[ENGINE].begin() as conn:
        try:
            await account_store.add_account(
                conn,
                id=account,
                platform=platform.id,
                account_id=account_id,
                label=label,
                actions=actions,
                expires_on=expires_on,
                source="admin",
                actor=user.name,
                now=now(request),
                kind=kind or kinds[0],
            )
        except store.StoreError as exc:
            return await _form_error(request, user, f"{exc}.", form)
    tell_headteacher(
        request.app,
        platform=platform.name,
        kind=kind_words(platform, kind or kinds[0]),
        label=label,
        requested=f"added in the admin pages by {user.name}",
        at=store.iso(now(request)),
    )
    raise web.HTTPSeeOther("/accounts?message=added")


async def account_edit(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, *ADMIN_ROLES)
    label, actions, expires_on = _account_form(form, _limits(request))
    account = request.match_info["id"]
    async with request.app[ENGINE].begin() as conn:
        await account_store.edit_account(
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
            await account_store.unapprove_account(conn, account)
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=saved")


async def account_approve(request: web.Request) -> web.StreamResponse:
    """The headteacher approves, choosing the allowed actions and the expiry on the form. A bare
    approval (no fields) keeps what was asked and sets the default expiry."""
    user, form = await posted(request, "headteacher")
    account = request.match_info["id"]
    async with request.app[ENGINE].connect() as conn:
        row = await account_store.get_account(conn, account)
        schedule = await request.app[SERVICES].bundles.schedule(conn)
    if row is None or row.status != "pending":
        raise refuse(f"no pending school account {account!r}")
    problem = check_account(_catalogue(request).get(row.platform), row.kind)
    if problem is not None:
        raise refuse(problem)
    chosen = "actions" in form or "expires_on" in form
    limits = _limits(request)
    actions = _actions(form, limits) if chosen else approvable(row.actions.split(","), limits)
    expires_on = _expiry(form) if chosen else None
    if not chosen and row.expires_on:
        expires_on = date.fromisoformat(row.expires_on)  # an accounts.yaml entry's own expiry
    day = today(request)
    if expires_on is None:
        expires_on = default_expiry(day, list(schedule.terms))
    async with request.app[ENGINE].begin() as conn:
        try:
            await account_store.approve_account(
                conn,
                account,
                actor=user.name,
                today=day,
                now=now(request),
                actions=actions,
                expires_on=expires_on,
            )
        except store.StoreError as exc:
            raise refuse(str(exc)) from None
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=approved")


async def account_expire(request: web.Request) -> web.StreamResponse:
    user = await require(request, *ADMIN_ROLES)
    async with request.app[ENGINE].begin() as conn:
        await account_store.expire_account(
            conn,
            request.match_info["id"],
            actor=user.name,
            today=today(request) - timedelta(days=1),
            now=now(request),
        )
    request.app[SERVICES].bundles.invalidate()
    raise web.HTTPSeeOther("/accounts?message=expired")
