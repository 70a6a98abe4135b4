"""The warden: which TLS connections are opened, and what each request on a social host gets:
the warning page, a plain 403, or passage (with the school's headers where it sets some).

Every rule is in policy/ (decide, and policy.warning for Continue); this acts on the Decision.

Bodies the proxy never reads are streamed, not buffered: every response from upstream, and the
requests it does not hold (neither a catalogue host, a header-injection host nor its own pages
host). A catalogue request is held whole until it is decided, and only its first bytes are looked
at (proxy_addon.facts).
"""

import logging
from datetime import datetime

from mitmproxy import ctx, http, tls

from policy.decide import decide, is_top_level_navigation
from policy.engine import PlatformSpec, Policy
from policy.facts import Decision
from policy.warning import WARNING_OUTCOMES, continue_offered, warning_content
from proxy_addon import allowance, page
from proxy_addon.facts import facts_from_flow
from proxy_addon.intercept import PAGES_HOST
from proxy_addon.recorder import Recorder
from proxy_addon.shared import Shared

log = logging.getLogger("clausewarden")

PREFIX = "/.clausewarden/"  # the proxy's own pages (own_pages.py), never sent upstream
TICKET_SECONDS = 3600


class Warden:
    name = "clausewarden_warden"

    def __init__(self, shared: Shared, recorder: Recorder) -> None:
        self.shared = shared
        self.recorder = recorder

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
        except Exception:
            self.shared.failed("tls_clienthello")

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
        allowed = self._take_allowance(flow, platform_id, client, at)
        facts = facts_from_flow(flow, platform, at, client, policy.body_peek_bytes)
        decision = decide(facts, policy)
        outcome = decision.outcome
        if outcome in WARNING_OUTCOMES and is_top_level_navigation(facts.method, facts.headers):
            if allowed and continue_offered(decision):
                self._inject(flow, host)
                return
            if decision.record:
                self.recorder.record(policy, decision, at, client)
            flow.response = self._warning_page(flow, policy, platform, decision, client, at)
            flow.metadata["clausewarden"] = outcome
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
    ) -> http.Response:
        account_seen = bool(platform.account_cookies) and (
            policy.account_id(platform, flow.request.cookies) is not None
        )
        content = warning_content(
            policy.bundle, decision, return_to=flow.request.path, account_seen=account_seen
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
            injection=bool(self.shared.injections),
            pages=pages,
        )
