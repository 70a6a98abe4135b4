"""Proxy auto-config generated from the bundle: policy hosts to the proxy, the rest DIRECT."""

import json
from collections.abc import Iterable
from typing import Any

from proxy_addon.intercept import PAGES_HOST


def pac_text(
    bundle: dict[str, Any],
    proxy: str,
    *,
    all_traffic: bool = False,
    extra_hosts: Iterable[str] = (),
) -> str:
    """A PAC file. `proxy` is `host:port`; `all_traffic` sends every web request to the proxy."""
    target = f"PROXY {proxy}"
    if all_traffic:
        return (
            "// ClauseWarden: all web traffic through the proxy (--all).\n"
            "function FindProxyForURL(url, host) {\n"
            '  if (isPlainHostName(host) || host === "localhost" || host === "127.0.0.1") '
            'return "DIRECT";\n'
            f"  return {json.dumps(target)};\n"
            "}\n"
        )
    domains: set[str] = set()
    hosts: set[str] = {*extra_hosts, PAGES_HOST}  # the proxy's own pages host too
    for platform in bundle["platforms"]:
        domains.update(platform["domains"])
        domains.update(platform.get("tlds", ()))
        hosts.update(platform.get("hosts", ()))
    return (
        f"// ClauseWarden policy {bundle['version']}: social media hosts through the proxy,\n"
        "// everything else DIRECT (never seen by the proxy).\n"
        f"var D = {json.dumps({d: 1 for d in sorted(domains)}, separators=(',', ':'))};\n"
        f"var H = {json.dumps({h: 1 for h in sorted(hosts)}, separators=(',', ':'))};\n"
        "function FindProxyForURL(url, host) {\n"
        "  host = host.toLowerCase();\n"
        f"  if (H.hasOwnProperty(host)) return {json.dumps(target)};\n"
        "  var h = host;\n"
        "  while (true) {\n"
        f"    if (D.hasOwnProperty(h)) return {json.dumps(target)};\n"
        '    var i = h.indexOf(".");\n'
        "    if (i < 0) break;\n"
        "    h = h.substring(i + 1);\n"
        "  }\n"
        '  return "DIRECT";\n'
        "}\n"
    )
