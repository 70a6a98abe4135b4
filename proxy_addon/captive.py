"""The captive-portal notice (policy.captive) for devices the proxy does not decrypt: staff's own
devices and visitors (device groups with `decrypt_https: false`).

- Plain http (the guest Wi-Fi's port 80 sent to the proxy's transparent mode): a device's first
  connectivity check of the day (Android, iOS, macOS, Windows ...) gets the notice quoting
  clauses 3.2, 4.2 and 7 with a button to accept; after it, the checks get the answers each system
  expects, answered here.
- The captive-portal API (RFC 8908) and its page, on `clausewarden_captive_host` (the name in the
  URI the Wi-Fi hands out in DHCP option 114, RFC 8910), served over https by nginx in front.

Acceptance is kept in memory by device tag (an HMAC of the address) for the school's local day;
nothing is recorded about it. The accept button's token is bound to the device and the day.
"""

import hashlib
import hmac
import json
from typing import Any

from mitmproxy import ctx, http

from policy import captive
from policy.engine import Policy
from proxy_addon import page
from proxy_addon.clients import Clients
from proxy_addon.shared import Shared
from proxy_addon.visit import visit_of_client

HOST_OPTION = "clausewarden_captive_host"


class CaptivePortal:
    name = "clausewarden_captive"

    def __init__(self, shared: Shared, clients: Clients) -> None:
        self.shared = shared
        self.clients = clients
        self._accepted: dict[str, str] = {}  # device tag -> the local day it accepted

    def load(self, loader: Any) -> None:
        loader.add_option(
            HOST_OPTION,
            str,
            "",
            "The captive portal's host name (of the https URI handed out in DHCP option 114, "
            "e.g. portal.school.example): its API and page are answered here.",
        )

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or flow.error is not None or not flow.live:
            return
        policy = self.shared.policy
        if policy is None:
            return
        try:
            self._request(flow, policy)
        except Exception:
            self.shared.failed("captive portal")

    def _request(self, flow: http.HTTPFlow, policy: Policy) -> None:
        request = flow.request
        host, path = request.host.lower().rstrip("."), request.path.partition("?")[0]
        portal_host = ctx.options.clausewarden_captive_host.lower()
        on_portal = bool(portal_host) and host == portal_host
        if not on_portal and request.scheme != "http":
            return
        client = self.clients.of_flow(flow).address
        if client is None:
            return
        address = str(client)
        if not on_portal and policy.group_for_client(address) not in policy.tunnelled_groups:
            return  # the school's own devices: their warnings come from the warden
        visit = visit_of_client(address, self.shared, policy)
        accepted = self._accepted.get(visit.tag) == visit.day
        token = self._token(visit.tag, visit.day)
        if path == captive.ACCEPT_PATH:
            flow.response = self._accept(flow, visit.tag, visit.day, token)
        elif path == captive.DONE_PATH:
            flow.response = self._page(policy, "captive_done.html", 200, token)
        elif on_portal and path == captive.API_PATH:
            portal_url = f"https://{portal_host}{captive.PORTAL_PATH}"
            flow.response = http.Response.make(
                200,
                json.dumps(captive.api_state(accepted, portal_url)),
                {"Content-Type": captive.API_CONTENT_TYPE, "Cache-Control": "private, no-store"},
            )
        elif on_portal:
            template = "captive_done.html" if accepted else "captive.html"
            status = 200 if path == captive.PORTAL_PATH else 404
            flow.response = self._page(policy, template, status, token)
        elif not accepted and captive.shows_portal(host, path):
            flow.response = self._page(policy, "captive.html", 200, token)
        elif (probe := captive.probe_for(host, path)) is not None:
            headers = {"Cache-Control": "no-store"}
            if probe.content_type:
                headers["Content-Type"] = probe.content_type
            flow.response = http.Response.make(probe.status, probe.body, headers)
        else:
            return
        flow.metadata["clausewarden"] = "captive"

    def _accept(self, flow: http.HTTPFlow, tag: str, day: str, token: str) -> http.Response:
        if flow.request.method != "POST" or not hmac.compare_digest(
            flow.request.query.get("t", ""), token
        ):
            return http.Response.make(
                400, b"This button has expired: open the page again.\n", page.SECURITY_HEADERS
            )
        if len(self._accepted) > 50_000:  # many devices: forget past days
            self._accepted = {t: d for t, d in self._accepted.items() if d == day}
        self._accepted[tag] = day
        return http.Response.make(
            303, b"", {"Location": captive.DONE_PATH, "Cache-Control": "no-store"}
        )

    def _page(self, policy: Policy, template: str, status: int, token: str) -> http.Response:
        content = captive.notice_content(policy.bundle)
        return page.html_response(
            status,
            template,
            **content,
            clause_ids=[c["id"] for c in content["clauses"]],
            granularity=policy.settings["event_time_granularity_minutes"],
            accept_url=f"{captive.ACCEPT_PATH}?t={token}",
        )

    def _token(self, tag: str, day: str) -> str:
        payload = f"captive:{tag}:{day}".encode()
        return hmac.new(self.shared.secret, payload, hashlib.sha256).hexdigest()[:32]
