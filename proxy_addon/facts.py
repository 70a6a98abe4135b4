"""Facts off a mitmproxy flow, read cheaply: only the headers the policy uses, the body only
where the platform's catalogue entry has a body endpoint for the method, bounded.

The body look decodes at most the bytes it looks at: a compressed body is decompressed
incrementally and stops at the peek, so a small "decompression bomb" (a 400 kB gzip body that
expands to gigabytes) costs no more memory than the peek. An encoding it cannot decode in bounded
steps (a chain of several, or an unknown one) is not looked into at all.
"""

import zlib
from datetime import datetime

import brotli  # type: ignore[import-untyped]
from mitmproxy import http

from policy.engine import PlatformSpec
from policy.facts import Facts

HEADERS = (
    "sec-fetch-mode",
    "sec-fetch-dest",
    "sec-fetch-site",
    "sec-purpose",
    "accept",
    "content-type",
)


def facts_from_flow(
    flow: http.HTTPFlow,
    platform: PlatformSpec,
    at: datetime,
    client: str,
    peek: int,
    *,
    path: str | None = None,
    method: str | None = None,
    navigation: bool = False,
) -> Facts:
    """The Facts of `flow` (or of `path`/`method` on its host, as a navigation, for re-deciding)."""
    request = flow.request
    if navigation:
        headers = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    else:
        headers = {}
        for name in HEADERS:
            value = request.headers.get(name)
            if value is not None:
                headers[name] = value
    cookies: dict[str, str] = {}
    if platform.account_cookies and "cookie" in request.headers:
        for name, value in request.cookies.items(multi=True):
            cookies.setdefault(name, value)
    method = method or request.method
    full = path if path is not None else request.path
    p, _, query = full.partition("?")
    body = None
    if path is None and method in platform.body_methods and peek > 0:
        body = peek_body(request.raw_content or b"", request.headers.get("content-encoding"), peek)
    return Facts(
        host=request.host,
        path=p or "/",
        query=query,
        method=method,
        headers=headers,
        cookies=cookies,
        body=body,
        at=at,
        client=client,
    )


def peek_body(raw: bytes, encoding: str | None, peek: int) -> bytes | None:
    """The first `peek` bytes of the decoded body, decoding no more than that; None if the
    encoding cannot be decoded in bounded steps or the body is not what it says."""
    coding = (encoding or "identity").strip().lower()
    try:
        if coding in ("", "identity", "none"):
            return raw[:peek]
        if coding in ("gzip", "x-gzip"):
            return _zlib(raw, 32 + zlib.MAX_WBITS, peek)  # gzip or zlib header
        if coding == "deflate":
            try:
                return _zlib(raw, zlib.MAX_WBITS, peek)
            except zlib.error:
                return _zlib(raw, -zlib.MAX_WBITS, peek)  # raw deflate, as some clients send
        if coding == "br":
            return _brotli(raw, peek)
        if coding == "zstd":
            return _zstd(raw, peek)
    except (zlib.error, brotli.error, ValueError, EOFError):
        return None
    return None  # several encodings, or one we do not know: not looked into


def _zlib(raw: bytes, wbits: int, peek: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    return decoder.decompress(raw, peek)  # max_length: never more than `peek` bytes out


def _brotli(raw: bytes, peek: int) -> bytes:
    decoder = brotli.Decompressor()
    return bytes(decoder.process(raw, output_buffer_limit=peek)[:peek])


def _zstd(raw: bytes, peek: int) -> bytes:
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef,unused-ignore]
    return bytes(zstd.ZstdDecompressor().decompress(raw, max_length=peek))
