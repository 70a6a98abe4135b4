"""Worked out once per flow: the host's platform, and the request's device and time (the client
address; the device's tag, an HMAC of the address, that allowances, tickets, held acts and the
self-view key on; the time; the school's local day, that the event's salt and the outbox key on).
"""

from dataclasses import dataclass
from datetime import datetime

from mitmproxy import http

from policy.engine import Policy
from proxy_addon import allowance
from proxy_addon.shared import Shared


@dataclass(frozen=True, slots=True)
class Visit:
    client: str  # the address: never leaves the proxy, never recorded
    tag: str
    at: datetime
    day: str  # ISO date in the school's time zone

    @property
    def now(self) -> float:
        return self.at.timestamp()


def visit_of(flow: http.HTTPFlow, shared: Shared, policy: Policy) -> Visit:
    peer = flow.client_conn.peername
    return visit_of_client(peer[0] if peer else "", shared, policy)


def visit_of_client(client: str, shared: Shared, policy: Policy) -> Visit:
    """The visit of a client known by its address alone (a tunnel: no request is read)."""
    at = shared.now()
    return Visit(
        client=client,
        tag=allowance.device_tag(shared.secret, client),
        at=at,
        day=policy.working_time.local(at).date().isoformat(),
    )


_PLATFORM = "clausewarden_platform"


def platform_of(flow: http.HTTPFlow, policy: Policy) -> str | None:
    """The catalogue platform of the flow's host under `policy`, classified once per flow (the
    request-headers hook, the proxy's own pages and the warden all ask)."""
    known = flow.metadata.get(_PLATFORM)
    if known is not None and known[0] == id(policy):
        return known[1]  # type: ignore[no-any-return]
    platform = policy.classifier.platform_for(flow.request.host)
    flow.metadata[_PLATFORM] = (id(policy), platform)
    return platform
