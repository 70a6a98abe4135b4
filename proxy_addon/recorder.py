"""Recording: anonymised events into the durable outbox, shipped to the service; the device
pseudonyms and the salts they rest on (a day's salt is destroyed once the day is over)."""

import asyncio
import json
import logging
import uuid
from datetime import datetime
from typing import Any

from mitmproxy import ctx

from policy.engine import Policy
from policy.event import event_from_decision, pseudonym
from policy.facts import Decision
from policy.ids import SENSOR_NAME
from proxy_addon import allowance
from proxy_addon.outbox import Outbox
from proxy_addon.paths import DEVICE_KEY_FILE, OUTBOX_FILE, SALT_FILE
from proxy_addon.secrets import daily_salt, private_key
from proxy_addon.shared import Shared, parse_seconds, refuse
from proxy_addon.shipper import Shipper

log = logging.getLogger("clausewarden")

OUTBOX_OPTIONS = {"clausewarden_data_dir", "clausewarden_outbox_max"}


class Recorder:
    name = "clausewarden_recorder"

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.shipper: Shipper | None = None
        self.ship_delay = 2.0
        self.ship_max_delay = 60.0
        self.dropped_logged = 0
        self._housekeeping: asyncio.Task[None] | None = None

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
        if "clausewarden_ship_max_delay" in updated:
            self.ship_max_delay = parse_seconds(
                "clausewarden_ship_max_delay", opts.clausewarden_ship_max_delay
            )
        if updated & OUTBOX_OPTIONS:
            self._open_outbox(opts.clausewarden_outbox_max)

    def _open_outbox(self, max_pending: int) -> None:
        shared, path = self.shared, self.shared.data_dir / OUTBOX_FILE
        if shared.outbox is None or shared.outbox.path != path:
            if shared.outbox is not None:
                shared.outbox.close()
            shared.outbox = Outbox(path, max_pending)
        shared.outbox.max_pending = max_pending

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
                max_delay=self.ship_max_delay,
                base_delay=min(0.5, self.ship_max_delay),
            )
            self.shipper.start()

    async def done(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            self._housekeeping = None
        if self.shipper is not None:
            await self.shipper.stop()
            self.shipper = None
        if self.shared.outbox is not None:
            self.shared.outbox.close()
            self.shared.outbox = None

    async def _tidy_loop(self) -> None:
        """Every refresh period: prune past days' shipped events, destroy past days' salts."""
        shared = self.shared
        while True:
            await asyncio.sleep(shared.refresh_seconds)
            try:
                if shared.outbox is not None and shared.policy is not None:
                    today = shared.policy.working_time.local(shared.now()).date().isoformat()
                    await asyncio.to_thread(shared.outbox.prune, today)
                    await asyncio.to_thread(self.forget_old_salts, today)
            except Exception:
                log.exception("tidying the outbox and salts failed; trying again later")

    def forget_old_salts(self, today: str) -> None:
        """A day's salt is destroyed once the day is over: the local one and the bundle's copy."""
        local = self.shared.data_dir / SALT_FILE
        try:
            if json.loads(local.read_text()).get("date") != today:
                local.unlink()
        except (OSError, ValueError, AttributeError):
            pass
        if self.shared.source is not None:
            self.shared.source.forget_salt(today)

    # --- events ----------------------------------------------------------------------------

    def device_pseudonym(self, policy: Policy, client: str, at: datetime) -> str | None:
        privacy = policy.bundle.get("privacy") or {}
        level = privacy.get("level") or policy.settings.get("privacy_level", "daily")
        if level == "none":
            return None
        data_dir = self.shared.data_dir
        if level == "stable":
            key_hex = privacy.get("key")
            key = bytes.fromhex(key_hex) if key_hex else private_key(data_dir / DEVICE_KEY_FILE)
            return pseudonym(key, client)
        day = policy.working_time.local(at).date().isoformat()
        if privacy.get("salt") and privacy.get("salt_date") == day:
            return pseudonym(bytes.fromhex(privacy["salt"]), client)
        return pseudonym(daily_salt(data_dir / SALT_FILE, day), client)

    def record(
        self,
        policy: Policy,
        decision: Decision,
        at: datetime,
        client: str,
        response: str = "none",
        reason: str | None = None,
    ) -> None:
        """Keep the event in the outbox before the page that caused it is answered."""
        outbox = self.shared.outbox
        if outbox is None:
            return
        event = event_from_decision(
            decision,
            event_id=uuid.uuid4().hex,
            at=at,
            sensor=ctx.options.clausewarden_sensor,
            device=self.device_pseudonym(policy, client, at),
            policy_version=policy.policy_version,
            granularity_minutes=int(policy.settings["event_time_granularity_minutes"]),
            response=response,
            reason_category=reason,
        )
        day = policy.working_time.local(at).date().isoformat()
        if not outbox.add(event, day, allowance.device_tag(self.shared.secret, client)):
            self.dropped_logged += 1
            if self.dropped_logged == 1 or self.dropped_logged % 1000 == 0:
                log.error(
                    "the outbox is full: %d events not kept", outbox.status()["outbox_dropped"]
                )
        if self.shipper is not None:
            self.shipper.wake()
