"""Facts off a mitmproxy flow, read cheaply: only the headers the policy uses, the body only
where the platform's catalogue entry has a body endpoint for the method (or a method the request
asks to be taken as), bounded.

The body look decodes at most the bytes it looks at: a compressed body is decompressed
incrementally and stops just past the peek, so a small "decompression bomb" (a 400 kB gzip body
that expands to gigabytes) costs no more memory than the peek. A chain of encodings (`gzip,
identity`, `gzip, gzip`) is undone step by step, each step bounded the same way. What cannot be
read whole (more than the peek once decoded, an unknown encoding, a body that is not what it says)
is marked cut, and the policy holds an act endpoint's cut body as the act it may be.
"""

import zlib
from datetime import datetime

import brotli  # type: ignore[import-untyped]
from mitmproxy import http

from policy import canonical
from policy.engine import PlatformSpec
from policy.facts import Facts

HEADERS = (
    "sec-fetch-mode",
    "sec-fetch-dest",
    "sec-fetch-site",
    "sec-purpose",
    "accept",
    "content-type",
    *canonical.OVERRIDE_HEADERS,
)
MAX_ENCODINGS = 4
"""Longer chains of content-codings are not undone (the body counts as cut)."""


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
    cut = False
    if path is None and peek > 0:
        asked = canonical.methods(method, headers, query)
        if asked & platform.body_methods and request.raw_content is None:
            body, cut = b"", True  # decided on its headers (too long to hold): never read
        elif asked & platform.body_methods:
            body, cut = peek_body(
                request.raw_content, request.headers.get("content-encoding"), peek
            )
    return Facts(
        host=request.host,
        path=p or "/",
        query=query,
        method=method,
        headers=headers,
        cookies=cookies,
        body=body,
        body_cut=cut,
        at=at,
        client=client,
    )


def peek_body(raw: bytes, encoding: str | None, peek: int) -> tuple[bytes, bool]:
    """The first `peek` bytes of the decoded body, decoding little more than that, and whether
    the body was cut: longer than `peek` once decoded, or not decodable here (then b"")."""
    codings = [c.strip().lower() for c in (encoding or "").split(",")]
    codings = [c for c in codings if c not in ("", "identity", "none")]
    if len(codings) > MAX_ENCODINGS:
        return b"", True
    data, cut = raw, False
    try:
        for coding in reversed(codings):  # the last coding applied is undone first
            data, more = _decode(coding, data, peek + 1)
            cut = cut or more
    except (zlib.error, brotli.error, ValueError, EOFError, LookupError):
        return b"", True
    return data[:peek], cut or len(data) > peek


def _decode(coding: str, data: bytes, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of `data` decoded, and whether anything was left undecoded."""
    if coding in ("gzip", "x-gzip"):
        return _zlib(data, 32 + zlib.MAX_WBITS, limit)  # gzip or zlib header
    if coding == "deflate":
        try:
            return _zlib(data, zlib.MAX_WBITS, limit)
        except zlib.error:
            return _zlib(data, -zlib.MAX_WBITS, limit)  # raw deflate, as some clients send
    if coding == "br":
        return _brotli(data, limit)
    if coding == "zstd":
        return _zstd(data, limit)
    raise LookupError(f"unknown content-coding {coding!r}")


def _zlib(raw: bytes, wbits: int, limit: int) -> tuple[bytes, bool]:
    decoder = zlib.decompressobj(wbits)
    out = decoder.decompress(raw, limit)  # max_length: never more than `limit` bytes out
    # Left over: output past the limit, or a second gzip member (which a site may well read).
    return out, bool(decoder.unconsumed_tail or decoder.unused_data) or not decoder.eof


def _brotli(raw: bytes, limit: int) -> tuple[bytes, bool]:
    decoder = brotli.Decompressor()
    out = bytes(decoder.process(raw, output_buffer_limit=limit))
    return out[:limit], len(out) >= limit or not decoder.is_finished()


def _zstd(raw: bytes, limit: int) -> tuple[bytes, bool]:
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef,unused-ignore]
    decoder = zstd.ZstdDecompressor()
    out = bytes(decoder.decompress(raw, max_length=limit))
    return out, not decoder.eof or bool(decoder.unused_data) or len(out) >= limit
