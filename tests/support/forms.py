"""Posting the admin pages' forms as a browser does: read the page for its CSRF token, then post."""

import re
from typing import Any


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def form_post(cli: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    """Post `data` to `action` with the CSRF token read from `page` (redirects not followed)."""
    html = await (await cli.get(page)).text()
    return await cli.post(
        action, data={**data, "csrf_token": csrf_from(html)}, allow_redirects=False
    )
