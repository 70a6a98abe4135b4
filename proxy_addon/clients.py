"""Who the client of a request really is: the peer, or behind a front the front's client.

A front on the proxy's host (Squid or HAProxy before mitmproxy, the fast-front issue) connects
from loopback, so the peer alone would make every client look like the proxy host itself. The
fronts are named (`clausewarden_fronts`); only their X-Forwarded-For is believed, and only its
last entry (the one the front appended; any earlier one is the client's own say). A client
behind a front is never the proxy host itself.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from mitmproxy import connection, http

from proxy_addon.shared import refuse

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

FRONTS_OPTION = "clausewarden_fronts"
FORWARDED_FOR = "X-Forwarded-For"


def as_address(text: str) -> IPAddress | None:
    """An address as a peer or header gives it ("::ffff:10.0.0.1", "fe80::1%eth0", "[::1]")."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_networks(option: str, value: str) -> tuple[IPNetwork, ...]:
    """Comma- or space-separated addresses or networks, or OptionsError naming the bad one."""
    networks = []
    for item in value.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise refuse(
                f"{option}: {item!r} is not an address or network (e.g. 127.0.0.1 or 10.0.0.0/16)"
            ) from None
    return tuple(networks)


def within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


@dataclass(frozen=True)
class Client:
    """The judged client: its address (None when a front did not say) and whether it is the
    proxy host itself (a loopback peer that is no front)."""

    address: IPAddress | None
    on_proxy_host: bool


class Clients:
    """Judges clients; shared by the gate and the guards (the fronts are set by ClientGate)."""

    def __init__(self) -> None:
        self.fronts: tuple[IPNetwork, ...] = ()
        self._tunnels: dict[str, Client] = {}  # client connection id -> judged at its CONNECT

    def is_front(self, peer: IPAddress | None) -> bool:
        return peer is not None and within(peer, self.fronts)

    def of_connection(self, conn: connection.Client) -> Client:
        """Judged by the connection alone (no request): a front's client is unknown here."""
        if conn.id in self._tunnels:
            return self._tunnels[conn.id]
        peer = as_address(str(conn.peername[0])) if conn.peername else None
        if self.is_front(peer):
            return Client(None, on_proxy_host=False)
        return Client(peer, on_proxy_host=peer is not None and peer.is_loopback)

    def of_flow(self, flow: http.HTTPFlow) -> Client:
        """Judged for a request: behind a front, the front's X-Forwarded-For hop; inside a
        tunnel the front opened, the client it named at the CONNECT (a header inside the
        tunnel is the client's own)."""
        conn = flow.client_conn
        if conn.id in self._tunnels:
            return self._tunnels[conn.id]
        peer = as_address(str(conn.peername[0])) if conn.peername else None
        if not self.is_front(peer):
            return Client(peer, on_proxy_host=peer is not None and peer.is_loopback)
        hops = flow.request.headers.get_all(FORWARDED_FOR)
        last = hops[-1].split(",")[-1] if hops else ""
        client = Client(as_address(last), on_proxy_host=False)
        if flow.request.method == "CONNECT":
            self._tunnels[conn.id] = client
        return client

    def forget(self, conn: connection.Client) -> None:
        self._tunnels.pop(conn.id, None)
