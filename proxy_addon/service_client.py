"""The client side of docs/sensor-api.md: the policy bundle (ETag, last-known-good copy on disk)
and the account requests. Event shipping lives in shipper.py."""

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from proxy_addon.secrets import write_private

TIMEOUT = 5.0


class ServiceError(Exception):
    """The service could not be reached or refused; the message says which."""


class BundleSource:
    """Fetches `GET /api/v1/bundle`; keeps the last good bundle in `data_dir/bundle.json` (0600)."""

    def __init__(self, service_url: str, token: str, data_dir: Path) -> None:
        self.url = service_url.rstrip("/") + "/api/v1/bundle"
        self.token = token
        self.path = data_dir / "bundle.json"
        self.etag: str | None = None

    def last_known_good(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self.etag = data.get("etag")
        bundle = data.get("bundle")
        return bundle if isinstance(bundle, dict) else None

    def save(self, bundle: dict[str, Any]) -> None:
        payload = json.dumps({"etag": self.etag, "bundle": bundle}, ensure_ascii=False)
        write_private(self.path, payload.encode())

    def fetch(self) -> dict[str, Any] | None:
        """The new bundle, or None when the service says it has not changed (304)."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        request = urllib.request.Request(self.url, headers=headers)  # noqa: S310 (http/https URL, checked by configure)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                body = response.read()
                etag = response.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return None
            raise ServiceError(f"GET {self.url} answered {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise ServiceError(f"GET {self.url} failed: {exc}") from exc
        try:
            bundle = json.loads(body)
        except ValueError as exc:
            raise ServiceError(f"GET {self.url} sent something that is not JSON") from exc
        if not isinstance(bundle, dict):
            raise ServiceError(f"GET {self.url} sent JSON that is not a bundle")
        self.etag = etag
        return bundle


def post_account_request(
    service_url: str, token: str, platform: str, account_id: str, label: str
) -> None:
    """`POST /api/v1/account-requests`: staff ask, on purpose, for an account to be approved."""
    url = service_url.rstrip("/") + "/api/v1/account-requests"
    data = json.dumps({"platform": platform, "account_id": account_id, "label": label}).encode()
    request = urllib.request.Request(  # noqa: S310
        url,
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raise ServiceError(f"POST {url} answered {exc.code}") from exc
    except OSError as exc:
        raise ServiceError(f"POST {url} failed: {exc}") from exc
