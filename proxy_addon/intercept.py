"""Which connections mitmproxy may decrypt: mitmproxy's `allow_hosts`, generated from the bundle.

One regular expression (mitmproxy matches each pattern against `host:port`): the catalogue's
domains with their subdomains, its exact hosts and top-level domains, and the header-injection
hosts, and the proxy's own pages host. Every other TLS connection is an opaque tunnel, decided
before its ClientHello is parsed.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from policy.pages_host import PAGES_HOST


def allow_hosts_pattern(bundle: Mapping[str, Any], extra_hosts: Iterable[str] = ()) -> str:
    domains: set[str] = set()
    exact: set[str] = {*extra_hosts, PAGES_HOST}
    for platform in bundle["platforms"]:
        domains.update(platform["domains"])
        domains.update(platform.get("tlds", ()))
        exact.update(platform.get("hosts", ()))
    # Longest first, so that the alternation never stops at a shorter prefix.
    suffix = "|".join(re.escape(d) for d in sorted(domains, key=lambda d: (-len(d), d)))
    hosts = "|".join(re.escape(h) for h in sorted(exact, key=lambda h: (-len(h), h)))
    parts = [f"(?:[^:]*\\.)?(?:{suffix})"] if suffix else []
    if hosts:
        parts.append(f"(?:{hosts})")
    # Google Translate's proxy hosts of the same names (www-facebook-com.translate.goog serves
    # www.facebook.com: "." is written "-" and "-" is written "--"), and of nothing else.
    translated = "|".join(
        re.escape(_translate_label(d)) for d in sorted(domains, key=lambda d: (-len(d), d))
    )
    exact_translated = "|".join(
        re.escape(_translate_label(h)) for h in sorted(exact, key=lambda h: (-len(h), h))
    )
    if translated:
        parts.append(f"(?:(?:[a-z0-9_]|--)+-)*(?:{translated})\\.translate\\.goog")
    if exact_translated:
        parts.append(f"(?:{exact_translated})\\.translate\\.goog")
    if not parts:
        return r"^$"  # nothing to decrypt
    return f"^(?:{'|'.join(parts)})\\.?:\\d+$"


def _translate_label(host: str) -> str:
    """The label Google Translate's proxy gives `host` (policy.hosts.untranslated undoes it)."""
    return host.replace("-", "--").replace(".", "-")
