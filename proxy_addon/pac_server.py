"""Proxy auto-config generated from the bundle (policy.pac), and the proxy serving it.

The proxy answers the PAC file at two places, both never sent upstream:

- `http://<the proxy's address>:<port>/proxy.pac` (and `/wpad.dat`): asked of the proxy directly,
  as a web server (a request in origin form on the port it listens on), so a device can be given
  the proxy's own address as its PAC URL; the file names the address the device asked;
- `http://clausewarden.internal/proxy.pac`: through the proxy (the doctor reads it there).

The file is made from the policy in force, so it follows the bundle.
"""

from mitmproxy import http

from policy.pac import CONTENT_TYPE, pac_hosts, pac_text
from policy.pages_host import PAGES_HOST
from proxy_addon.shared import Shared

__all__ = ["PAC_PATHS", "PacServer", "pac_hosts", "pac_text"]

PAC_PATHS = ("/proxy.pac", "/wpad.dat")


class PacServer:
    name = "clausewarden_pac"

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or flow.error is not None or not flow.live:
            return
        request = flow.request
        if request.method not in ("GET", "HEAD") or request.path.partition("?")[0] not in PAC_PATHS:
            return
        sockname = flow.client_conn.sockname
        if request.host == PAGES_HOST:
            address = _hostport(str(sockname[0]), int(sockname[1])) if sockname else ""
        elif sockname and request.port == sockname[1] and request.scheme == "http":
            address = _hostport(request.host, request.port)  # as the device reached it
        else:
            return  # a path of some other site: not ours
        policy = self.shared.policy
        if policy is None or not address:
            flow.response = http.Response.make(
                503, b"// the proxy has no policy yet\n", {"Content-Type": CONTENT_TYPE}
            )
            return
        text = pac_text(policy.bundle, address, extra_hosts=self.shared.injections)
        flow.response = http.Response.make(
            200,
            text.encode(),
            {"Content-Type": CONTENT_TYPE, "Cache-Control": "no-cache"},
        )


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
