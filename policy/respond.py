"""What becomes of a request, decided once for both sensors: the Response.

`decide()` says what the policy thinks of a request (the Decision); `respond()` says what the
sensor does about it for the member of staff at the screen: send the request on, hold the act,
refuse it, or decline a prefetch; which page to show; whether to record the event; and when the
page's Continue ticket runs out. The proxy (proxy_addon/warden.py) and the extension's worker
(extension/js/policy/respond.js, its twin) only carry a Response out; both pass the cases of
tests/vectors/responses.json. Pure: the time is an argument, as epoch seconds.

The rules (the proxy's, which the extension follows too):
- a warned or blocked page opened at the top level gets the warning (or blocked) page;
- a warned or blocked act (policy.warning.act_held) is held, never sent: posted as a form by the
  page itself it gets the warning at once; sent by the page's own script the script gets a 403
  and the warning waits for the next page of that platform (HELD_NOTICE_SECONDS); another site's
  script forging it gets the 403 only (it must not tell staff they sent something);
- Continue on a page's warning lets that platform's pages open for the allowance; only Continue
  on a held act opens acts on that platform, and only that kind of act (then the act, sent
  again, goes through: the `continued` event stands for it, nothing more is recorded); any other
  kind is held and warned on its own, with its own clause and its own event;
- a reason that tells the Headteacher instead (policy.warning.tell_instead) opens nothing: the act
  stays unsent, Go back is recorded, and the sensor opens Tell the Headteacher;
- a prefetch or prerender is never warned nor recorded: one of a page that would be warned is
  declined, so the page is asked for again, and warned, when it is opened;
- a secure connection tunnelled without decrypting (policy.tunnel: staff's own devices, visitors)
  always goes through untouched; a platform's page host is recorded as `seen` at most once per
  device and platform in SEEN_SECONDS (the proxy only: the extension decrypts nothing).
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from policy.decide import PREFETCH, decide, is_prefetch, is_top_level_navigation
from policy.engine import Policy
from policy.facts import Decision, Facts
from policy.tunnel import decide_tunnel
from policy.warning import (
    WARNING_OUTCOMES,
    act_held,
    continue_accepted,
    continue_offered,
    going_back_recorded,
    tell_instead,
)

TICKET_SECONDS = 1800
"""How long the warning page's ticket (its Continue, Go back and Register) can be used."""

HELD_NOTICE_SECONDS = 300
"""How long a held act's warning waits for the member of staff's next page of that platform
(when the act was sent by the page's own script, not a navigation)."""


SEEN_SECONDS = 900
"""At most one `seen` event per device and platform in this long (a tunnelled device opens many
connections to one platform while it is used: 15 minutes of use is one record)."""


def allowance_seconds(settings: Mapping[str, Any]) -> int:
    """How long Continue lets a platform open (pages; that kind of act too after a held act's
    Continue)."""
    return int(settings["allowance_minutes"]) * 60


Fate = Literal["forward", "hold", "refuse", "decline_prefetch"]
"""forward: sent on (with the school's headers where it sets some); hold: a held act, never sent;
refuse: not sent, answered by the sensor (a page, or a 403 to a script); decline_prefetch: a 503
to the browser's own prefetch, which then asks again when the page is opened."""
FATES: tuple[str, ...] = get_args(Fate)

Page = Literal["warning", "block", "held_notice", "none"]
"""warning / block: the warning page about this request (block: the blocked page, no Continue);
held_notice: the warning page about the device's pending held act (Response about the act, not
about this request); none: no page (a script gets a 403: naming the clause for a held act, a
plain one for a blocked request)."""
PAGES: tuple[str, ...] = get_args(Page)

Notice = Literal["now", "next_page", "never", "none"]
"""For a held act, when its warning is shown: now (this request's page), on the next page of the
platform (kept pending), or never (another site's script); none: not a held act."""
NOTICES: tuple[str, ...] = get_args(Notice)

ReturnTo = Literal["request", "referrer"]
"""Where the warning page's Continue and Go back lead: the path asked for, or, for a held act
posted as a form, the page it was posted from."""

OWN_SITE = ("same-origin", "same-site", "none")
"""Sec-Fetch-Site of a script's act whose warning may come up on the next page."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """What `respond` needs to know of the request itself."""

    navigation: bool  # a top-level navigation (policy.decide.is_top_level_navigation)
    method: str = "GET"
    sec_fetch_site: str | None = None  # absent: a browser without Sec-Fetch-* (its own site)
    prefetch: bool = False  # the browser's own prefetch or prerender (and not an act)


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """What the sensor keeps about this device on this platform (times: epoch seconds)."""

    pages_allowed_until: float | None = None  # Continue on a page's (or held act's) warning
    acts_allowed_until: Mapping[str, float] = field(default_factory=dict)
    """By kind of act (post, message, ...): Continue on a held act of that kind's warning."""
    pending_held_at: float | None = None  # a held act whose warning was not shown yet


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """What the sensor does with one request (JSON: `contract()`)."""

    request: Fate
    page: Page = "none"
    record: bool = False  # record this request's Event (held: as a held act)
    notice: Notice = "none"
    return_to: ReturnTo = "request"
    ticket_expires: int | None = None  # the page's ticket, where a page with forms is shown

    @property
    def held(self) -> bool:
        return self.request == "hold"

    def contract(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def decide_request(facts: Facts, policy: Policy) -> tuple[Decision, Request]:
    """The Decision and the Request of one request, from one Facts. A prefetch or prerender is
    decided as the page it fetches would be when opened (that is what `respond` declines)."""
    decision = decide(facts, policy)
    prefetch = decision.rule == PREFETCH and is_prefetch(facts.headers)
    if prefetch:
        headers = {k: v for k, v in facts.headers.items() if k != "sec-purpose"}
        decision = decide(dataclasses.replace(facts, headers=headers), policy)
    return decision, Request(
        navigation=is_top_level_navigation(facts.method, facts.headers),
        method=facts.method,
        sec_fetch_site=facts.headers.get("sec-fetch-site"),
        prefetch=prefetch,
    )


def respond(decision: Decision, request: Request, device: Device, now: float) -> Response:
    """What the sensor does with a request the policy decided `decision` about."""
    warned = decision.outcome in WARNING_OUTCOMES
    offered = continue_offered(decision)
    pages_allowed = _until(device.pages_allowed_until, now) and offered
    if request.prefetch:
        return Response(request="decline_prefetch" if warned and not pages_allowed else "forward")
    held = act_held(decision)
    if held and offered and _until(device.acts_allowed_until.get(decision.action), now):
        return Response(request="forward")  # Continue opened this act: `continued` stands for it
    ticket = int(now) + TICKET_SECONDS
    if request.navigation and not held and _pending(device, now):
        # the held act's warning, on this next page (the act was recorded when it was held)
        return Response(request="refuse", page="held_notice", ticket_expires=ticket)
    page: Page = "block" if decision.outcome == "block" else "warning"
    if warned and request.navigation:
        if not held and pages_allowed:
            return Response(request="forward")
        if not held:
            return Response(
                request="refuse", page=page, record=decision.record, ticket_expires=ticket
            )
        posted = request.method not in ("GET", "HEAD")  # a form the page posted: back there
        return Response(
            request="hold",
            page=page,
            record=decision.record,
            notice="now",
            return_to="referrer" if posted else "request",
            ticket_expires=ticket,
        )
    if held:  # sent by a script: a 403 now, the warning on the next page unless a forgery
        own_site = request.sec_fetch_site is None or request.sec_fetch_site in OWN_SITE
        return Response(
            request="hold", record=decision.record, notice="next_page" if own_site else "never"
        )
    if decision.outcome == "block":
        return Response(request="refuse", record=decision.record)
    return Response(request="forward", record=decision.record)


def _until(until: float | None, now: float) -> bool:
    return until is not None and now < until


def _pending(device: Device, now: float) -> bool:
    held_at = device.pending_held_at
    return held_at is not None and now - held_at <= HELD_NOTICE_SECONDS


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What the warning page's Continue or Go back does (JSON: `contract()`)."""

    accepted: bool  # Continue with this reason goes through (Go back always does)
    record: bool  # record `continued` (with the reason) or `went_back` (Go back, or `tell`)
    pages_allowed_until: int | None = None  # the platform's pages open until then
    acts_allowed_until: int | None = None  # and `act`, after Continue on a held act
    act: str | None = None  # the one kind of act `acts_allowed_until` opens
    tell: str | None = None  # not sent: open Tell the Headteacher about this (a report kind)

    def contract(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def answer_continue(
    bundle: Mapping[str, Any], decision: Decision, reason: str, *, held: bool, now: float
) -> Answer:
    """Continue with `reason` on the warning about `decision` (`held`: about a held act). A
    reason that tells the Headteacher instead opens nothing: it is answered as Go back is, and
    the sensor opens the Tell form about `tell`."""
    told = tell_instead(bundle, decision, reason)
    if told is not None:
        return Answer(accepted=False, record=going_back_recorded(decision), tell=told)
    if not continue_accepted(bundle, decision, reason):
        return Answer(accepted=False, record=False)
    until = int(now + allowance_seconds(bundle["settings"]))
    opens_act = held and act_held(decision)
    return Answer(
        accepted=True,
        record=True,
        pages_allowed_until=until,
        acts_allowed_until=until if opens_act else None,
        act=decision.action if opens_act else None,
    )


def answer_back(decision: Decision) -> Answer:
    """Go back on the warning about `decision`: recorded as `went_back` where it was recorded."""
    return Answer(accepted=True, record=going_back_recorded(decision))


def decide_tunnelled(host: str, at: datetime, client: str | None, policy: Policy) -> Decision:
    """The Decision about a tunnelled connection to `host` (policy.tunnel.decide_tunnel)."""
    return decide_tunnel(host, at, client, policy)


def respond_tunnel(decision: Decision, last_seen_at: float | None, now: float) -> Response:
    """A tunnelled connection always goes through, never opened; `seen` is recorded where the
    rules record it and this device's last `seen` of this platform (`last_seen_at`, epoch
    seconds) is at least SEEN_SECONDS old."""
    due = last_seen_at is None or not 0 <= now - last_seen_at < SEEN_SECONDS
    return Response(request="forward", record=decision.record and due)
