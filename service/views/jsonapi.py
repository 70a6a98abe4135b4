"""What the JSON API's handlers share: JSON answers, JSON errors, the bearer token."""

from typing import Any

import orjson
from aiohttp import web


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def json_error(status: int, message: str, **extra: Any) -> web.HTTPException:
    exc = web.HTTPException()
    exc.set_status(status)
    exc.content_type = "application/json"
    exc.body = orjson.dumps({"error": message, **extra})
    return exc


def bearer(request: web.Request) -> str:
    """The request's bearer token (401 without one)."""
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise json_error(401, "a bearer token is needed (Authorization: Bearer <token>)")
    return token.strip()
