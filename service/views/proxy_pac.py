"""The proxy auto-config file at a stable URL, /proxy.pac (and /wpad.dat for WPAD), made from the
bundle in force, so it follows every change of the catalogue or the settings. No login: devices
fetch it before anyone signs in, and it holds only the catalogue's hosts and the proxy's address.

The proxy's address is the setting `proxy_address` (settings.yaml); without it, the host name the
PAC file was fetched from, port 8080 (the service and the proxy on one server, as docs/deploy.md
sets them up).
"""

import re

from aiohttp import web

from policy.pac import CONTENT_TYPE, pac_text
from service.keys import CONFIG, ENGINE, SERVICES

_HOST = re.compile(r"^(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]+\])$")
DEFAULT_PROXY_PORT = 8080


async def proxy_pac(request: web.Request) -> web.Response:
    now = request.app[CONFIG].clock()
    async with request.app[ENGINE].connect() as conn:
        bundle, etag = await request.app[SERVICES].bundles.bundle(conn, now)
    address = (bundle.get("settings") or {}).get("proxy_address")
    note = "The proxy's address is the setting proxy_address."
    if not address:
        host = (
            (request.host or "").rsplit(":", 1)[0]
            if "]" not in (request.host or "")
            else (request.host.rsplit("]", 1)[0] + "]")
        )
        if not _HOST.match(host):
            raise web.HTTPBadRequest(text="The Host header is not a host name.\n")
        address = f"{host.rstrip('.')}:{DEFAULT_PROXY_PORT}"
        note = (
            "The proxy's address: this server, port 8080 (set proxy_address in settings.yaml "
            "if the proxy runs elsewhere)."
        )
    text = pac_text(bundle, address, note=note)
    return web.Response(
        text=text,
        headers={
            "Content-Type": CONTENT_TYPE,
            "Cache-Control": "no-cache",
            "ETag": etag.rstrip('"') + f'-{address}"',
        },
    )
