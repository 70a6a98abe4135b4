"""When each tunnelled device was last recorded as `seen` on each platform (policy.tunnel): at
most one event per device, platform and policy.respond.SEEN_SECONDS. Kept in memory by device tag
(an HMAC of the address, never the address); entries older than the period are dropped."""

from policy.respond import SEEN_SECONDS


class SeenTunnels:
    def __init__(self) -> None:
        self._last: dict[tuple[str, str], float] = {}

    def last(self, tag: str, platform: str) -> float | None:
        return self._last.get((tag, platform))

    def recorded(self, tag: str, platform: str, now: float) -> None:
        if len(self._last) > 10_000:  # many devices: forget the ones whose period is over
            self._last = {k: t for k, t in self._last.items() if now - t < SEEN_SECONDS}
        self._last[(tag, platform)] = now
