"""Optional header injection (all off by default): which headers go on which hosts.

Each header only on the hosts where the service honours it, replacing any value the client sent.
Pure: the proxy injects them (proxy_addon.headers), and the PAC file sends these hosts to it.
"""

from collections.abc import Mapping
from typing import Any

GOOGLE_HOSTS = (
    "www.google.com",
    "google.com",
    "accounts.google.com",
    "mail.google.com",
    "drive.google.com",
    "docs.google.com",
    "calendar.google.com",
    "meet.google.com",
    "chat.google.com",
    "sites.google.com",
    "script.google.com",
    "classroom.google.com",
    "myaccount.google.com",
)
MICROSOFT_LOGIN_HOSTS = ("login.microsoftonline.com", "login.microsoft.com", "login.windows.net")
MICROSOFT_CONSUMER_HOST = "login.live.com"
YOUTUBE_HOSTS = (
    "www.youtube.com",
    "m.youtube.com",
    "youtube.com",
    "youtubei.googleapis.com",
    "youtube.googleapis.com",
    "www.youtube-nocookie.com",
)

Injections = dict[str, tuple[tuple[str, str], ...]]


def injections(settings: Mapping[str, Any]) -> Injections:
    """host -> ((header, value), ...) from the bundle's `settings.header_injection`."""
    config = settings.get("header_injection") or {}
    table: dict[str, list[tuple[str, str]]] = {}

    def add(hosts: tuple[str, ...], name: str, value: str) -> None:
        for host in hosts:
            table.setdefault(host, []).append((name, value))

    domains = config.get("google_allowed_domains") or []
    if domains:
        add(GOOGLE_HOSTS, "X-GoogApps-Allowed-Domains", ",".join(domains))
    v1 = config.get("microsoft_tenant_restrictions_v1")
    if v1:
        add(MICROSOFT_LOGIN_HOSTS, "Restrict-Access-To-Tenants", ",".join(v1["tenants"]))
        add(MICROSOFT_LOGIN_HOSTS, "Restrict-Access-Context", v1["context"])
    v2 = config.get("microsoft_tenant_restrictions_v2")
    if v2:
        add(
            (*MICROSOFT_LOGIN_HOSTS, MICROSOFT_CONSUMER_HOST),
            "sec-Restrict-Tenant-Access-Policy",
            f"{v2['tenant']}:{v2['policy']}",
        )
    if config.get("microsoft_restrict_msa"):
        # restrict-msa on the consumer login host replaces a v2 value there.
        table[MICROSOFT_CONSUMER_HOST] = [
            (n, v)
            for n, v in table.get(MICROSOFT_CONSUMER_HOST, [])
            if n != "sec-Restrict-Tenant-Access-Policy"
        ] + [("sec-Restrict-Tenant-Access-Policy", "restrict-msa")]
    mode = config.get("youtube_restrict")
    if mode:
        add(YOUTUBE_HOSTS, "YouTube-Restrict", mode)
    return {host: tuple(pairs) for host, pairs in table.items()}
