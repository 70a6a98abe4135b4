"""What the proxy's addons share: the policy in force, the sensor's settings and files, the clock.

One `Shared` object is made by addon.py and handed to each addon's constructor; each addon fills
the part it owns (Settings the sensor's settings, PolicySource the policy, Recorder the outbox)
and reads the rest. Nothing here talks to the network or to mitmproxy's options.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mitmproxy import exceptions

from policy.engine import Policy
from proxy_addon.headers import Injections
from proxy_addon.outbox import Outbox
from proxy_addon.paths import default_data_dir
from proxy_addon.report_limits import DeviceReportLimits
from proxy_addon.service_client import BundleFetcher

log = logging.getLogger("clausewarden")


def refuse(message: str) -> exceptions.OptionsError:
    """mitmproxy's OptionsError (the message names the option and the value)."""
    return exceptions.OptionsError(message)  # type: ignore[no-untyped-call]


def parse_seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise refuse(f"{name}: {value!r} is not a number of seconds more than 0")
    return seconds


@dataclass(eq=False)
class Shared:
    """The state of one proxy, shared by its addons."""

    # The sensor (Settings)
    data_dir: Path = field(default_factory=default_data_dir)
    service_url: str = ""
    token: str = ""
    secret: bytes = b""  # signs allowances and tickets; never leaves the proxy
    fixed_now: datetime | None = None
    clock_offset: float = 0.0  # seconds from this machine's clock to the service's (service_clock)
    # The policy (PolicySource)
    policy: Policy | None = None
    injections: Injections = field(default_factory=dict)
    policy_error: str | None = None
    source: BundleFetcher | None = None
    refresh_seconds: float = 30.0
    settling: asyncio.Task[None] | None = None  # the first fetch of the service's bundle
    # The record (Recorder)
    outbox: Outbox | None = None
    failures: int = 0
    report_limits: DeviceReportLimits = field(default_factory=DeviceReportLimits)
    account_request_limits: DeviceReportLimits = field(default_factory=DeviceReportLimits)

    def now(self) -> datetime:
        """The time decisions and events use: the service's clock where this machine's is far
        off it (proxy_addon.service_clock)."""
        if self.fixed_now is not None:
            return self.fixed_now
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def machine_now(self) -> datetime:
        """This machine's own clock (what the sensor status reports as `sent_at`)."""
        return self.fixed_now if self.fixed_now is not None else datetime.now(UTC)

    async def settled(self) -> Policy | None:
        """The policy to decide with, once the first bundle from the service is in (or not)."""
        task = self.settling
        if task is not None and not task.done():
            await asyncio.wait([task])  # never raises or cancels: the task logs its own failure
        return self.policy

    def failed(self, hook: str) -> None:
        """A hook failed: the flow passes as it is; say so once, then every 1000th time."""
        self.failures += 1
        if self.failures == 1 or self.failures % 1000 == 0:
            log.exception(
                "ClauseWarden %s failed (%d so far); passing the flow", hook, self.failures
            )
