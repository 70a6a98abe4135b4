"""Which platform a host belongs to: by registrable domain, never by substring.

tldextract runs on its bundled public suffix snapshot only (`suffix_list_urls=()`), so it never
touches the network. A host is matched by walking its names from the full host down to its
registrable domain (`a.b.facebook.com`, `b.facebook.com`, `facebook.com`): the most specific
catalogue entry wins, and `facebook.com.example.org` or `notfacebook.com` never match.
"""

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tldextract.tldextract

HOST_CACHE_SIZE = 8192
TRANSLATE_PROXY = ".translate.goog"
"""Google Translate's web proxy: `www-facebook-com.translate.goog` serves www.facebook.com."""


@lru_cache(maxsize=1)
def _extractor() -> Callable[[str], "tldextract.tldextract.ExtractResult"]:
    """Made on first use: tldextract's import and trie cost a command that classifies no host
    (`config validate`) about 0.15 s of CPU."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def untranslated(host: str) -> str:
    """The host a Google Translate proxy host stands for (`www-facebook-com.translate.goog` is
    www.facebook.com: "-" was ".", "--" was "-"), else the host itself; normalised either way."""
    host = normalise_host(host)
    if host.endswith(TRANSLATE_PROXY):
        label = host[: -len(TRANSLATE_PROXY)]
        if label and "." not in label:
            return normalise_host(label.replace("--", "\0").replace("-", ".").replace("\0", "-"))
    return host


@lru_cache(maxsize=HOST_CACHE_SIZE)
def _split(host: str) -> tuple[str, str]:
    """(registrable domain, public suffix); ('', '') for IP addresses and unknown suffixes."""
    parts = _extractor()(host)
    return parts.top_domain_under_public_suffix, parts.suffix


def registrable_domain(host: str) -> str:
    return _split(normalise_host(host))[0]


class HostClassifier:
    """Maps host names to platform ids; results are cached in a bounded LRU."""

    def __init__(
        self,
        domains: Iterable[tuple[str, str]],
        hosts: Iterable[tuple[str, str]],
        tlds: Iterable[tuple[str, str]],
    ) -> None:
        self._domains = dict(domains)
        self._hosts = dict(hosts)
        self._tlds = dict(tlds)
        self.platform_for = lru_cache(maxsize=HOST_CACHE_SIZE)(self._classify)

    def _classify(self, host: str) -> str | None:
        host = untranslated(host)
        exact = self._hosts.get(host)
        if exact is not None:
            return exact
        registrable, suffix = _split(host)
        if registrable:
            name = host
            while True:
                found = self._domains.get(name)
                if found is not None:
                    return found
                if len(name) <= len(registrable):
                    break
                name = name.partition(".")[2]
        return self._tlds.get(suffix) if suffix else None
