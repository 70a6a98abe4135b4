"""Error pages a person can read: a refusal the service answers in plain text (a 404, a 403 that
says which role is needed, a 400 saying what was wrong) reaches a browser as an HTML page with
the same status, a title, the language, the message, and where to go next (WCAG 2.2 AA: a page
without a title or a language is not one). Scripts and sensors (no text/html in Accept, or
/api/) get the plain text as before."""

import logging
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

log = logging.getLogger("clausewarden.service")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TITLES = {
    400: "This could not be done",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    413: "Too large",
}
DEFAULT_MESSAGES = {
    403: "Your role does not allow this.",
    404: "There is no page at this address. Check the address, or use the links above.",
}
_KEPT_HEADERS = ("Allow", "Retry-After", "Cache-Control")


def _wants_html(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "") and not request.path.startswith("/api/")


@web.middleware
async def error_page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type != "text/plain" or not _wants_html(request):
            raise
        text = exc.text or ""
        if text == f"{exc.status}: {exc.reason}":  # aiohttp's own bare line
            text = DEFAULT_MESSAGES.get(exc.status, "")
        try:
            response = aiohttp_jinja2.render_template(
                "error.html",
                request,
                {
                    "status": exc.status,
                    "title": TITLES.get(exc.status, exc.reason),
                    "message": text,
                },
                status=exc.status,
            )
        except Exception:  # the page itself failed (say the store is down): the plain text
            log.exception("the error page for %s could not be rendered", exc.status)
            raise exc from None
        for name in _KEPT_HEADERS:
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
