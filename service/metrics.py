"""Counters for `/metrics` (Prometheus text format), kept in the process."""

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    n: int = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds
        self.n += 1


@dataclass
class Metrics:
    events_stored: int = 0
    events_duplicate: int = 0
    events_rejected: int = 0
    batches_rejected: int = 0
    latency: dict[str, Histogram] = field(default_factory=lambda: defaultdict(Histogram))

    def render_latency(self) -> list[str]:
        lines = [
            "# HELP clausewarden_request_seconds Request latency by route.",
            "# TYPE clausewarden_request_seconds histogram",
        ]
        for route, hist in sorted(self.latency.items()):
            cumulative = 0
            for bound, count in zip((*BUCKETS, float("inf")), hist.counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(
                    f'clausewarden_request_seconds_bucket{{route="{route}",le="{le}"}} {cumulative}'
                )
            lines.append(f'clausewarden_request_seconds_sum{{route="{route}"}} {hist.total:.6f}')
            lines.append(f'clausewarden_request_seconds_count{{route="{route}"}} {hist.n}')
        return lines
