"""Tell the Headteacher (clauses 8.1, 8.4, 10.2, 11.3.7), or the line manager or the senior team
(5.3, 12.3): the form on the proxy's own host.

`http://clausewarden.internal/tell` (`?platform=<id>` preselects a platform, `?kind=<kind>` what it
is about; the warning page and the page of what this device recorded today link it, and a reason
that tells the Headteacher instead of sending a held act leads to it with both). A member of
staff writes what happened, on which platform, their own name and how to reach them, and chooses
who receives it among the recipients the bundle offers (policy.staff_report: the form says who
receives what); the proxy
relays it at once to the service (`POST /api/v1/staff-reports`, its sensor token) and shows the
reference the service gave it.

- The one place a name enters ClauseWarden, typed on purpose, and the form says so. Nothing of it
  is written to the outbox, the proxy's log or any file: the proxy keeps no queue of reports. If
  the service cannot be reached, the page says so plainly, keeps what they typed in the form
  (nothing else keeps it) and asks them to tell the Headteacher another way, since clause 8.1
  says "immediately": a queue would promise a delivery that may come too late.
- CSRF: the form carries a token signed for this device (an HMAC of its address) for
  TOKEN_SECONDS; the post must also be a top-level navigation from the proxy's own host
  (Sec-Fetch-*). Another site's form, a script or a frame is refused, and cannot read the page
  (another origin).
- One report per token: the token is used up (proxy_addon/used_tickets.py, shared by the host's
  proxy processes) just before the report is relayed, so a form sent twice (a double click, the
  browser's back and resend) sends it once. Every form shown again (a field to fix, the service
  unreachable) carries a fresh token: staff fix what it names and send again, as they expect,
  without being told their form "expired" for a mistake.
- Each device is held to its own limit (proxy_addon/report_limits.py): the proxy's credential is
  shared by every device behind it, so the service's limit alone would let one device use up the
  others'. A device's first report of the day always goes through.
"""

import logging
from collections.abc import Mapping
from typing import Any

from mitmproxy import http

from policy.engine import Policy
from policy.staff_report import (
    HEADTEACHER,
    KINDS,
    OTHER_PLATFORM,
    TEXT_LIMITS,
    Recipient,
    bundle_recipients,
    check_report,
)
from proxy_addon import allowance, page
from proxy_addon.service_client import ReportRefused, ServiceError, post_staff_report
from proxy_addon.shared import Shared
from proxy_addon.used_tickets import UsedTickets

log = logging.getLogger("clausewarden")

PATH = "tell"
TOKEN_SECONDS = 3600
"""How long the form can be sent after it was shown: time to write a report, not a working day."""
_KIND = "tell"


def _client(flow: http.HTTPFlow) -> str:
    return flow.client_conn.peername[0] if flow.client_conn.peername else ""


def _navigation(headers: Mapping[str, str], *, post: bool) -> bool:
    """A top-level navigation the person made (a browser without Sec-Fetch-* passes); a post only
    from this host's own form."""
    mode, dest = headers.get("sec-fetch-mode"), headers.get("sec-fetch-dest")
    if mode is not None and mode != "navigate":
        return False
    if dest is not None and dest != "document":
        return False
    site = headers.get("sec-fetch-site")
    return not (post and site is not None and site != "same-origin")


async def serve(
    flow: http.HTTPFlow, policy: Policy, shared: Shared, used: UsedTickets
) -> http.Response:
    request = flow.request
    school = policy.school_name
    post = request.method == "POST"
    if request.method not in ("GET", "POST"):
        return page.notice(405, school, "Not allowed", "Open this page from its link.")
    if not _navigation(request.headers, post=post):
        return page.notice(403, school, "Not allowed", "Open this page from its link.")
    tag = allowance.device_tag(shared.secret, _client(flow))
    now = shared.now().timestamp()
    if not post:
        chosen = request.query.get("platform", "")
        kind = request.query.get("kind", "")
        values = {
            "platform": chosen if chosen in policy.platforms else "",
            "kind": kind if kind in KINDS else "",
        }
        return _form(200, policy, shared, tag, values)
    form = request.urlencoded_form
    offered = bundle_recipients(policy.bundle)
    values = {name: form.get(name, "") for name in ("kind", "platform", "to", *TEXT_LIMITS)}
    if len(offered) == 1:  # the Headteacher alone: nothing to choose
        values["to"] = HEADTEACHER
    token = form.get("token", "")
    if allowance.verify(shared.secret, token, _KIND, tag, now) != PATH:
        return _form(
            403,
            policy,
            shared,
            tag,
            values,
            error="This form had expired or did not come from this page. Nothing was sent: "
            "check what you wrote and send it again.",
        )
    body: dict[str, Any] = {**values, "platform": values["platform"] or None}
    receive = {r.id: r.receives for r in offered}
    report, problems = check_report(body, policy.platforms, receive)
    if report is None:
        return _form(400, policy, shared, tag, values, problems=problems)
    if not shared.service_url:
        return _form(
            503,
            policy,
            shared,
            tag,
            values,
            error="Not sent: this proxy is not connected to a ClauseWarden service. Nothing was "
            "kept. Please tell the Headteacher another way today, in person or by email.",
        )
    day = policy.working_time.local(shared.now()).date().isoformat()
    wait = shared.report_limits.wait(tag, day, now)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return _form(
            429,
            policy,
            shared,
            tag,
            values,
            error=f"Not sent: several reports were sent from this device just now. What you "
            f"wrote is still below: send it again in {minutes} minutes, or tell the Headteacher "
            "another way today. (Each device's first report of the day always goes through.)",
        )
    if not await used.use(token, allowance.expiry(token), now):
        return _form(
            403,
            policy,
            shared,
            tag,
            values,
            error="This form has already been sent (its reference was shown then). Nothing "
            "was sent again. If you have more to tell the Headteacher, send it again below.",
        )
    try:
        reference = await post_staff_report(shared.service_url, shared.token, report.to_json())
    except ReportRefused as exc:
        log.warning("a report to the headteacher was refused: %s", exc)
        return _form(
            429 if "429" in str(exc) else 400,
            policy,
            shared,
            tag,
            values,
            error="Not sent: the ClauseWarden service refused it just now (too many reports "
            "from here, too long, or a recipient the school has just changed). Wait a minute "
            "and send again, or tell the Headteacher another way.",
        )
    except ServiceError as exc:
        log.warning("a report to the headteacher was not sent: %s", exc)
        return _form(
            503,
            policy,
            shared,
            tag,
            values,
            error="Not sent: the ClauseWarden service could not be reached. Nothing was kept, "
            "not even on this computer: what you wrote is still below. Try again in a few "
            "minutes, or tell the Headteacher another way today (clause 8.1 says "
            "immediately).",
        )
    shared.report_limits.sent(tag, day, now)
    return page.html_response(
        201,
        "tell_sent.html",
        school=school,
        reference=reference,
        recipient=_recipient(offered, report.to),
    )


def _form(
    status: int,
    policy: Policy,
    shared: Shared,
    tag: str,
    values: Mapping[str, str],
    *,
    error: str | None = None,
    problems: list[dict[str, str]] | None = None,
) -> http.Response:
    expires = int(shared.now().timestamp()) + TOKEN_SECONDS
    platforms = sorted(
        ((p.id, p.name) for p in policy.platforms.values()), key=lambda p: p[1].lower()
    )
    offered = bundle_recipients(policy.bundle)
    field_errors = {p["field"]: _plain(p["field"], values, offered) for p in problems or ()}
    return page.html_response(
        status,
        "tell.html",
        school=policy.school_name,
        token=allowance.sign(shared.secret, _KIND, PATH, tag, expires, once=True),
        kinds=KINDS,
        recipients=offered,
        platforms=platforms,
        other=OTHER_PLATFORM,
        limits=TEXT_LIMITS,
        values=values,
        error=error,
        field_errors=field_errors,
        connected=bool(shared.service_url),
    )


def _recipient(offered: tuple[Recipient, ...], ident: str) -> Recipient:
    return next((r for r in offered if r.id == ident), offered[0])


def _plain(field: str, values: Mapping[str, str], offered: tuple[Recipient, ...]) -> str:
    """What to fix, for the person at the form."""
    kind = values.get("kind", "")
    if field == "to" and kind in KINDS and any(r.id == values.get("to") for r in offered):
        takers = " or ".join(r.label for r in offered if kind in r.receives)
        return (
            f"{_recipient(offered, values['to']).label} does not receive this kind of report: "
            f"choose {takers}."
        )
    return {
        "to": "Choose who receives it.",
        "kind": "Choose what it is about.",
        "platform": "Choose a platform from the list.",
        "what_happened": f"Write what happened (at most {TEXT_LIMITS['what_happened']} "
        "characters).",
        "name": f"Write your name (at most {TEXT_LIMITS['name']} characters).",
        "contact": f"Write how they can reach you (at most {TEXT_LIMITS['contact']} characters).",
    }.get(field, "Check this field.")
