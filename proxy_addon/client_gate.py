"""The proxy serves only the school's clients: an address in a group of device_groups.yaml (or
in `clausewarden_allowed_clients`, when the school lists its networks there instead).

Any other client (a public address that reached port 8080, a device with a global IPv6 address
the groups do not name) gets a 403 page saying why, and a CONNECT from it is refused too. The
proxy host itself is always served (it is already there). Refusals are counted by kind of
address and day in the data folder (refused_clients.json, never an address) for
`clausewarden doctor`, which warns that devices in no group are trying to use the proxy.
"""

import asyncio
import ipaddress
import json
import logging
import os
import time
from typing import Any

from mitmproxy import connection, ctx, http

from proxy_addon import page
from proxy_addon.clients import (
    FRONTS_OPTION,
    Client,
    Clients,
    IPAddress,
    IPNetwork,
    parse_networks,
    within,
)
from proxy_addon.paths import REFUSED_CLIENTS_FILE as REFUSED_FILE
from proxy_addon.shared import Shared

log = logging.getLogger("clausewarden")

ALLOWED_OPTION = "clausewarden_allowed_clients"
KEPT_DAYS = 7
WRITE_EVERY_SECONDS = 60.0

NOT_SERVED = (
    "This proxy serves only the school's devices, and this device's address is in none of the "
    "school's device groups."
)
FIX = (
    "If this is a school device, ask the school's IT team to add its network to "
    "device_groups.yaml (for example its IPv6 range); otherwise set this device not to use the "
    "proxy."
)
NOT_READY = (
    "This proxy has not loaded the school's device groups yet, so it cannot tell whether it "
    "serves this device. Try again in a minute."
)


def kind_of(address: IPAddress | None) -> str:
    """What is counted for a refused client: a kind of address, never the address."""
    if address is None:
        return "unnamed (behind the front)"
    if isinstance(address, ipaddress.IPv6Address):
        return "global IPv6" if address.is_global else "other IPv6"
    return "public IPv4" if address.is_global else "private IPv4"


class ClientGate:
    """First in the list: refuses every client outside the school's groups."""

    def __init__(self, shared: Shared, clients: Clients) -> None:
        self.shared = shared
        self.clients = clients
        self.allowed: tuple[IPNetwork, ...] = ()
        self._counts: dict[str, dict[str, int]] | None = None  # day -> kind -> refusals
        self._last_write = 0.0
        self._writing: asyncio.Task[None] | None = None

    def load(self, loader: Any) -> None:
        loader.add_option(
            ALLOWED_OPTION,
            str,
            "",
            "Networks whose clients the proxy serves, comma-separated (e.g. 10.0.0.0/16, "
            "2001:db8:5::/48); empty: the networks of device_groups.yaml.",
        )
        loader.add_option(
            FRONTS_OPTION,
            str,
            "",
            "Addresses of a front on this host (Squid, HAProxy) whose last X-Forwarded-For "
            "entry names the client; nobody else's is believed.",
        )

    def configure(self, updated: set[str]) -> None:
        if ALLOWED_OPTION in updated:
            self.allowed = parse_networks(ALLOWED_OPTION, ctx.options.clausewarden_allowed_clients)
        if FRONTS_OPTION in updated:
            self.clients.fronts = parse_networks(FRONTS_OPTION, ctx.options.clausewarden_fronts)

    async def _served(self, client: Client) -> bool | None:
        """Whether the proxy serves this client; None when it cannot tell yet."""
        if client.on_proxy_host:
            return True
        if client.address is None:
            return False
        if self.allowed:
            return within(client.address, self.allowed)
        policy = await self.shared.settled()
        if policy is None:
            return None
        return policy.group_for_client(str(client.address)) is not None

    async def _gate(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        try:
            client = self.clients.of_flow(flow)
            served = await self._served(client)
            if served:
                return
            if served is None:
                flow.response = page.notice(503, "ClauseWarden", "Not available yet", NOT_READY)
                return
            shown = [f"This device's address: {client.address}."] if client.address else []
            flow.response = page.notice(
                403, "ClauseWarden", "Not a school device", NOT_SERVED, *shown, FIX
            )
            self._count(kind_of(client.address))
        except Exception:
            self.shared.failed("client gate")

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        await self._gate(flow)

    async def requestheaders(self, flow: http.HTTPFlow) -> None:
        await self._gate(flow)

    def client_disconnected(self, client: connection.Client) -> None:
        self.clients.forget(client)

    def running(self) -> None:
        self._counts = _read(self.shared.data_dir / REFUSED_FILE)  # once, before any request

    def _count(self, kind: str) -> None:
        if self._counts is None:
            self._counts = _read(self.shared.data_dir / REFUSED_FILE)
        day = self.shared.now().date().isoformat()
        today = self._counts.setdefault(day, {})
        today[kind] = today.get(kind, 0) + 1
        for old in sorted(self._counts)[:-KEPT_DAYS]:
            del self._counts[old]
        if self._writing is None or self._writing.done():
            self._writing = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self) -> None:
        """At most one write a minute, off the event loop."""
        await asyncio.sleep(max(0.0, self._last_write + WRITE_EVERY_SECONDS - time.monotonic()))
        self._last_write = time.monotonic()
        counts = json.loads(json.dumps(self._counts))
        try:
            await asyncio.to_thread(_write, self.shared.data_dir / REFUSED_FILE, counts)
        except OSError as exc:
            log.warning("refused clients not counted in %s: %s", REFUSED_FILE, exc)

    def done(self) -> None:
        if self._counts:
            try:
                _write(self.shared.data_dir / REFUSED_FILE, self._counts)
            except OSError:
                pass


def _read(path: Any) -> dict[str, dict[str, int]]:
    try:
        counts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return counts if isinstance(counts, dict) else {}


def _write(path: Any, counts: dict[str, dict[str, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(counts, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)
