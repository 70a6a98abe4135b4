"""The service's middlewares (create_app lists them, outermost first): latency per route,
security headers, CSRF on every form, and a store's refusal as a 400."""

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable

import aiohttp_session
from aiohttp import web
from sqlalchemy.exc import DBAPIError

from service.keys import CONFIG, ENGINE, SERVICES
from service.store import StoreError
from service.store_health import PREPARE, STORE_HEALTH, unavailable, write_failure

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@web.middleware
async def timing_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "other"
        request.app[SERVICES].metrics.observe(name, time.perf_counter() - started)


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure_headers(exc)
        raise
    _secure_headers(response)
    return response


def _secure_headers(response: web.StreamResponse) -> None:
    if response.prepared:
        return
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")


async def csrf_token(request: web.Request) -> str:
    session = await aiohttp_session.get_session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every form post must carry the session's CSRF token (the JSON API uses bearer tokens).
    A request no route takes (no such page, or not that method) is answered 404 or 405 first."""
    routed = request.match_info.http_exception is None
    if routed and request.method not in SAFE_METHODS and not request.path.startswith("/api/"):
        session = await aiohttp_session.get_session(request)
        expected = session.get("csrf")
        form = await request.post()
        given = form.get("csrf_token")
        if (
            not isinstance(expected, str)
            or not isinstance(given, str)
            or not hmac.compare_digest(expected.encode(), given.encode())
        ):
            raise web.HTTPForbidden(text="This form has expired or did not come from this site.")
    return await handler(request)


@web.middleware
async def store_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A change the store refuses (a name taken, no such account) is a 400 saying why; the
    transaction it was in has been rolled back. A store that cannot be written (a full disk, a
    read-only file, the database gone) is a 503 with Retry-After, recorded for /healthz, and
    the service starts reconnecting (service.store_health)."""
    try:
        return await handler(request)
    except StoreError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    except (DBAPIError, OSError) as exc:
        reason = write_failure(exc)
        if reason is None:
            raise
        health = request.app[STORE_HEALTH]
        health.failed(reason, request.app[CONFIG].clock())
        health.retry_in_background(
            request.app[ENGINE], request.app[PREPARE], request.app[CONFIG].clock
        )
        raise unavailable(request, reason) from None
