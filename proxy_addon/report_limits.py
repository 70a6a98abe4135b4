"""How many reports to the Headteacher, or school-account requests, one device may send through
the proxy (one DeviceReportLimits for each).

The proxy's sensor credential is shared by every device behind it, so the service's limit on that
credential cannot stop one device from using up what the others may send (issue 16). The proxy
holds each device to its own limit, keyed by the device's tag (an HMAC of its address, never the
address): a device's first report of the day always goes through (a safeguarding report must not
wait behind anyone's), then REPORTS_AT_ONCE more at once and one every REFILL_SECONDS. Only a
report (or request) the service accepted counts: a form refused for a mistake uses nothing
up.

In memory, per proxy process: a restart forgets it, which only ever lets a report through.
"""

from dataclasses import dataclass, field

REPORTS_AT_ONCE = 3
REFILL_SECONDS = 600.0
MAX_DEVICES = 50_000


@dataclass
class DeviceReportLimits:
    day: str = ""
    reported_today: set[str] = field(default_factory=set)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def wait(self, tag: str, day: str, now: float) -> float:
        """0 if this device may send a report now; else the seconds until it may."""
        self._new_day(day)
        if tag not in self.reported_today:
            return 0.0
        tokens, _ = self._tokens(tag, now)
        return 0.0 if tokens >= 1 else (1 - tokens) * REFILL_SECONDS

    def sent(self, tag: str, day: str, now: float) -> None:
        """A report from this device was accepted by the service."""
        self._new_day(day)
        if tag not in self.reported_today:
            self.reported_today.add(tag)  # the day's first: free
            return
        tokens, _ = self._tokens(tag, now)
        if len(self._buckets) >= MAX_DEVICES:
            self._buckets.clear()  # forgetting only ever lets a report through
        self._buckets[tag] = (max(0.0, tokens - 1), now)

    def _tokens(self, tag: str, now: float) -> tuple[float, float]:
        tokens, last = self._buckets.get(tag, (float(REPORTS_AT_ONCE), now))
        return min(float(REPORTS_AT_ONCE), tokens + max(0.0, now - last) / REFILL_SECONDS), last

    def _new_day(self, day: str) -> None:
        if day != self.day:  # device tags are per day too: yesterday's say nothing today
            self.day, self.reported_today, self._buckets = day, set(), {}
