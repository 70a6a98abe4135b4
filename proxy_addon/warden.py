"""The warden: which TLS connections are opened, and what each request on a social host gets:
the warning page, a plain 403, or passage (with the school's headers where it sets some).

A warned or blocked act (a post, message, reference or friend request: policy.warning.act_held)
is held: never sent upstream. Posted as a form by the page itself (a top-level navigation, as
mbasic.facebook.com does) it gets the warning page at once; sent by the page's own script it gets
a 403 naming the clause (JSON where the script accepts JSON) and the member of staff sees the
warning on their next page of that platform within a few minutes (proxy_addon.held). Continue
there opens that kind of act on that platform from that device for the allowance period: the act,
sent again, then goes through (the `continued` event stands for it); any other kind of act is held
and warned on its own.

A device whose secure connections are tunnelled, never decrypted (staff's own devices, visitors:
policy.tunnel) is recorded as `seen` when the name it connects to is a platform's page host, at
most once per device, platform and 15 minutes (policy.respond.respond_tunnel); its tunnel is
never touched.

Every rule is in policy/: `decide_request` and `respond` (policy/respond.py) say what becomes of
the request; this carries that Response out. Per flow the host is classified, the device's tag
computed and the local day found once (proxy_addon.visit).

Bodies the proxy never reads are streamed, not buffered: every response from upstream, and the
requests it does not hold (neither a catalogue host, a header-injection host nor its own pages
host). A catalogue request with a body of at most `HELD_BODY_MAX` bytes is held whole until it is
decided, and only its first bytes are looked at (proxy_addon.flow_facts). A longer body (or one of
unknown length) is decided on its headers as soon as they arrive, its body unread (an act
endpoint's unread body counts as cut, so the request is the act it may be): sent on, it is
streamed; held, the flow is killed before the body is read, so the act is never sent and no
upload, however large, is ever kept in memory.
"""

import json
import logging
from urllib.parse import urlsplit

from mitmproxy import ctx, http, tls

from policy.engine import PlatformSpec, Policy
from policy.facts import Decision
from policy.pages_host import PAGES_HOST
from policy.respond import (
    Device,
    Response,
    decide_request,
    decide_tunnelled,
    respond,
    respond_tunnel,
)
from policy.warning import ACT_NOUNS, warning_content
from proxy_addon import allowance, page
from proxy_addon.flow_facts import facts_from_flow
from proxy_addon.held import HeldAct, HeldActs
from proxy_addon.recorder import Recorder
from proxy_addon.seen import SeenTunnels
from proxy_addon.shared import Shared
from proxy_addon.visit import Visit, platform_of, visit_of, visit_of_client

log = logging.getLogger("clausewarden")

PREFIX = "/.clausewarden/"  # the proxy's own pages (own_pages.py), never sent upstream
HELD_BODY_MAX = 1 << 20
"""The longest request body held in memory to be decided (body_peek_bytes is at most this)."""
DECIDED_EARLY = "clausewarden_decided_on_headers"  # flow.metadata: `request` does nothing more


class Warden:
    name = "clausewarden_warden"

    def __init__(self, shared: Shared, recorder: Recorder, held: HeldActs) -> None:
        self.shared = shared
        self.recorder = recorder
        self.held = held
        self.seen = SeenTunnels()

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
                if not sni and not self._decrypts_for(policy, data.context.client.peername):
                    self._seen(policy, data)  # no SNI: the CONNECT's name is all there is
            elif sni != PAGES_HOST and not self._decrypts_for(policy, data.context.client.peername):
                data.ignore_connection = True  # own devices, visitors, no group: never decrypted
                self._seen(policy, data)
        except Exception:
            self.shared.failed("tls_clienthello")

    def _decrypts_for(self, policy: Policy, peername: tuple[str, int] | None) -> bool:
        """Whether this client's device group may be decrypted: a group with `decrypt_https:
        false` (staff's own devices, visitors: they do not trust the school's CA) and a client in
        no group are tunnelled."""
        group = policy.group_for_client(peername[0]) if peername else None
        return group is not None and group not in policy.tunnelled_groups

    def _seen(self, policy: Policy, data: tls.ClientHelloData) -> None:
        """A tunnelled connection to a catalogue host: the name it asked for (its SNI, else the
        CONNECT's) is all that is known; a page host is recorded as `seen` (policy.tunnel), at
        most once per device, platform and 15 minutes. The tunnel itself is never touched."""
        peer, server = data.context.client.peername, data.context.server.address
        host = data.client_hello.sni or (str(server[0]) if server else "")
        if not peer or not host:
            return
        visit = visit_of_client(str(peer[0]), self.shared, policy)
        decision = decide_tunnelled(host, visit.at, visit.client, policy)
        if decision.platform is None:
            return
        last = self.seen.last(visit.tag, decision.platform)
        if respond_tunnel(decision, last, visit.now).record:
            self.seen.recorded(visit.tag, decision.platform, visit.now)
            self.recorder.record(policy, decision, visit)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Stream the body of a request the proxy will not hold (it is never read); decide one
        whose body is too long to hold on its headers."""
        try:
            if not self._holds(flow):
                flow.request.stream = True
            elif self.shared.policy is not None and _body_too_long_to_hold(flow.request):
                self._decide_on_headers(flow, self.shared.policy)
        except Exception:
            self.shared.failed("requestheaders")

    def _decide_on_headers(self, flow: http.HTTPFlow, policy: Policy) -> None:
        if flow.request.host == PAGES_HOST or flow.request.path.startswith(PREFIX):
            return  # the proxy's own pages: answered by OwnPages, never upstream
        flow.metadata[DECIDED_EARLY] = True
        self._request(flow, policy)
        if flow.response is None:
            flow.request.stream = True  # sent on: streamed, never kept
            return
        # Held or refused (the event is kept): answering would mean reading the whole body
        # first, so the flow is killed unread: mitmproxy stops reading it, and the client's
        # upload stalls until the idle timeout (tcp_timeout) closes it. The act is never sent;
        # a held one is shown on the platform's next page (proxy_addon.held).
        flow.response = None
        flow.kill()

    def _holds(self, flow: http.HTTPFlow) -> bool:
        policy, host = self.shared.policy, flow.request.host
        return (
            policy is None  # not yet known: held until the policy is in force
            or host == PAGES_HOST
            or host in self.shared.injections
            or platform_of(flow, policy) is not None
        )

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Stream every response from upstream: the proxy never reads a response body."""
        response = flow.response
        if response is not None and response.raw_content is None:
            response.stream = True

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or flow.error is not None or not flow.live:
            return
        if flow.metadata.get(DECIDED_EARLY):
            return  # decided on its headers; its body has already been streamed
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
        platform_id = platform_of(flow, policy)
        if platform_id is None:
            self._inject(flow)
            return
        if request.path.startswith(PREFIX):
            return  # the proxy's own pages (or one that failed): never decided, never upstream
        platform = policy.platforms[platform_id]
        visit = visit_of(flow, self.shared, policy)
        pages_until = self._take_allowance(flow, platform_id, visit)
        facts = facts_from_flow(flow, platform, visit.at, visit.client, policy.body_peek_bytes)
        decision, asked = decide_request(facts, policy)
        if decision.platform is not None and decision.platform != platform_id:
            # Another platform's act on this host (Threads on i.instagram.com, engine._claims): it
            # is held, warned and allowed as that platform's.
            platform_id = decision.platform
            platform = policy.platforms[platform_id]
        pending = self.held.pending(visit.tag, platform_id, visit.now)
        device = Device(
            pages_allowed_until=pages_until,
            acts_allowed_until=self.held.acts_allowed_until(visit.tag, platform_id, visit.now),
            pending_held_at=pending.held_at if pending is not None else None,
        )
        response = respond(decision, asked, device, visit.now)
        if response.page == "held_notice" and pending is not None:
            self.held.show(pending)
            decision, act = pending.decision, pending  # the page is about the held act
        else:
            act = None
        self._carry_out(flow, policy, platform, decision, response, visit, act)

    def _carry_out(
        self,
        flow: http.HTTPFlow,
        policy: Policy,
        platform: PlatformSpec,
        decision: Decision,
        response: Response,
        visit: Visit,
        act: HeldAct | None,
    ) -> None:
        """Do what `response` says (`act`: the held act a held notice is about): the event
        first, kept before the page is answered."""
        if response.record:
            self.recorder.record(policy, decision, visit, held=response.held)
        if response.request == "forward":
            self._inject(flow)
            return
        if response.request == "decline_prefetch":
            flow.response = http.Response.make(503, b"", {"Cache-Control": "no-store"})
            flow.metadata["clausewarden"] = "prefetch-declined"
            return
        if response.notice in ("now", "next_page"):
            act = self.held.hold(visit.tag, platform.id, decision, visit.now)
            if response.notice == "now":
                self.held.show(act)  # a form posted by the page itself: the warning at once
        if response.page != "none":
            flow.response = self._warning_page(
                flow, policy, platform, decision, visit, response, act
            )
            flow.metadata["clausewarden"] = (
                "held" if response.page == "held_notice" else decision.outcome
            )
        elif response.held:  # sent by the page's script: the warning on the next page
            flow.response = self._held_answer(flow, policy, platform, decision)
            flow.metadata["clausewarden"] = "held"
        else:
            clauses = _clause_words(decision, policy)
            flow.response = http.Response.make(
                403,
                f"Blocked by {policy.school_name}'s Social Media Policy ({clauses}).\n",
                {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
            )
            flow.metadata["clausewarden"] = "block"

    def _held_answer(
        self, flow: http.HTTPFlow, policy: Policy, platform: PlatformSpec, decision: Decision
    ) -> http.Response:
        """What the page's script gets for a held act: a failure it handles, naming the clause."""
        clauses = _clause_words(decision, policy)
        act = ACT_NOUNS.get(decision.action, "request")
        message = (
            f"Not sent: your {act} on {platform.name} was held by {policy.school_name}'s Social "
            f"Media Policy ({clauses}). Open a page of {platform.name} to see why."
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
                    "may_apply": list(decision.may_apply),
                }
            )
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            body = message + "\n"
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return http.Response.make(403, body, headers)

    def _inject(self, flow: http.HTTPFlow) -> None:
        extra = self.shared.injections.get(flow.request.host)
        if extra:
            for name, value in extra:
                flow.request.headers[name] = value

    def _take_allowance(self, flow: http.HTTPFlow, platform_id: str, visit: Visit) -> int | None:
        """Until when this device's allowance for this platform runs, if it has one (the cookie
        is taken off: it never goes upstream)."""
        cookie_header = flow.request.headers.get("cookie", "")
        if allowance.COOKIE not in cookie_header:
            return None
        cookies = flow.request.cookies
        token = cookies.get(allowance.COOKIE, "")
        del cookies[allowance.COOKIE]
        if not cookies:
            del flow.request.headers["cookie"]
        found = allowance.verified(self.shared.secret, token, "allow", visit.tag)
        return found[1] if found is not None and found[0] == platform_id else None

    def _warning_page(
        self,
        flow: http.HTTPFlow,
        policy: Policy,
        platform: PlatformSpec,
        decision: Decision,
        visit: Visit,
        response: Response,
        held: HeldAct | None,
    ) -> http.Response:
        """The warning page about `decision`: this request's, or (held_notice) the device's held
        act's, shown on this next page of the platform."""
        account_seen = bool(platform.account_cookies) and (
            policy.account_id(platform, flow.request.cookies) is not None
        )
        next_page = response.page == "held_notice"
        return_to = flow.request.path
        if response.return_to == "referrer":
            return_to = _referring_path(flow)  # a form the page posted: back to that page
        content = warning_content(
            policy.bundle,
            decision,
            return_to=return_to,
            account_seen=account_seen,
            held=held is not None,
        )
        expires = response.ticket_expires or int(visit.now)
        pages = f"{flow.request.scheme}://{PAGES_HOST}"
        answer = page.html_response(
            403 if content["blocked"] else 200,
            "warning.html",
            **content,
            ticket=allowance.sign_ticket(self.shared.secret, decision, visit.tag, expires),
            held_id=held.id if held is not None else "",
            next_page=next_page,
            injection=bool(self.shared.injections),
            pages=pages,
        )
        if content["tell_reasons"]:
            page.forms_may_lead_to(answer, pages)
        return answer


def _body_too_long_to_hold(request: http.Request) -> bool:
    """A body longer than HELD_BODY_MAX, or of unknown length (chunked), is not held."""
    length = request.headers.get("content-length")
    if length is None:
        return "transfer-encoding" in request.headers
    try:
        return int(length) > HELD_BODY_MAX
    except ValueError:
        return True  # mitmproxy refuses a malformed length itself; never buffer on a guess


def _referring_path(flow: http.HTTPFlow) -> str:
    """The path of the page a form was posted from, if it is on this host; else "/"."""
    referer = urlsplit(str(flow.request.headers.get("referer", "")))
    if referer.hostname != flow.request.host or not referer.path:
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")


def _clause_words(decision: Decision, policy: Policy) -> str:
    """The clauses a refusal names, those that only may apply with their condition: "clause 7;
    clause 8.1 if this person is a pupil, a parent or a carer"."""
    words = f"clause {', '.join(decision.clauses) or '-'}"
    if decision.may_apply:
        rule = next((r for r in policy.rules if r.id == decision.rule), None)
        condition = rule.may_apply_if if rule is not None else None
        words += f"; clause {', '.join(decision.may_apply)}"
        words += f" if {condition}" if condition else " may apply"
    return words
