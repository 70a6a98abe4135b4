"""The proxy never connects another machine to its own host, whatever the name it asked for.

OwnHostGuard refuses names; this judges the address the proxy is about to connect to. `127.1`,
`0x7f000001`, `2130706433`, `0177.0.0.1`, `0`, or a name that DNS or /etc/hosts maps to loopback
all resolve to a refused address, for a request and for a CONNECT tunnel alike. The name is
resolved here (without blocking the event loop) and every address it has is judged; the
connection is then made to the address judged, so nothing resolves the name again between the
check and the connect (DNS rebinding). Once connected, the connection gets its name back so
mitmproxy reuses it for later requests to the same name.

Refused: loopback, unspecified ("this network"), link-local (169.254/16 with the cloud metadata
address, fe80::/10), the cloud metadata addresses outside those, and every address of the proxy
host itself (any address a socket can bind to here, so one added later counts at once). A client
on the proxy host itself is already there, so it passes; a client behind a front never does.
With --upstream every connection goes to the upstream filter: the name check is all there is.

A name with several addresses is connected at its first (in getaddrinfo's order, as mitmproxy
would try first); mitmproxy's fallback to the next address when that one fails is lost.
"""

import asyncio
import ipaddress
import logging
import socket

from mitmproxy import connection
from mitmproxy.proxy import mode_specs, server_hooks

from proxy_addon.clients import Clients, IPAddress, as_address
from proxy_addon.shared import Shared

log = logging.getLogger("clausewarden")

THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # 0.x.y.z reaches the host itself on Linux
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)  # cloud instance metadata (AWS, ECS, AWS over IPv6, Alibaba)


def is_own_address(address: IPAddress) -> bool:
    """Whether this host holds the address: only then can a socket bind to it (a local call,
    no packet is sent)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((str(address), 0))
        except OSError:
            return False
    return True


def refused_because(address: IPAddress) -> str | None:
    """Why the proxy must not connect a network client to this address, or None."""
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified or address in THIS_NETWORK:
        return "an unspecified address"
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if is_own_address(address):
        return "an address of the proxy's own host"
    return None


class DestinationGuard:
    """mitmproxy's server_connect: resolve, judge every address, pin the one connected to."""

    def __init__(self, shared: Shared, clients: Clients) -> None:
        self.shared = shared
        self.clients = clients
        self._names: dict[str, tuple[str, int]] = {}  # server connection id -> asked address

    async def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        server = data.server
        try:
            if isinstance(data.client.proxy_mode, mode_specs.UpstreamMode):
                return  # the upstream filter is all it connects to (OwnHostGuard checks names)
            if self.clients.of_connection(data.client).on_proxy_host or server.address is None:
                return
            host, port = server.address
            try:
                found = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except (OSError, UnicodeError) as exc:
                server.error = f"{host} could not be resolved ({exc})"
                return
            addresses = [as_address(str(info[4][0])) for info in found]
            for address in addresses:
                reason = (
                    "an address it cannot judge" if address is None else refused_because(address)
                )
                if reason is not None:
                    server.error = f"refused: {host} is {reason}"
                    log.info("refused a connection to %s: %s", host, reason)
                    return
            self._names[server.id] = server.address
            server.address = (str(found[0][4][0]), port)
        except Exception:
            server.error = "refused: the destination could not be checked"
            self.shared.failed("destination guard")

    def _give_name_back(self, server: connection.Server) -> None:
        """The connection is to the name asked for, as when mitmproxy resolves it itself (its
        peername holds the address); mitmproxy matches later requests to it by that name.
        Server refuses a changed address once open (a guard against redirecting a live
        connection), so the name is put back past that guard: where it goes does not change."""
        asked = self._names.pop(server.id, None)
        if asked is not None:
            object.__setattr__(server, "address", asked)

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        self._give_name_back(data.server)

    def server_connect_error(self, data: server_hooks.ServerConnectionHookData) -> None:
        self._give_name_back(data.server)
