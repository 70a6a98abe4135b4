"""The captive-portal notice for devices the proxy does not decrypt (staff's own devices,
visitors: clauses 3.2, 4.2 and 7), and what each system's connectivity check expects once it is
accepted. Pure: the proxy (proxy_addon/captive.py) serves them.

A phone or laptop joining Wi-Fi asks a fixed plain-http address ("probe") and compares the answer
with the one it expects; any other answer means "a captive portal is here", and the system opens
the answer in its portal window. The guest Wi-Fi sends port 80 to the proxy (its transparent mode),
so a device's first probe of the day gets the notice with a button to accept; after it, the
probes get the answers each system expects. A network that hands out the captive-portal API's
address (DHCP option 114, RFC 8910) gets the same through the API (RFC 8908, `api_state`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CLAUSES = ("3.2", "4.2", "7")
"""The clauses the notice quotes: third parties (3.2), equipment belonging to staff (4.2), and
personal use by means of the school's networks (7)."""

API_PATH = "/captive-portal/api"
PORTAL_PATH = "/captive-portal/"
ACCEPT_PATH = "/.clausewarden/captive/accept"
DONE_PATH = "/.clausewarden/captive/done"
API_CONTENT_TYPE = "application/captive+json"


@dataclass(frozen=True, slots=True)
class Probe:
    """One system's connectivity check, and the answer it expects when nothing is in the way."""

    system: str
    status: int
    content_type: str
    body: bytes


_APPLE = Probe(
    "iOS and macOS",
    200,
    "text/html",
    b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>",
)
_ANDROID = Probe("Android and ChromeOS", 204, "", b"")
_WINDOWS = Probe("Windows", 200, "text/plain", b"Microsoft Connect Test")
_WINDOWS_OLD = Probe("Windows (older)", 200, "text/plain", b"Microsoft NCSI")

PROBES: Mapping[tuple[str, str], Probe] = {
    ("connectivitycheck.gstatic.com", "/generate_204"): _ANDROID,
    ("connectivitycheck.android.com", "/generate_204"): _ANDROID,
    ("clients3.google.com", "/generate_204"): _ANDROID,
    ("clients1.google.com", "/generate_204"): _ANDROID,
    ("www.google.com", "/gen_204"): _ANDROID,
    ("captive.apple.com", "/hotspot-detect.html"): _APPLE,
    ("captive.apple.com", "/"): _APPLE,
    ("www.apple.com", "/library/test/success.html"): _APPLE,
    ("www.msftconnecttest.com", "/connecttest.txt"): _WINDOWS,
    ("ipv6.msftconnecttest.com", "/connecttest.txt"): _WINDOWS,
    ("www.msftncsi.com", "/ncsi.txt"): _WINDOWS_OLD,
    ("detectportal.firefox.com", "/success.txt"): Probe("Firefox", 200, "text/plain", b"success\n"),
    ("nmcheck.gnome.org", "/check_network_status.txt"): Probe(
        "Linux (NetworkManager)", 200, "text/plain", b"NetworkManager is online\n"
    ),
}
"""The probes of the common systems, by (host, path), with the answers they expect."""

PORTAL_HOSTS = frozenset({"www.msftconnecttest.com"})
"""Hosts whose every page is the portal until accepted (Windows opens
http://www.msftconnecttest.com/redirect in the browser when its probe fails)."""


PROBE_HOSTS = frozenset({host for host, _ in PROBES} | PORTAL_HOSTS)
"""The hosts the proxy must read plain-http requests of in its transparent mode (mitmproxy passes
any other host's connection on unread, by `allow_hosts`: proxy_addon/intercept.py)."""


def probe_for(host: str, path: str) -> Probe | None:
    """The probe a plain-http request is, if any (`path` without its query)."""
    return PROBES.get((host.lower().rstrip("."), path))


def shows_portal(host: str, path: str) -> bool:
    """Whether, before accepting, this plain-http request gets the notice."""
    host = host.lower().rstrip(".")
    return probe_for(host, path) is not None or host in PORTAL_HOSTS


def notice_content(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """What the notice shows: the school, and the text of the clauses it quotes from the
    school's own policy (a clause its policy lacks is left out)."""
    clauses = {c["id"]: c for c in bundle["clauses"]}
    return {
        "school": bundle["school"]["name"],
        "clauses": [
            {
                "id": c["id"],
                "heading": c.get("heading"),
                "text": c.get("text") or "",
                "continuation": c.get("continuation"),
            }
            for c in (clauses.get(i) for i in CLAUSES)
            if c is not None
        ],
    }


def api_state(accepted: bool, portal_url: str, venue_url: str | None = None) -> dict[str, Any]:
    """The captive-portal API's answer (RFC 8908 section 5): captive until the notice is accepted,
    with the page to accept it on."""
    state: dict[str, Any] = {"captive": not accepted, "user-portal-url": portal_url}
    if venue_url:
        state["venue-info-url"] = venue_url
    return state
