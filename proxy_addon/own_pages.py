"""The proxy's own pages, answered by the proxy and never sent upstream.

Two places, so that no web page can read what the proxy shows a member of staff:

- on the proxy's own host (`PAGES_HOST`, as mitmproxy has mitm.it): what this device recorded
  today and the privacy notice. A script on a social site has another origin, so the browser never
  lets it read them; under /.clausewarden/ on a social host these only redirect there.
- under /.clausewarden/ on a social host: the warning page's Continue, Go back and Register, which
  need the platform's own cookies (the allowance, the signed-in account). Each needs the warning
  page's ticket (signed for this device and platform, policy.respond.TICKET_SECONDS long, and
  carrying the decision the page is about: Continue and Go back answer that decision and decide
  nothing again) and a top-level navigation from the page itself (Sec-Fetch-*): a page's fetch(),
  an iframe or another site's form is refused. Continue or Go back uses the ticket up, in every
  proxy process sharing the data folder (proxy_addon/used_tickets.py): a replayed answer is
  refused and records nothing. Register only reads it (its GET shows a form carrying it).

Each handler is async: Register posts to the service.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from mitmproxy import http

from policy.engine import PlatformSpec, Policy
from policy.facts import Decision
from policy.pages_host import PAGES_HOST
from policy.respond import allowance_seconds, answer_back, answer_continue
from policy.warning import safe_return_path
from proxy_addon import allowance, page
from proxy_addon.held import HeldAct, HeldActs
from proxy_addon.recorder import Recorder
from proxy_addon.service_client import ServiceError, post_account_request
from proxy_addon.shared import Shared
from proxy_addon.tell import PATH as TELL_PATH
from proxy_addon.tell import serve as tell_page
from proxy_addon.used_tickets import UsedTickets
from proxy_addon.visit import Visit, platform_of, visit_of
from proxy_addon.warden import PREFIX

log = logging.getLogger("clausewarden")


@dataclass(frozen=True, slots=True)
class Asked:
    """One request for a page behind the warning page's ticket, with what every handler needs."""

    flow: http.HTTPFlow
    policy: Policy
    platform: PlatformSpec
    visit: Visit
    form: Mapping[str, str]  # the POST form, or the query of a GET
    decision: Decision  # what the warning page was about, carried signed by its ticket

    @property
    def school(self) -> str:
        return self.policy.school_name

    @property
    def return_to(self) -> str:
        return safe_return_path(self.form.get("return_to", "/"))


Handler = Callable[[Asked], Awaitable[http.Response]]


class OwnPages:
    name = "clausewarden_pages"

    def __init__(
        self, shared: Shared, recorder: Recorder, held: HeldActs, used: UsedTickets
    ) -> None:
        self.shared = shared
        self.recorder = recorder
        self.held = held
        self.used = used
        self.host_pages: dict[tuple[str, str], Callable[[Policy, Visit], Awaitable[http.Response]]]
        self.host_pages = {
            ("mine", "GET"): self.mine,
            ("privacy", "GET"): self.privacy,
            ("clauses", "GET"): self.clauses,
        }
        self.host_names = {name for name, _ in self.host_pages}
        self.ticket_pages: dict[tuple[str, str], Handler] = {
            ("continue", "POST"): self.continue_,
            ("back", "POST"): self.back,
            ("register", "GET"): self.register,
            ("register", "POST"): self.register,
        }
        self.ticket_names = {name for name, _ in self.ticket_pages}

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or flow.error is not None or not flow.live:
            return
        policy = self.shared.policy
        if flow.request.host == PAGES_HOST:
            if policy is not None:
                try:
                    flow.response = await self._serve_own_host(flow, policy)
                except Exception:
                    self.shared.failed("request")
            return  # the Warden answers whatever is left: nothing here goes upstream
        if policy is None or not flow.request.path.startswith(PREFIX):
            return
        platform_id = platform_of(flow, policy)
        if platform_id is None:
            return  # not a social host: an ordinary path of an ordinary site
        try:
            flow.response = await self._serve(flow, policy, policy.platforms[platform_id])
        except Exception:
            self.shared.failed("request")

    async def _serve_own_host(self, flow: http.HTTPFlow, policy: Policy) -> http.Response:
        request = flow.request
        name = request.path.partition("?")[0].strip("/")
        school = policy.school_name
        if name == TELL_PATH:  # Tell the Headteacher (proxy_addon/tell.py): a form, GET and POST
            return await tell_page(flow, policy, self.shared, self.used)
        handler = self.host_pages.get((name, request.method))
        if handler is None:
            return page.notice(404, school, "Not found", "There is no such page.")
        if not _navigation(request.headers):
            return page.notice(403, school, "Not allowed", "Open this page from its link.")
        return await handler(policy, visit_of(flow, self.shared, policy))

    async def _serve(
        self, flow: http.HTTPFlow, policy: Policy, platform: PlatformSpec
    ) -> http.Response:
        request = flow.request
        name = request.path[len(PREFIX) :].partition("?")[0]
        method = request.method
        school = policy.school_name
        if name in self.host_names:  # moved to the proxy's own host, out of this site's reach
            return http.Response.make(
                303,
                b"",
                {
                    "Location": f"{request.scheme}://{PAGES_HOST}/{name}",
                    "Cache-Control": "no-store",
                    "Referrer-Policy": "no-referrer",
                },
            )
        if name not in self.ticket_names or method not in ("GET", "POST"):
            return page.notice(404, school, "Not found", "There is no such page.")
        if not _navigation(request.headers, same_origin=True):
            return page.notice(403, school, "Not allowed", "Use the buttons on the warning page.")
        visit = visit_of(flow, self.shared, policy)
        form = request.urlencoded_form if method == "POST" else request.query
        ticket = form.get("ticket", "")
        decision = allowance.read_ticket(self.shared.secret, ticket, visit.tag, visit.now)
        if decision is None or decision.platform != platform.id:
            return _expired(school)
        handler = self.ticket_pages.get((name, method))
        if handler is None:
            return page.notice(405, school, "Not allowed", "Use the buttons on the page.")
        return await handler(Asked(flow, policy, platform, visit, form, decision))

    # --- pages on the proxy's own host ------------------------------------------------------

    async def mine(self, policy: Policy, visit: Visit) -> http.Response:
        working_time = policy.working_time
        outbox = self.shared.outbox
        rows = outbox.for_self(visit.tag, visit.day) if outbox else []
        names = {p["id"]: p["name"] for p in policy.bundle.get("platforms", ())}
        labels = {r["id"]: r["label"] for r in policy.settings.get("continue_reasons", ())}
        for row in rows:  # shown in the school's time, from the coarsened UTC time
            utc = datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
            row["local_time"] = working_time.local(utc).strftime("%H:%M")
            # staff read names and labels, not the ids the event carries
            row["platform"] = names.get(row["platform"], row["platform"])
            if row.get("reason_category"):
                row["reason_category"] = labels.get(row["reason_category"], "")
        return page.notice(
            200,
            policy.school_name,
            "What this device has recorded today",
            "These are the anonymised events recorded from this device today. "
            "No page addresses, content or accounts are recorded.",
            rows=rows,
        )

    async def privacy(self, policy: Policy, visit: Visit) -> http.Response:
        level = policy.privacy_level
        return page.notice(
            200,
            policy.school_name,
            "Privacy",
            "This proxy puts the school's Social Media Policy to work. It only decrypts "
            "connections to social media sites and to the sites where the school sets sign-in "
            "restrictions; every other secure connection passes through unopened and is not "
            "logged.",
            "When a page needs a warning, an anonymised event is recorded: the time, rounded; "
            "the platform; the kind of action; the clause; and your choice. Never the page's "
            "address, what you wrote or read, your device's address or your account: that is "
            "the school's promise in its privacy notice and its data protection impact "
            "assessment (DPIA), not clause 9 of the policy, which keeps the school's right to "
            "monitor more.",
            f"Device pseudonyms: {level}. 'daily' changes every day and cannot be linked "
            "back afterwards; 'none' records no device at all.",
        )

    async def clauses(self, policy: Policy, visit: Visit) -> http.Response:
        """The clause coverage map is one page, on the service: sent there when this proxy
        reports to one (its address must be one the school's devices can open)."""
        service = self.shared.service_url
        if service:
            return http.Response.make(
                303,
                b"",
                {
                    "Location": service.rstrip("/") + "/clauses",
                    "Cache-Control": "no-store",
                    "Referrer-Policy": "no-referrer",
                },
            )
        return page.notice(
            200,
            policy.school_name,
            "Which clauses ClauseWarden acts on",
            "The map of every clause of the school's policy, with what ClauseWarden does for "
            "each, is a page of the school's ClauseWarden service; this proxy runs without one. "
            "The IT admin can print it with: clausewarden clauses",
        )

    # --- pages behind the warning page's ticket --------------------------------------------

    def _held_act(self, asked: Asked) -> HeldAct | None:
        """The held act this warning page was about, taken (answered once), if it was one."""
        ident = asked.form.get("held", "")
        if not ident:
            return None
        visit = asked.visit
        return self.held.answered(ident, visit.tag, asked.platform.id, visit.now)

    async def _use_ticket(self, asked: Asked) -> bool:
        """Use up the warning page's ticket: its first answer, in any of the host's proxies."""
        ticket = asked.form.get("ticket", "")
        return await self.used.use(ticket, allowance.expiry(ticket), asked.visit.now)

    async def continue_(self, asked: Asked) -> http.Response:
        policy, visit = asked.policy, asked.visit
        reason = asked.form.get("reason", "")
        held = self._held_act(asked)
        if asked.form.get("held") and held is None:
            return _held_gone(asked)
        decision = held.decision if held is not None else asked.decision
        answer = answer_continue(
            policy.bundle, decision, reason, held=held is not None, now=visit.now
        )
        if answer.tell is not None:
            return await self._tell_instead(asked, decision, held, answer.tell, answer.record)
        if not answer.accepted or answer.pages_allowed_until is None:
            if held is not None:  # not answered after all: the page can still be answered
                self.held.hold_again(held)
            return page.notice(
                403, asked.school, "Continue is not available", "Choose one of the reasons offered."
            )
        if not await self._use_ticket(asked):
            if held is not None:
                self.held.hold_again(held)
            return _expired(asked.school)
        self.recorder.record(policy, decision, visit, "continued", reason, held=held is not None)
        if answer.acts_allowed_until is not None and answer.act is not None:
            # that kind of act only, on any of the platform's hosts
            self.held.allow_acts(
                visit.tag, asked.platform.id, answer.act, answer.acts_allowed_until
            )
        token = allowance.sign(
            self.shared.secret, "allow", asked.platform.id, visit.tag, answer.pages_allowed_until
        )
        secure = "; Secure" if asked.flow.request.scheme == "https" else ""
        seconds = allowance_seconds(policy.settings)
        return http.Response.make(
            303,
            b"",
            {
                "Location": asked.return_to,
                "Cache-Control": "no-store",
                "Set-Cookie": f"{allowance.COOKIE}={token}; Path=/; Max-Age={seconds}; "
                f"HttpOnly; SameSite=Lax{secure}",
            },
        )

    async def _tell_instead(
        self, asked: Asked, decision: Decision, held: HeldAct | None, kind: str, record: bool
    ) -> http.Response:
        """A reason that tells the Headteacher instead (8.1, 8.4; 11.3.6 on a post): nothing is
        sent or opened, the answer is recorded as Go back is, and the page goes to the Tell form
        on the proxy's own host with the platform and what it is about chosen."""
        if not await self._use_ticket(asked):
            if held is not None:
                self.held.hold_again(held)
            return _expired(asked.school)
        if record:
            self.recorder.record(
                asked.policy, decision, asked.visit, "went_back", held=held is not None
            )
        query = urlencode({"platform": asked.platform.id, "kind": kind})
        return http.Response.make(
            303,
            b"",
            {
                "Location": f"{asked.flow.request.scheme}://{PAGES_HOST}/{TELL_PATH}?{query}",
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def back(self, asked: Asked) -> http.Response:
        held = self._held_act(asked)
        if asked.form.get("held") and held is None:
            return _held_gone(asked)
        decision = held.decision if held is not None else asked.decision
        if not await self._use_ticket(asked):
            if held is not None:
                self.held.hold_again(held)
            return _expired(asked.school)
        if answer_back(decision).record:
            self.recorder.record(
                asked.policy, decision, asked.visit, "went_back", held=held is not None
            )
        return page.notice(
            200, asked.school, "You went back", "Thank you. Nothing else is recorded.", go_back=True
        )

    async def register(self, asked: Asked) -> http.Response:
        """Staff ask, on purpose, for the account they are signed in with to be approved."""
        policy, platform, school = asked.policy, asked.platform, asked.school
        request = asked.flow.request
        identity = (
            policy.account_identity(platform, request.cookies) if platform.account_cookies else None
        )
        kind, account_id = identity if identity is not None else ("account", None)
        if account_id is None:
            return page.notice(
                400,
                school,
                "No account to register",
                f"You are not signed in to {platform.name} in this browser.",
            )
        if request.method == "GET":
            return page.notice(
                200,
                school,
                f"Register this {platform.name} account as a school account",
                _what_is_registered(platform.name, kind)
                + " The headteacher is asked to approve it (clause 10.1). Until then nothing "
                "changes.",
                register={"ticket": asked.form.get("ticket", "")},
            )
        label = " ".join(request.urlencoded_form.get("label", "").split())[:200]
        if not label:
            return page.notice(400, school, "A name is needed", "Give the account a name.")
        shared = self.shared
        if not shared.service_url:
            return page.notice(
                503,
                school,
                "Not sent",
                "This proxy is not connected to a ClauseWarden service; ask the IT admin to "
                "add the account.",
            )
        # Each device its own limit: the proxy's one credential speaks for every device behind it.
        visit = asked.visit
        day, now = visit.day, visit.at.timestamp()
        wait = shared.account_request_limits.wait(visit.tag, day, now)
        if wait > 0:
            return page.notice(
                429,
                school,
                "Not sent",
                "Several accounts were put forward from this device just now. Nothing was sent: "
                f"try again in {max(1, round(wait / 60))} minutes, or ask the IT admin.",
            )
        try:
            await post_account_request(
                shared.service_url, shared.token, platform.id, account_id, label, kind
            )
        except ServiceError as exc:
            log.warning("account request not sent: %s", exc)
            return page.notice(
                503, school, "Not sent", "The ClauseWarden service could not be reached; try later."
            )
        shared.account_request_limits.sent(visit.tag, day, now)
        return page.notice(
            202, school, "Request sent", "The headteacher will be asked to approve this account."
        )


def _expired(school: str) -> http.Response:
    """A ticket that is not this proxy's, has run out or was used already."""
    return page.notice(
        403,
        school,
        "This warning has expired",
        "Reload the page you wanted to see; the warning will show again.",
    )


def _held_gone(asked: Asked) -> http.Response:
    """A held act's warning answered already, or from before the proxy restarted."""
    return page.notice(
        403,
        asked.school,
        "This warning has been answered",
        f"Send it again on {asked.platform.name} if you still need to; the warning will show "
        "again if it applies.",
    )


def _what_is_registered(platform: str, kind: str) -> str:
    """Which kind of account the member of staff is about to register, said plainly."""
    if kind == "page":
        return f"You are acting as a {platform} Page: the Page is registered, not your profile."
    if kind == "profile":
        return (
            f"You are signed in as yourself: your own {platform} profile would be registered, "
            f"and everything you do on {platform} would count as school business. To register "
            "the school's Page, switch to the Page first."
        )
    return f"The {platform} account you are signed in with is registered."


def _navigation(headers: Mapping[str, str], *, same_origin: bool = False) -> bool:
    """A top-level navigation the person made (Sec-Fetch-*; a browser without them passes):
    never a script's fetch() or an embedded frame, and with `same_origin` never a form or link of
    another site (the warning page's forms are on the platform's own origin)."""
    mode, dest = headers.get("sec-fetch-mode"), headers.get("sec-fetch-dest")
    if mode is not None and mode != "navigate":
        return False
    if dest is not None and dest != "document":
        return False
    site = headers.get("sec-fetch-site")
    return not (same_origin and site is not None and site not in ("same-origin", "none"))
