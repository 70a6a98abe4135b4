"""The admin pages of a real `clausewarden serve`, used as a person does: log in, read a page for
its CSRF token, post its form. For tests that need the headteacher's approval of a school account
listed in accounts.yaml (file entries wait for it, issue 16)."""

import http.cookiejar
import urllib.parse
import urllib.request

from tests.support.forms import csrf_from


class AdminSession:
    """A logged-in session of the admin pages at `base` (http://127.0.0.1:PORT)."""

    def __init__(self, base: str, name: str, password: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        landed = self.post("/login", self.get("/login"), {"name": name, "password": password})
        assert "Log out" in landed, f"{name} could not log in"

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return str(response.read().decode())

    def post(self, path: str, page: str, fields: dict[str, str]) -> str:
        """Post `fields` with the CSRF token of `page` (as the form on it does)."""
        data = urllib.parse.urlencode({**fields, "csrf_token": csrf_from(page)}).encode()
        with self.opener.open(self.base + path, data=data, timeout=10) as response:
            return str(response.read().decode())

    def approve_school_account(self, account: str) -> None:
        """The headteacher approves a waiting school account as asked (clause 10.1)."""
        page = self.get("/accounts")
        assert account in page.split('id="approved"', 1)[0], f"{account} is not waiting"
        self.post(f"/accounts/{account}/approve", page, {})
