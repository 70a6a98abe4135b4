"""The pages the proxy serves itself: the warning page, notices, the staff self-view.

One Jinja2 environment, autoescape on: every text (clauses, reasons, labels) is HTML-escaped.
Pages are self-contained (inline CSS, no external resource) so they come up with no network.
"""

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from mitmproxy import http

_ENV = Environment(
    loader=PackageLoader("proxy_addon", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

SECURITY_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def forms_may_lead_to(response: http.Response, origin: str) -> None:
    """Let the page's forms end on `origin` too: the browser holds a form's redirects to the
    page's form-action (a reason on the warning that tells the Headteacher instead goes on to the
    Tell form on the proxy's own host)."""
    policy = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )


def render(template: str, **values: Any) -> str:
    return _ENV.get_template(template).render(**values)


def html_response(status: int, template: str, **values: Any) -> http.Response:
    return http.Response.make(status, render(template, **values), SECURITY_HEADERS)


def notice(status: int, school: str, heading: str, *paragraphs: str, **extra: Any) -> http.Response:
    values: dict[str, Any] = {"go_back": False, "register": None, "rows": None}
    values.update(extra)
    return html_response(
        status, "notice.html", school=school, heading=heading, paragraphs=paragraphs, **values
    )
