"""The proxy's own pages under /.clausewarden/ on a social host, answered by the proxy and never
sent upstream: the warning page's Continue, Go back and Register, the self-view, privacy.

A table of handlers: pages anyone may open, and pages that need the warning page's ticket (signed
for this device and platform, an hour long). Each handler is async: Register posts to the service.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from mitmproxy import http

from policy.decide import decide
from policy.engine import PlatformSpec, Policy
from policy.facts import Decision
from policy.warning import continue_accepted, going_back_recorded, safe_return_path
from proxy_addon import allowance, page
from proxy_addon.facts import facts_from_flow
from proxy_addon.recorder import Recorder
from proxy_addon.service_client import ServiceError, post_account_request
from proxy_addon.shared import Shared
from proxy_addon.warden import PREFIX

log = logging.getLogger("clausewarden")


@dataclass(frozen=True, slots=True)
class Asked:
    """One request for a page, with what every handler needs."""

    flow: http.HTTPFlow
    policy: Policy
    platform: PlatformSpec
    client: str
    at: datetime
    tag: str  # this device's tag (an HMAC of its address)
    form: Mapping[str, str]  # the POST form, or the query of a GET

    @property
    def school(self) -> str:
        return self.policy.school_name

    def decision(self) -> Decision:
        """The decision, now, for the page the warning was about (the form's `return_to`)."""
        return decide(
            facts_from_flow(
                self.flow, self.platform, self.at, self.client, 0,
                path=self.return_to, method="GET", navigation=True,
            ),
            self.policy,
        )  # fmt: skip

    @property
    def return_to(self) -> str:
        return safe_return_path(self.form.get("return_to", "/"))


Handler = Callable[[Asked], Awaitable[http.Response]]


class OwnPages:
    name = "clausewarden_pages"

    def __init__(self, shared: Shared, recorder: Recorder) -> None:
        self.shared = shared
        self.recorder = recorder
        self.open_pages: dict[tuple[str, str], Handler] = {
            ("mine", "GET"): self.mine,
            ("privacy", "GET"): self.privacy,
        }
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
        if policy is None or not flow.request.path.startswith(PREFIX):
            return
        platform_id = policy.classifier.platform_for(flow.request.host)
        if platform_id is None:
            return  # not a social host: an ordinary path of an ordinary site
        try:
            flow.response = await self._serve(flow, policy, policy.platforms[platform_id])
        except Exception:
            self.shared.failed("request")

    async def _serve(
        self, flow: http.HTTPFlow, policy: Policy, platform: PlatformSpec
    ) -> http.Response:
        request = flow.request
        name = request.path[len(PREFIX) :].partition("?")[0]
        method = request.method
        at = self.shared.now()
        client = flow.client_conn.peername[0] if flow.client_conn.peername else ""
        form = request.urlencoded_form if method == "POST" else request.query
        tag = allowance.device_tag(self.shared.secret, client)
        asked = Asked(flow, policy, platform, client, at, tag, form)
        handler = self.open_pages.get((name, method))
        if handler is not None:
            return await handler(asked)
        school = policy.school_name
        if name not in self.ticket_names or method not in ("GET", "POST"):
            return page.notice(404, school, "Not found", "There is no such page.")
        ticket = form.get("ticket", "")
        if allowance.verify(self.shared.secret, ticket, "ticket", tag, at.timestamp()) != (
            platform.id
        ):
            return page.notice(
                403,
                school,
                "This warning has expired",
                "Reload the page you wanted to see; the warning will show again.",
            )
        handler = self.ticket_pages.get((name, method))
        if handler is None:
            return page.notice(405, school, "Not allowed", "Use the buttons on the page.")
        return await handler(asked)

    # --- pages anyone may open -------------------------------------------------------------

    async def mine(self, asked: Asked) -> http.Response:
        working_time = asked.policy.working_time
        outbox = self.shared.outbox
        day = working_time.local(asked.at).date().isoformat()
        rows = outbox.for_self(asked.tag, day) if outbox else []
        for row in rows:  # shown in the school's time, from the coarsened UTC time
            utc = datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
            row["local_time"] = working_time.local(utc).strftime("%H:%M")
        return page.notice(
            200,
            asked.school,
            "What this device has recorded today",
            "These are the anonymised events recorded from this device today. "
            "No page addresses, content or accounts are recorded.",
            rows=rows,
        )

    async def privacy(self, asked: Asked) -> http.Response:
        policy = asked.policy
        level = (policy.bundle.get("privacy") or {}).get("level") or policy.settings.get(
            "privacy_level"
        )
        return page.notice(
            200,
            asked.school,
            "Privacy",
            "This proxy puts the school's Social Media Policy to work. It only decrypts "
            "connections to social media sites and to the sites where the school sets sign-in "
            "restrictions; every other secure connection passes through unopened and is not "
            "logged.",
            "When a page needs a warning, an anonymised event is recorded: the time, rounded; "
            "the platform; the kind of action; the clause; and your choice. Never the page's "
            "address, what you wrote or read, your device's address or your account (clause 9).",
            f"Device pseudonyms: {level}. 'daily' changes every day and cannot be linked "
            "back afterwards; 'none' records no device at all.",
        )

    # --- pages behind the warning page's ticket --------------------------------------------

    async def continue_(self, asked: Asked) -> http.Response:
        policy, decision = asked.policy, asked.decision()
        reason = asked.form.get("reason", "")
        if not continue_accepted(policy.bundle, decision, reason):
            return page.notice(
                403, asked.school, "Continue is not available", "Choose one of the reasons offered."
            )
        self.recorder.record(policy, decision, asked.at, asked.client, "continued", reason)
        minutes = int(policy.settings["allowance_minutes"])
        expires = int((asked.at + timedelta(minutes=minutes)).timestamp())
        token = allowance.sign(self.shared.secret, "allow", asked.platform.id, asked.tag, expires)
        secure = "; Secure" if asked.flow.request.scheme == "https" else ""
        return http.Response.make(
            303,
            b"",
            {
                "Location": asked.return_to,
                "Cache-Control": "no-store",
                "Set-Cookie": f"{allowance.COOKIE}={token}; Path=/; Max-Age={minutes * 60}; "
                f"HttpOnly; SameSite=Lax{secure}",
            },
        )

    async def back(self, asked: Asked) -> http.Response:
        decision = asked.decision()
        if going_back_recorded(decision):
            self.recorder.record(asked.policy, decision, asked.at, asked.client, "went_back")
        return page.notice(
            200, asked.school, "You went back", "Thank you. Nothing else is recorded.", go_back=True
        )

    async def register(self, asked: Asked) -> http.Response:
        """Staff ask, on purpose, for the account they are signed in with to be approved."""
        policy, platform, school = asked.policy, asked.platform, asked.school
        request = asked.flow.request
        account_id = (
            policy.account_id(platform, request.cookies) if platform.account_cookies else None
        )
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
                "The headteacher is asked to approve the account you are signed in with "
                "(clause 10.1). Until then nothing changes.",
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
        try:
            await post_account_request(
                shared.service_url, shared.token, platform.id, account_id, label
            )
        except ServiceError as exc:
            log.warning("account request not sent: %s", exc)
            return page.notice(
                503, school, "Not sent", "The ClauseWarden service could not be reached; try later."
            )
        return page.notice(
            202, school, "Request sent", "The headteacher will be asked to approve this account."
        )
