"""Recording: anonymised events into the durable outbox, shipped to the service; the device
pseudonyms and the secrets they rest on, all kept on this proxy and none from the service.

- `daily`: HMAC of the client address under this proxy's salt of the event's local day (the
  school's time zone). The salt is replaced at local midnight and the old one destroyed, so a
  device has exactly one pseudonym a day and none of a past day can be linked to it again.
- `stable`: HMAC under this proxy's long-lived key (`device.key`, 0600). An investigation's
  countersigned device test (clause 4.3) is fetched from the service; the proxy answers with that
  one device's pseudonym, and the service counts the matching events.
- `none`: no device at all.
"""

import asyncio
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from mitmproxy import ctx

from policy.engine import Policy
from policy.event import event_from_decision, pseudonym
from policy.facts import Decision
from policy.ids import SENSOR_NAME
from proxy_addon.outbox import Outbox
from proxy_addon.paths import DEVICE_KEY_FILE, OUTBOX_FILE, SALT_FILE
from proxy_addon.secrets import DailySalt, read_key, write_private
from proxy_addon.service_client import ServiceError, answer_check, fetch_checks
from proxy_addon.shared import Shared, parse_seconds, refuse
from proxy_addon.shipper import Shipper
from proxy_addon.visit import Visit

log = logging.getLogger("clausewarden")

OUTBOX_OPTIONS = {"clausewarden_data_dir", "clausewarden_outbox_max"}


class Recorder:
    name = "clausewarden_recorder"

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.shipper: Shipper | None = None
        self.ship_delay = 2.0
        self.ship_max_delay = 60.0
        self.batch_window = 1.0
        self.dropped_logged = 0
        self._housekeeping: asyncio.Task[None] | None = None
        self.salt = DailySalt(shared.data_dir / SALT_FILE)
        self.device_key: bytes | None = None
        self._saving: set[asyncio.Future[None]] = set()

    def load(self, loader: Any) -> None:
        loader.add_option(
            "clausewarden_sensor",
            str,
            "proxy",
            "This sensor's name, as registered with `clausewarden sensor add NAME`.",
        )
        loader.add_option(
            "clausewarden_outbox_max",
            int,
            100_000,
            "Most events kept unshipped; past it new events are counted as dropped.",
        )
        loader.add_option(
            "clausewarden_ship_delay",
            str,
            "2",
            "Seconds the shipper waits when the outbox is empty (it wakes on each new event).",
        )
        loader.add_option(
            "clausewarden_ship_batch_window",
            str,
            "1",
            "Seconds the shipper gathers new events before it sends them as one batch.",
        )
        loader.add_option(
            "clausewarden_ship_max_delay",
            str,
            "60",
            "Longest wait, in seconds, between retries when the service cannot be reached.",
        )

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        if "clausewarden_sensor" in updated and not SENSOR_NAME.fullmatch(opts.clausewarden_sensor):
            raise refuse(
                f"clausewarden_sensor: {opts.clausewarden_sensor!r} is not a sensor name "
                "(letters, digits, '_', '-'; at most 64)"
            )
        if "clausewarden_outbox_max" in updated and opts.clausewarden_outbox_max < 1:
            raise refuse(
                f"clausewarden_outbox_max: {opts.clausewarden_outbox_max!r} must be at least 1"
            )
        if "clausewarden_ship_delay" in updated:
            self.ship_delay = parse_seconds("clausewarden_ship_delay", opts.clausewarden_ship_delay)
        if "clausewarden_ship_batch_window" in updated:
            self.batch_window = parse_seconds(
                "clausewarden_ship_batch_window", opts.clausewarden_ship_batch_window
            )
        if "clausewarden_ship_max_delay" in updated:
            self.ship_max_delay = parse_seconds(
                "clausewarden_ship_max_delay", opts.clausewarden_ship_max_delay
            )
        if "clausewarden_data_dir" in updated or self.salt.path.parent != self.shared.data_dir:
            self._load_secrets()
        if updated & OUTBOX_OPTIONS:
            self._open_outbox(opts.clausewarden_outbox_max)

    def _load_secrets(self) -> None:
        """The proxy's own salt and key (at start, before any flow): a stale salt is deleted."""
        data_dir = self.shared.data_dir
        self.salt = DailySalt(data_dir / SALT_FILE)
        self.salt.load(self.today())
        self.device_key = read_key(data_dir / DEVICE_KEY_FILE)
        if self.shared.outbox is not None:
            self.shared.outbox.tag_key = self.salt.tag_key

    def _open_outbox(self, max_pending: int) -> None:
        shared, path = self.shared, self.shared.data_dir / OUTBOX_FILE
        if shared.outbox is None or shared.outbox.path != path:
            if shared.outbox is not None:
                shared.outbox.close()
            shared.outbox = Outbox(path, max_pending, tag_key=self.salt.tag_key)
        shared.outbox.max_pending = max_pending
        shared.outbox.tag_key = self.salt.tag_key

    def today(self) -> str | None:
        """The school's local day now (None before there is a policy to say the time zone)."""
        policy = self.shared.policy
        if policy is None:
            return None
        return policy.working_time.local(self.shared.now()).date().isoformat()

    # --- lifecycle -------------------------------------------------------------------------

    def running(self) -> None:
        shared = self.shared
        loop = asyncio.get_running_loop()
        self._housekeeping = loop.create_task(self._tidy_loop(), name="clausewarden-tidy")
        if shared.service_url and shared.outbox is not None:
            self.shipper = Shipper(
                shared.outbox,
                shared.service_url,
                shared.token,
                idle_delay=self.ship_delay,
                batch_window=self.batch_window,
                max_delay=self.ship_max_delay,
                base_delay=min(0.5, self.ship_max_delay),
                # sent_at: this machine's own clock, which the service compares with its own (the
                # events themselves are timed by the service's clock while this one is far off).
                clock=shared.machine_now,
            )
            self.shipper.start()

    async def done(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            self._housekeeping = None
        await self.settle_saves()
        if self.shipper is not None:
            await self.shipper.stop()
            self.shipper = None
        if self.shared.outbox is not None:
            self.shared.outbox.close()
            self.shared.outbox = None

    async def _tidy_loop(self) -> None:
        """At start, at each local midnight and every refresh period: destroy past days' salts,
        prune the outbox; and answer the investigations' device checks."""
        shared = self.shared
        await shared.settled()
        while True:
            try:
                await self.tidy()
            except Exception:
                log.exception("tidying the outbox and salts failed; trying again later")
            try:
                await self.answer_checks()
            except Exception:
                log.exception("answering the investigations' device checks failed")
            await asyncio.sleep(self._until_next_tidy())

    def _until_next_tidy(self) -> float:
        """The refresh period, or less: just past the next local midnight."""
        policy, now = self.shared.policy, self.shared.now()
        wait = self.shared.refresh_seconds
        if policy is not None and self.shared.fixed_now is None:
            local = policy.working_time.local(now)
            midnight = datetime.combine(
                local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo
            )
            wait = min(wait, max(0.0, (midnight - now).total_seconds()) + 0.01)
        return wait

    async def tidy(self) -> None:
        today = self.today()
        if today is None:
            return
        await asyncio.to_thread(self.forget_old_salts, today)
        outbox, policy = self.shared.outbox, self.shared.policy
        if outbox is not None and policy is not None:
            retention = int(policy.settings.get("retention_days", 90))
            cutoff = (datetime.fromisoformat(today) - timedelta(days=retention)).date()
            await asyncio.to_thread(outbox.prune, today, cutoff.isoformat())

    def forget_old_salts(self, today: str) -> None:
        """A day's salt is destroyed once the day is over (and a new one saved for today)."""
        self.salt.forget_before(today)
        self.salt.save()

    # --- investigations (level stable) -----------------------------------------------------

    async def answer_checks(self) -> int:
        """Answer each countersigned device test the service publishes with that device's
        pseudonym under this proxy's key; the service counts, the proxy learns nothing back.
        Returns how many were answered."""
        shared, policy = self.shared, self.shared.policy
        if not shared.service_url or policy is None or self.level(policy) != "stable":
            return 0
        try:
            checks = await fetch_checks(shared.service_url, shared.token)
        except ServiceError as exc:
            log.warning("cannot fetch the investigations' device checks (%s)", exc)
            return 0
        answered = 0
        for check in checks:
            ident, device = check.get("id"), check.get("device")
            opened, signed = check.get("opened_by"), check.get("countersigned_by")
            if not (isinstance(ident, int) and isinstance(device, str) and device):
                continue
            if not (isinstance(opened, str) and isinstance(signed, str) and opened and signed):
                continue  # four eyes: both people, or no test
            if opened == signed:
                continue
            key = await self._device_key_saved()
            try:
                await answer_check(shared.service_url, shared.token, ident, pseudonym(key, device))
            except ServiceError as exc:
                log.warning("cannot answer device check %d (%s)", ident, exc)
                continue
            log.info("answered the investigations' device check %d", ident)
            answered += 1
        return answered

    async def _device_key_saved(self) -> bytes:
        key = self._device_key()
        await self.settle_saves()
        return key

    # --- secrets ---------------------------------------------------------------------------

    def _device_key(self) -> bytes:
        """The long-lived key of level stable, made on first need (saved off the event loop)."""
        if self.device_key is None:
            self.device_key = secrets.token_bytes(32)
            path, data = self.shared.data_dir / DEVICE_KEY_FILE, self.device_key.hex().encode()
            self._save_soon(lambda: write_private(path, data))
        return self.device_key

    def _save_soon(self, save: Any) -> None:
        """Run `save` in a thread when there is an event loop (a hook must not block), else now."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            save()
            return
        future = loop.run_in_executor(None, save)
        self._saving.add(future)
        future.add_done_callback(self._saved)

    def _saved(self, future: "asyncio.Future[None]") -> None:
        self._saving.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("a secret of the proxy could not be saved: %s", future.exception())

    async def settle_saves(self) -> None:
        if self._saving:
            await asyncio.wait(list(self._saving))

    def _salt_saved_soon(self) -> None:
        if self.salt.unsaved:
            self._save_soon(self.salt.save)

    # --- events ----------------------------------------------------------------------------

    @staticmethod
    def level(policy: Policy) -> str:
        return policy.privacy_level

    def device_pseudonym(self, policy: Policy, client: str, day: str) -> str | None:
        """The event's device: one pseudonym per device per local day (the event's day decides
        the salt); None at level none, or for a day whose salt is already destroyed."""
        level = self.level(policy)
        if level == "none":
            return None
        if level == "stable":
            return pseudonym(self._device_key(), client)
        salt = self.salt.for_day(day)
        self._salt_saved_soon()
        return None if salt is None else pseudonym(salt, client)

    def record(
        self,
        policy: Policy,
        decision: Decision,
        visit: Visit,
        response: str = "none",
        reason: str | None = None,
        *,
        held: bool = False,
    ) -> None:
        """Keep the event in the outbox before the page that caused it is answered."""
        outbox = self.shared.outbox
        if outbox is None:
            return
        event = event_from_decision(
            decision,
            event_id=uuid.uuid4().hex,
            at=visit.at,
            sensor=ctx.options.clausewarden_sensor,
            device=self.device_pseudonym(policy, visit.client, visit.day),
            policy_version=policy.policy_version,
            granularity_minutes=int(policy.settings["event_time_granularity_minutes"]),
            response=response,
            reason_category=reason,
            held=held,
        )
        kept = outbox.add(event, visit.day, visit.tag)
        self._salt_saved_soon()
        if not kept:
            self.dropped_logged += 1
            if self.dropped_logged == 1 or self.dropped_logged % 100 == 0:
                why = (
                    f"cannot write {outbox.path} ({outbox.write_error}): free space there"
                    if outbox.write_error
                    else "the outbox is full"
                )
                log.error(
                    "%s; %d events not kept (warnings are still shown)",
                    why,
                    outbox.status()["outbox_dropped"],
                )
        if self.shipper is not None:
            self.shipper.wake()
