"""The proxy never opens its own host's loopback services to the network.

On a server that runs both, the service listens on 127.0.0.1 and believes the forwarded headers
of a reverse proxy there: a client on the school network must not reach it (or anything else
bound to loopback) by asking the proxy for `http://127.0.0.1:8000/` or `CONNECT localhost:8000`.
A client on the proxy host itself is already there, so it passes; a client behind a front on the
host does not (proxy_addon.clients). This judges the name asked for, with a page saying why;
DestinationGuard judges the address actually connected to (every other spelling of loopback).
With --upstream the upstream filter resolves the name, so this check is the one there is.
"""

import ipaddress

from mitmproxy import http

from proxy_addon import page
from proxy_addon.clients import Clients
from proxy_addon.shared import Shared

REFUSED = (
    "This proxy does not connect to its own host's services. Ask for the site by its name, or "
    "use the server itself."
)


def is_loopback_host(host: str) -> bool:
    """Loopback or unspecified by name or by address (IPv4, IPv6, v4-mapped)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


class OwnHostGuard:
    """After the client gate: refuses loopback names asked for by other machines."""

    def __init__(self, shared: Shared, clients: Clients) -> None:
        self.shared = shared
        self.clients = clients

    def _refuse(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return  # refused already (client_gate)
        try:
            if is_loopback_host(flow.request.host) and not self.clients.of_flow(flow).on_proxy_host:
                flow.response = page.notice(403, "ClauseWarden", "Not available", REFUSED)
        except Exception:
            self.shared.failed("own host guard")

    def http_connect(self, flow: http.HTTPFlow) -> None:
        self._refuse(flow)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self._refuse(flow)
