"""The proxy auto-config (PAC) file, generated from the bundle: the catalogue's hosts (and the
header-injection hosts, and the proxy's own pages host) go to the proxy, everything else DIRECT.

Pure: the service serves it at /proxy.pac (and /wpad.dat), the proxy at the same paths, and
`clausewarden pac` writes it; all three from the same bundle, so it follows the policy.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from policy.headers import injections
from policy.pages_host import PAGES_HOST

CONTENT_TYPE = "application/x-ns-proxy-autoconfig"

_BODY = """\
function FindProxyForURL(url, host) {
  host = host.toLowerCase();
  while (host.length > 0 && host.charAt(host.length - 1) === ".") {
    host = host.substring(0, host.length - 1);
  }
  // Google Translate's proxy: www-facebook-com.translate.goog serves www.facebook.com.
  var t = ".translate.goog";
  if (host.length > t.length && host.substring(host.length - t.length) === t) {
    var label = host.substring(0, host.length - t.length);
    if (label.indexOf(".") < 0) {
      // "--" stands for "-" and "-" for "."; split on "--" first so no placeholder is needed.
      var parts = label.split("--");
      for (var j = 0; j < parts.length; j++) parts[j] = parts[j].split("-").join(".");
      host = parts.join("-");
    }
  }
  if (H.hasOwnProperty(host)) return P;
  var h = host;
  while (true) {
    if (D.hasOwnProperty(h)) return P;
    var i = h.indexOf(".");
    if (i < 0) break;
    h = h.substring(i + 1);
  }
  return "DIRECT";
}
"""

_ALL = """\
function FindProxyForURL(url, host) {
  host = host.toLowerCase();
  if (isPlainHostName(host) || host === "localhost" || host === "127.0.0.1" || host === "[::1]")
    return "DIRECT";
  return P;
}
"""


def pac_hosts(bundle: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(domains matched with their subdomains, exact hosts) that the PAC sends to the proxy."""
    domains: set[str] = set()
    hosts: set[str] = {PAGES_HOST, *injections(bundle.get("settings") or {})}
    for platform in bundle["platforms"]:
        domains.update(platform["domains"])
        domains.update(platform.get("tlds", ()))
        hosts.update(platform.get("hosts", ()))
    return sorted(domains), sorted(hosts - domains)


def pac_text(
    bundle: Mapping[str, Any],
    proxy: str,
    *,
    all_traffic: bool = False,
    extra_hosts: Iterable[str] = (),
    note: str = "",
) -> str:
    """A PAC file sending to `proxy` (`host:port`) the catalogue's hosts; with `all_traffic`,
    every web request but the device's own. `note`: a comment line (where the address came from)."""
    head = f"// ClauseWarden policy {bundle['version']}: "
    head += (
        "all web traffic through the proxy.\n"
        if all_traffic
        else "the social media hosts of the catalogue through the proxy,\n"
        "// everything else DIRECT (never seen by the proxy). Generated from the policy bundle.\n"
    )
    if note:
        head += f"// {note}\n"
    target = f"var P = {json.dumps(f'PROXY {proxy}')};\n"
    if all_traffic:
        return head + target + _ALL
    domains, hosts = pac_hosts(bundle)
    hosts = sorted({*hosts, *extra_hosts} - set(domains))
    return (
        head
        + target
        + f"var D = {json.dumps(dict.fromkeys(domains, 1), separators=(',', ':'))};\n"
        + f"var H = {json.dumps(dict.fromkeys(hosts, 1), separators=(',', ':'))};\n"
        + _BODY
    )
