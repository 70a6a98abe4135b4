"""Ships the outbox to `POST /api/v1/events` in batches: retry with exponential backoff and full
jitter; each event has a unique id, so a batch resent after a timeout is stored once.

Every batch, and a status-only post when the outbox changes (on draining) or at least every
`heartbeat` seconds, carries the outbox's status and this proxy's clock (`sent_at`), so the
service sees the backlog and any clock skew. Events the service defers (their time is more than
a day ahead of its clock: this proxy's clock is ahead) are kept and sent again every
`deferred_retry` seconds; only events it refuses for good are set aside, and counted. An answer's
status is checked before its body is read as JSON (a proxy or load balancer in between answers
HTML), and a 503's Retry-After is honoured.

Woken by a new event, it waits `batch_window` seconds before shipping, so a busy proxy sends one
batch a moment rather than one POST per page (the events are already safe in the outbox)."""

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from proxy_addon.outbox import DEFERRED, REJECTED, SHIPPED, Outbox

log = logging.getLogger("clausewarden.shipper")


class Shipper:
    """A background asyncio task; `wake()` after an event is written to ship it promptly.

    When idle it still posts the outbox status (`events: []`) when it changes, and at least
    every `heartbeat` seconds, so the service sees the sensor alive and its outbox as it is.
    """

    def __init__(
        self,
        outbox: Outbox,
        service_url: str,
        token: str,
        *,
        batch_size: int = 500,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        idle_delay: float = 5.0,
        on_rejected: Callable[[int], None] | None = None,
        heartbeat: float = 60.0,
        clock: Callable[[], datetime] | None = None,
        deferred_retry: float = 600.0,
        batch_window: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.url = service_url.rstrip("/") + "/api/v1/events"
        self.token = token
        self.batch_size = batch_size
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.idle_delay = idle_delay
        self.on_rejected = on_rejected
        self.shipped = 0
        self.failures = 0
        self._last_status: dict[str, object] | None = None
        self._last_post = 0.0
        self.heartbeat = heartbeat
        self.clock = clock or (lambda: datetime.now(UTC))
        self.deferred_retry = deferred_retry
        self.batch_window = batch_window
        self._last_deferred_retry = float("-inf")  # at start: deferred ones are tried again
        self.deferred = 0
        self._skew_said = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="clausewarden-ship")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        attempt = 0
        timeout = aiohttp.ClientTimeout(total=30)
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            while True:
                try:
                    more = await self.ship_once(session)
                    attempt = 0
                    if more:
                        continue
                    delay = self.idle_delay
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a failed attempt is retried; never kill the task
                    self.failures += 1
                    attempt += 1
                    cap = min(self.max_delay, self.base_delay * 2**attempt)
                    delay = random.uniform(self.base_delay, cap)  # noqa: S311 (jitter)
                    if isinstance(exc, RetryLater):
                        delay = min(self.max_delay, max(delay, exc.seconds))
                    log.warning("shipping events failed (%s); retrying in %.1fs", exc, delay)
                    await asyncio.sleep(delay)  # new events do not cut a backoff short
                    continue
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    continue
                await asyncio.sleep(self.batch_window)  # let the moment's other events join

    def _sent(self, status: dict[str, Any]) -> dict[str, Any]:
        return {**status, "sent_at": self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}

    async def ship_once(self, session: aiohttp.ClientSession) -> bool:
        """Send one batch; True if more may be waiting. Raises on a failure worth retrying."""
        if time.monotonic() - self._last_deferred_retry > self.deferred_retry:
            self._last_deferred_retry = time.monotonic()
            if await asyncio.to_thread(self.outbox.retry_deferred):
                self._skew_said = False
        batch = await asyncio.to_thread(self.outbox.pending, self.batch_size)
        status = await asyncio.to_thread(self.outbox.status)
        if not batch:
            if status != self._last_status or time.monotonic() - self._last_post > self.heartbeat:
                # Nothing to send, but the service should see the outbox as it is now.
                payload = {"events": [], "sensor_status": self._sent(status)}
                async with session.post(self.url, json=payload) as r:
                    if r.status not in (200, 201, 202):
                        raise await failure(r, self.url)
                self._last_status, self._last_post = status, time.monotonic()
            return False
        payload = {"events": [e for _, e in batch], "sensor_status": self._sent(status)}
        async with session.post(self.url, json=payload) as response:
            if response.status in (200, 201, 202):
                body = await json_body(response)
                self._last_status, self._last_post = status, time.monotonic()
                later = self._deferred(batch, body)
                shipped = [s for s, _ in batch if s not in later]
                await asyncio.to_thread(self.outbox.mark, shipped, SHIPPED)
                if later:
                    await asyncio.to_thread(self.outbox.mark, sorted(later), DEFERRED)
                self.shipped += len(shipped)
                return len(batch) == self.batch_size
            if response.status == 413 and self.batch_size > 1:
                self.batch_size = max(1, self.batch_size // 2)
                return True
            if response.status == 400:
                body = await json_body(response)
                if isinstance(body, dict) and body.get("problems"):
                    # Nothing of the batch was stored: set aside the events named, resend the rest.
                    bad = {p.get("index") for p in body["problems"] if isinstance(p, dict)}
                    seqs = [batch[i][0] for i in bad if isinstance(i, int) and 0 <= i < len(batch)]
                    if seqs:
                        log.error(
                            "the service refused %d events for good: %s",
                            len(seqs),
                            body.get("error"),
                        )
                        await asyncio.to_thread(self.outbox.mark, seqs, REJECTED)
                        if self.on_rejected:
                            self.on_rejected(len(seqs))
                        return True
            raise await failure(response, self.url)

    def _deferred(self, batch: list[tuple[int, dict[str, Any]]], body: Any) -> set[int]:
        """The outbox seqs of the events the service deferred (this proxy's clock is ahead)."""
        named = body.get("deferred") if isinstance(body, dict) else None
        if not isinstance(named, list):
            return set()
        seqs = {batch[i][0] for i in named if isinstance(i, int) and 0 <= i < len(batch)}
        self.deferred += len(seqs)
        if seqs and not self._skew_said:
            self._skew_said = True
            ahead = body.get("clock_ahead_seconds")
            hours = f"about {ahead / 3600:.1f} hours" if isinstance(ahead, int) else "over a day"
            log.warning(
                "this proxy's clock is %s ahead of the service's (%s): %d events are kept and "
                "sent again every %.0f s until the clocks agree; set this machine's clock (NTP)",
                hours,
                body.get("service_time", "?"),
                len(seqs),
                self.deferred_retry,
            )
        return seqs


class RetryLater(RuntimeError):
    """The service asked to be tried again later (503 with Retry-After)."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


async def json_body(response: aiohttp.ClientResponse) -> Any:
    """The answer's JSON, or None when it is not JSON (read only after its status is known)."""
    if "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


async def failure(response: aiohttp.ClientResponse, url: str) -> RuntimeError:
    """The error for an answer that is not a success: its status, and the service's own
    message when it sent JSON (never a page of HTML from something in between)."""
    body = await json_body(response)
    said = body.get("error") if isinstance(body, dict) else None
    message = f"POST {url} answered {response.status}" + (f": {said}" if said else "")
    if response.status in (429, 503):
        try:
            seconds = float(response.headers.get("Retry-After", ""))
        except ValueError:
            seconds = 0.0
        return RetryLater(message, seconds)
    return RuntimeError(message)
