"""The client side of docs/sensor-api.md: the policy bundle (ETag, last-known-good copy on disk),
the account requests and the investigations' device checks, over aiohttp so that no hook ever
waits on the network. Event shipping lives in shipper.py.

The bundle's privacy object carries the level only; a copy saved by an older version that still
holds the service's salt or key is cut down to the level when it is read, and the file rewritten.
"""

import ipaddress
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from policy.privacy import without_secrets
from proxy_addon.paths import BUNDLE_FILE
from proxy_addon.secrets import write_private
from proxy_addon.service_clock import measured_offset

TIMEOUT = aiohttp.ClientTimeout(total=5.0)


class ServiceError(Exception):
    """The service could not be reached or refused; the message says which."""


ALLOW_PLAIN_HTTP_OPTION = "clausewarden_allow_plain_http"


def is_loopback_host(host: str) -> bool:
    """localhost, *.localhost, 127.0.0.0/8 or ::1: a name that never leaves this machine."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_refusal(service_url: str, allowed: bool = False) -> str | None:
    """The one line refusing to send the sensor token over plain http to another machine (anyone
    on the network could read it and send events or read the bundle as this sensor), or None:
    https, loopback, or the school said so explicitly (`allowed`)."""
    parts = urlsplit(service_url.strip())
    if parts.scheme.lower() != "http" or allowed:
        return None
    if is_loopback_host(parts.hostname or ""):
        return None
    return (
        f"clausewarden_service: {service_url!r} is plain http to another machine, so the sensor "
        "token would cross the network readable by anyone on it; use the service's https:// "
        f"URL (docs/deploy.md), or set {ALLOW_PLAIN_HTTP_OPTION}=true to send it anyway"
    )


class BundleFetcher:
    """Fetches `GET /api/v1/bundle`; keeps the last good bundle in `data_dir/bundle.json` (0600)."""

    def __init__(self, service_url: str, token: str, data_dir: Path) -> None:
        self.url = service_url.rstrip("/") + "/api/v1/bundle"
        self.token = token
        self.path = data_dir / BUNDLE_FILE
        self.etag: str | None = None
        self.clock_offset: float | None = None  # the service's clock minus ours, at the last fetch
        self._lock = threading.Lock()  # saves run in threads

    def _read(self) -> tuple[str | None, dict[str, Any] | None] | None:
        """(etag, bundle) as saved, or None when there is no readable copy."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        bundle = data.get("bundle")
        return data.get("etag"), bundle if isinstance(bundle, dict) else None

    def _write(self, etag: str | None, bundle: dict[str, Any]) -> None:
        payload = json.dumps({"etag": etag, "bundle": bundle}, ensure_ascii=False)
        write_private(self.path, payload.encode())

    def last_known_good(self) -> dict[str, Any] | None:
        """The saved bundle (startup); a salt or key an older version saved in it is deleted."""
        with self._lock:
            saved = self._read()
            if saved is None:
                return None
            self.etag, bundle = saved
            if bundle is not None:
                clean = without_secrets(bundle)
                if clean != bundle:
                    self._write(self.etag, clean)
                bundle = clean
        return bundle

    def save(self, bundle: dict[str, Any]) -> None:
        with self._lock:
            self._write(self.etag, without_secrets(bundle))

    async def fetch(self) -> dict[str, Any] | None:
        """The new bundle, or None when the service says it has not changed (304)."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        try:
            sent = datetime.now(UTC)
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as session,
                session.get(self.url, headers=headers) as response,
            ):
                self.clock_offset = measured_offset(
                    response.headers.get("Date"), sent, datetime.now(UTC)
                )
                if response.status == 304:
                    return None
                if response.status >= 300:
                    raise ServiceError(f"GET {self.url} answered {response.status}")
                body = await response.read()
                etag = response.headers.get("ETag")
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            raise ServiceError(f"GET {self.url} failed: {exc}") from exc
        try:
            bundle = json.loads(body)
        except ValueError as exc:
            raise ServiceError(f"GET {self.url} sent something that is not JSON") from exc
        if not isinstance(bundle, dict):
            raise ServiceError(f"GET {self.url} sent JSON that is not a bundle")
        self.etag = etag
        return without_secrets(bundle)


async def post_account_request(
    service_url: str,
    token: str,
    platform: str,
    account_id: str,
    label: str,
    kind: str | None = None,
) -> None:
    """`POST /api/v1/account-requests`: staff ask, on purpose, for an account to be approved
    (`kind`: account, profile or page, as the platform's cookies said)."""
    url = service_url.rstrip("/") + "/api/v1/account-requests"
    headers = {"Authorization": f"Bearer {token}"}
    payload = {"platform": platform, "account_id": account_id, "label": label}
    if kind is not None:
        payload["kind"] = kind
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(url, json=payload, headers=headers) as response,
        ):
            await response.read()
            status = response.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ServiceError(f"POST {url} failed: {exc}") from exc
    if status >= 400:
        raise ServiceError(f"POST {url} answered {status}")


async def fetch_checks(service_url: str, token: str) -> list[dict[str, Any]]:
    """`GET /api/v1/investigation-checks`: the countersigned device tests this sensor has not
    answered yet (investigation, device address, who opened, who countersigned)."""
    url = service_url.rstrip("/") + "/api/v1/investigation-checks"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.get(url, headers=headers) as response,
        ):
            if response.status == 404:  # a service older than device checks
                return []
            if response.status != 200:
                raise ServiceError(f"GET {url} answered {response.status}")
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
        raise ServiceError(f"GET {url} failed: {exc}") from exc
    checks = body.get("checks") if isinstance(body, dict) else None
    if not isinstance(checks, list):
        raise ServiceError(f"GET {url} sent JSON that is not a list of checks")
    return [c for c in checks if isinstance(c, dict)]


async def answer_check(service_url: str, token: str, check_id: int, device: str) -> None:
    """`POST /api/v1/investigation-checks/{id}`: this sensor's pseudonym of the checked device."""
    url = service_url.rstrip("/") + f"/api/v1/investigation-checks/{check_id}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(url, json={"device": device}, headers=headers) as response,
        ):
            await response.read()
            status = response.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ServiceError(f"POST {url} failed: {exc}") from exc
    if status not in (200, 202, 409):  # 409: answered already
        raise ServiceError(f"POST {url} answered {status}")


class ReportRefused(ServiceError):
    """The service refused the report (400/413/429): what the member of staff should change."""


async def post_staff_report(service_url: str, token: str, report: dict[str, Any]) -> str:
    """`POST /api/v1/staff-reports`: a report a member of staff wrote for the headteacher; the
    service's reference for it. Never stored on the proxy: if the service cannot be reached, the
    caller says so and the member of staff still has their text in the form."""
    url = service_url.rstrip("/") + "/api/v1/staff-reports"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(url, json=report, headers=headers) as response,
        ):
            status = response.status
            body = await response.read()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ServiceError(f"POST {url} failed: {type(exc).__name__}") from None
    if status in (400, 413, 429):
        raise ReportRefused(f"POST {url} answered {status}")
    if status != 201:
        raise ServiceError(f"POST {url} answered {status}")
    try:
        reference = json.loads(body).get("reference")
    except (ValueError, AttributeError):
        reference = None
    if not isinstance(reference, str) or not reference:
        raise ServiceError(f"POST {url} answered without a reference")
    return reference
