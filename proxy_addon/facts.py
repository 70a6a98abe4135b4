"""Facts off a mitmproxy flow, read cheaply: only the headers the policy uses, the body only
where the platform's catalogue entry has a body endpoint for the method, bounded."""

from datetime import datetime

from mitmproxy import http

from policy.engine import PlatformSpec
from policy.facts import Facts

HEADERS = ("sec-fetch-mode", "sec-fetch-dest", "sec-fetch-site", "accept", "content-type")


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
        raw = request.raw_content or b""
        if "content-encoding" in request.headers:
            raw = request.get_content(strict=False) or b""
        body = raw[:peek]
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
