"""mitmproxy's transparent mode (port 80 of the guest Wi-Fi redirected here by nftables): a
request's host is the address the device connected to; the name it asked for is its Host header.
The policy decides on names, so the request is given its name back before anything judges it (the
guards then judge that name, and the address it resolves to, as for any request)."""

from mitmproxy import http
from mitmproxy.net.http import url
from mitmproxy.proxy import mode_specs


class TransparentHost:
    name = "clausewarden_transparent"

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if not isinstance(flow.client_conn.proxy_mode, mode_specs.TransparentMode):
            return
        try:
            host, _ = url.parse_authority(flow.request.host_header or "", check=True)
        except ValueError:
            return  # no usable Host: left as the address connected to
        flow.request.data.host = host
