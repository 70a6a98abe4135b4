"""Test-only mitmproxy addon: sends every request that reaches upstream to one local server.

Loaded after ClauseWarden's addon, so it sees only what ClauseWarden let through; the Host header
(what the browser asked for) is kept, so the local server can tell what was asked.
"""

from mitmproxy import ctx, http
from mitmproxy.proxy import server_hooks


class MapUpstream:
    def load(self, loader):  # type: ignore[no-untyped-def]
        loader.add_option("map_upstream", str, "", "host:port that receives every request")
        loader.add_option(
            "map_tunnels", str, "", "host:port that every tunnel (CONNECT not decrypted) reaches"
        )

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        """A tunnel the proxy does not open goes to the local TLS server, never the internet."""
        target = ctx.options.map_tunnels
        address = data.server.address
        if target and address is not None and address[0] != "127.0.0.1":
            host, _, port = target.rpartition(":")
            data.server.address = (host, int(port))

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        # A streamed request (one with a body) connects upstream right after its headers,
        # before `request`; one without a body waits for `request` like any other.
        headers = flow.request.headers
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        if flow.request.stream and has_body and not flow.metadata.get("map_upstream_done"):
            self.request(flow)

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.metadata.get("map_upstream_done"):
            return
        target = ctx.options.map_upstream
        if flow.response is not None or not target or flow.request.host == "127.0.0.1":
            return
        host, _, port = target.rpartition(":")
        header = flow.request.host_header
        flow.request.scheme = "http"
        flow.request.host = host
        flow.request.port = int(port)
        flow.request.host_header = header
        flow.metadata["map_upstream_done"] = True


addons = [MapUpstream()]
