"""The warden: which TLS connections are opened, and what each request on a social host gets:
the warning page, a plain 403, or passage (with the school's headers where it sets some).

A warned or blocked act (a post, message, reference or friend request: policy.warning.act_held)
is held: never sent upstream. Posted as a form by the page itself (a top-level navigation, as
mbasic.facebook.com does) it gets the warning page at once; sent by the page's own script it gets
a 403 naming the clause (JSON where the script accepts JSON) and the member of staff sees the
warning on their next page of that platform within a few minutes (proxy_addon.held). Continue
there opens acts on that platform from that device for the allowance period: the act, sent again,
then goes through (the `continued` event stands for it).

Every rule is in policy/ (decide, and policy.warning for Continue); this acts on the Decision.

Bodies the proxy never reads are streamed, not buffered: every response from upstream, and the
requests it does not hold (neither a catalogue host, a header-injection host nor its own pages
host). A catalogue request is held whole until it is decided, and only its first bytes are looked
at (proxy_addon.facts).
"""

import dataclasses
import json
import logging
from datetime import datetime
from urllib.parse import urlsplit

from mitmproxy import ctx, http, tls

from policy.decide import PREFETCH, decide, is_top_level_navigation
from policy.engine import PlatformSpec, Policy
from policy.facts import Decision
from policy.pages_host import PAGES_HOST
from policy.warning import (
    ACT_NOUNS,
    WARNING_OUTCOMES,
    act_held,
    continue_offered,
    warning_content,
)
from proxy_addon import allowance, page
from proxy_addon.facts import facts_from_flow
from proxy_addon.held import HeldAct, HeldActs
from proxy_addon.recorder import Recorder
from proxy_addon.shared import Shared

log = logging.getLogger("clausewarden")

PREFIX = "/.clausewarden/"  # the proxy's own pages (own_pages.py), never sent upstream
TICKET_SECONDS = 3600


class Warden:
    name = "clausewarden_warden"

    def __init__(self, shared: Shared, recorder: Recorder, held: HeldActs) -> None:
        self.shared = shared
        self.recorder = recorder
        self._tunnelled: tuple[Policy, frozenset[str]] | None = None
        self.held = held

    def running(self) -> None:
        if ctx.options.connection_strategy != "lazy":
            log.warning("connection_strategy is not lazy: warning pages will wait for upstream")

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """Decrypt only catalogue hosts and header-injection hosts; tunnel everything else."""
        policy = self.shared.policy
        if policy is None:
            return
        try:
            sni = data.client_hello.sni
            if not sni or (
                policy.classifier.platform_for(sni) is None
                and sni not in self.shared.injections
                and sni != PAGES_HOST
            ):
                data.ignore_connection = True
            elif sni != PAGES_HOST and not self._decrypts_for(policy, data.context.client.peername):
                data.ignore_connection = True  # own devices, visitors, no group: never decrypted
        except Exception:
            self.shared.failed("tls_clienthello")

    def _decrypts_for(self, policy: Policy, peername: tuple[str, int] | None) -> bool:
        """Whether this client's device group may be decrypted: a group with `decrypt_https:
        false` (staff's own devices, visitors: they do not trust the school's CA) and a client in
        no group are tunnelled."""
        if self._tunnelled is None or self._tunnelled[0] is not policy:
            groups = policy.bundle["device_groups"]
            self._tunnelled = (
                policy,
                frozenset(g["id"] for g in groups if not g.get("decrypt_https", True)),
            )
        group = policy.group_for_client(peername[0]) if peername else None
        return group is not None and group not in self._tunnelled[1]

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Stream the body of a request the proxy will not hold (it is never read)."""
        try:
            if not self._holds(flow.request.host):
                flow.request.stream = True
        except Exception:
            self.shared.failed("requestheaders")

    def _holds(self, host: str) -> bool:
        policy = self.shared.policy
        return (
            policy is None  # not yet known: held until the policy is in force
            or host == PAGES_HOST
            or host in self.shared.injections
            or policy.classifier.platform_for(host) is not None
        )

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Stream every response from upstream: the proxy never reads a response body."""
        response = flow.response
        if response is not None and response.raw_content is None:
            response.stream = True

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or flow.error is not None or not flow.live:
            return
        if flow.request.host == PAGES_HOST:
            # The proxy's own host: answered by OwnPages, or here if that failed; never upstream.
            flow.response = page.notice(
                503, "ClauseWarden", "Not available", "This page cannot be shown just now."
            )
            return
        policy = self.shared.policy
        if policy is None:
            return
        try:
            self._request(flow, policy)
        except Exception:
            self.shared.failed("request")

    def _request(self, flow: http.HTTPFlow, policy: Policy) -> None:
        request = flow.request
        host = request.host
        platform_id = policy.classifier.platform_for(host)
        if platform_id is None:
            self._inject(flow, host)
            return
        if request.path.startswith(PREFIX):
            return  # the proxy's own pages (or one that failed): never decided, never upstream
        platform = policy.platforms[platform_id]
        client = flow.client_conn.peername[0] if flow.client_conn.peername else ""
        at = self.shared.now()
        now = at.timestamp()
        tag = allowance.device_tag(self.shared.secret, client)
        allowed = self._take_allowance(flow, platform_id, client, at)
        facts = facts_from_flow(flow, platform, at, client, policy.body_peek_bytes)
        decision = decide(facts, policy)
        if decision.rule == PREFETCH:
            # A prefetch or prerender gets no warning and no event; one of a page whose opening
            # would be warned is declined, so that the page is asked for again when it is
            # opened (a prerendered page is shown without a new request) and warned then.
            headers = {k: v for k, v in facts.headers.items() if k != "sec-purpose"}
            opened = decide(dataclasses.replace(facts, headers=headers), policy)
            if opened.outcome in WARNING_OUTCOMES and not (allowed and continue_offered(opened)):
                flow.response = http.Response.make(503, b"", {"Cache-Control": "no-store"})
                flow.metadata["clausewarden"] = "prefetch-declined"
                return
            self._inject(flow, host)
            return
        outcome = decision.outcome
        navigation = is_top_level_navigation(facts.method, facts.headers)
        held = act_held(decision)
        if held and continue_offered(decision) and self.held.acts_allowed(tag, platform_id, now):
            self._inject(flow, host)  # Continue opened acts here: the `continued` event stands
            return
        if navigation and not held:
            pending = self.held.take_pending(tag, platform_id, now)
            if pending is not None:  # a held act's warning, on this next page (recorded already)
                flow.response = self._warning_page(
                    flow, policy, platform, pending.decision, client, at, pending, next_page=True
                )
                flow.metadata["clausewarden"] = "held"
                return
        if outcome in WARNING_OUTCOMES and navigation:
            if not held and allowed and continue_offered(decision):
                self._inject(flow, host)
                return
            if decision.record:
                self.recorder.record(policy, decision, at, client, held=held)
            act = self.held.hold(tag, platform_id, decision, now) if held else None
            if act is not None:
                act.shown = True  # a form posted by the page itself: the warning at once
            flow.response = self._warning_page(
                flow, policy, platform, decision, client, at, held=act
            )
            flow.metadata["clausewarden"] = outcome
            return
        if held:  # sent by the page's own script: refused here, the warning on the next page
            if decision.record:
                self.recorder.record(policy, decision, at, client, held=True)
            if request.headers.get("sec-fetch-site", "same-origin") in _OWN_SITE:
                self.held.hold(tag, platform_id, decision, now)  # not another site's forgery
            flow.response = self._held_answer(flow, policy, platform, decision)
            flow.metadata["clausewarden"] = "held"
            return
        if decision.record:
            self.recorder.record(policy, decision, at, client)
        if outcome == "block":
            clauses = ", ".join(decision.clauses) or "-"
            flow.response = http.Response.make(
                403,
                f"Blocked by {policy.school_name}'s Social Media Policy (clause {clauses}).\n",
                {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
            )
            flow.metadata["clausewarden"] = "block"
            return
        self._inject(flow, host)

    def _held_answer(
        self, flow: http.HTTPFlow, policy: Policy, platform: PlatformSpec, decision: Decision
    ) -> http.Response:
        """What the page's script gets for a held act: a failure it handles, naming the clause."""
        clauses = ", ".join(decision.clauses) or "-"
        act = ACT_NOUNS.get(decision.action, "request")
        message = (
            f"Not sent: your {act} on {platform.name} was held by {policy.school_name}'s Social "
            f"Media Policy (clause {clauses}). Open a page of {platform.name} to see why."
        )
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        if "json" in flow.request.headers.get("accept", "").lower():
            body = json.dumps(
                {
                    "error": "held_by_school_policy",
                    "message": message,
                    "platform": platform.id,
                    "outcome": decision.outcome,
                    "clauses": list(decision.clauses),
                }
            )
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            body = message + "\n"
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return http.Response.make(403, body, headers)

    def _inject(self, flow: http.HTTPFlow, host: str) -> None:
        extra = self.shared.injections.get(host)
        if extra:
            for name, value in extra:
                flow.request.headers[name] = value

    def _take_allowance(
        self, flow: http.HTTPFlow, platform_id: str, client: str, at: datetime
    ) -> bool:
        """A valid allowance for this platform? (The cookie never goes upstream.)"""
        cookie_header = flow.request.headers.get("cookie", "")
        if allowance.COOKIE not in cookie_header:
            return False
        cookies = flow.request.cookies
        token = cookies.get(allowance.COOKIE, "")
        del cookies[allowance.COOKIE]
        if not cookies:
            del flow.request.headers["cookie"]
        secret = self.shared.secret
        tag = allowance.device_tag(secret, client)
        return allowance.verify(secret, token, "allow", tag, at.timestamp()) == platform_id

    def _warning_page(
        self,
        flow: http.HTTPFlow,
        policy: Policy,
        platform: PlatformSpec,
        decision: Decision,
        client: str,
        at: datetime,
        held: HeldAct | None = None,
        *,
        next_page: bool = False,
    ) -> http.Response:
        """The warning page; for a held act, shown at once (`held`, the act is this request) or
        on the next page of the platform (`next_page`)."""
        account_seen = bool(platform.account_cookies) and (
            policy.account_id(platform, flow.request.cookies) is not None
        )
        return_to = flow.request.path
        if held is not None and not next_page and flow.request.method not in ("GET", "HEAD"):
            return_to = _referring_path(flow)  # a form the page posted: back to that page
        content = warning_content(
            policy.bundle,
            decision,
            return_to=return_to,
            account_seen=account_seen,
            held=held is not None,
        )
        pages = f"{flow.request.scheme}://{PAGES_HOST}"
        secret = self.shared.secret
        expires = int(at.timestamp()) + TICKET_SECONDS
        ticket = allowance.sign(
            secret, "ticket", platform.id, allowance.device_tag(secret, client), expires
        )
        return page.html_response(
            403 if content["blocked"] else 200,
            "warning.html",
            **content,
            ticket=ticket,
            held_id=held.id if held is not None else "",
            next_page=next_page,
            injection=bool(self.shared.injections),
            pages=pages,
        )


_OWN_SITE = ("same-origin", "same-site", "none")
"""Sec-Fetch-Site of a script's act that may bring its warning up on the next page: another
site's script forging an act (held all the same) must not tell staff they sent something."""


def _referring_path(flow: http.HTTPFlow) -> str:
    """The path of the page a form was posted from, if it is on this host; else "/"."""
    referer = urlsplit(str(flow.request.headers.get("referer", "")))
    if referer.hostname != flow.request.host or not referer.path:
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")
