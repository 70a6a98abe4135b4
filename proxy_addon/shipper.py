"""Ships the outbox to `POST /api/v1/events` in batches: retry with exponential backoff and full
jitter; each event has a unique id, so a batch resent after a timeout is stored once."""

import asyncio
import logging
import random
import time
from collections.abc import Callable

import aiohttp

from proxy_addon.outbox import REJECTED, SHIPPED, Outbox

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
                    log.warning("shipping events failed (%s); retrying in %.1fs", exc, delay)
                    await asyncio.sleep(delay)  # new events do not cut a backoff short
                    continue
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass

    async def ship_once(self, session: aiohttp.ClientSession) -> bool:
        """Send one batch; True if more may be waiting. Raises on a failure worth retrying."""
        batch = await asyncio.to_thread(self.outbox.pending, self.batch_size)
        status = await asyncio.to_thread(self.outbox.status)
        if not batch:
            if status != self._last_status or time.monotonic() - self._last_post > self.heartbeat:
                # Nothing to send, but the service should see the outbox as it is now.
                async with session.post(
                    self.url, json={"events": [], "sensor_status": status}
                ) as r:
                    if r.status not in (200, 201, 202):
                        raise RuntimeError(f"POST {self.url} answered {r.status}")
                self._last_status, self._last_post = status, time.monotonic()
            return False
        payload = {"events": [e for _, e in batch], "sensor_status": status}
        async with session.post(self.url, json=payload) as response:
            body = await response.json(content_type=None) if response.status != 204 else {}
            if response.status in (200, 201, 202):
                self._last_status, self._last_post = status, time.monotonic()
                await asyncio.to_thread(self.outbox.mark, [s for s, _ in batch], SHIPPED)
                self.shipped += len(batch)
                return len(batch) == self.batch_size
            if response.status == 413 and self.batch_size > 1:
                self.batch_size = max(1, self.batch_size // 2)
                return True
            if response.status == 400 and isinstance(body, dict) and body.get("problems"):
                # Nothing of the batch was stored: set aside the events named, resend the rest.
                bad = {p.get("index") for p in body["problems"] if isinstance(p, dict)}
                seqs = [batch[i][0] for i in bad if isinstance(i, int) and 0 <= i < len(batch)]
                if seqs:
                    log.error("the service refused %d events: %s", len(seqs), body.get("error"))
                    await asyncio.to_thread(self.outbox.mark, seqs, REJECTED)
                    if self.on_rejected:
                        self.on_rejected(len(seqs))
                    return True
            raise RuntimeError(f"POST {self.url} answered {response.status}: {body}")
