"""The service's Prometheus metrics (prometheus_client, one registry per app, no globals): ingest
counters and request latency kept in the process, and each sensor's figures read from the store
at scrape time."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True, slots=True)
class SensorFigures:
    """One active sensor as /metrics shows it."""

    name: str
    last_seen: float | None
    """Unix time of its last batch, or None if it never sent one."""
    outbox_pending: int
    outbox_dropped: int
    outbox_lag: float
    """Seconds since the oldest event still waiting in its outbox (0 when empty)."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_stored = Counter("clausewarden_events_stored", "Events stored.", registry=r)
        self.events_duplicate = Counter(
            "clausewarden_events_duplicate",
            "Events received again and not stored twice.",
            registry=r,
        )
        self.events_rejected = Counter(
            "clausewarden_events_rejected", "Events in refused batches.", registry=r
        )
        self.batches_rejected = Counter(
            "clausewarden_batches_rejected", "Batches refused (400).", registry=r
        )
        self.latency = Histogram(
            "clausewarden_request_seconds",
            "Request latency by route.",
            ["route"],
            buckets=BUCKETS,
            registry=r,
        )

    def observe(self, route: str, seconds: float) -> None:
        self.latency.labels(route=route).observe(seconds)

    def render(self, sensors: Iterable[SensorFigures]) -> bytes:
        """The text format: what this process counted, then the sensors' figures."""
        return generate_latest(_Scrape(self.registry, list(sensors)))


class _Scrape(Collector):
    """The app's registry plus the sensors' gauges for one scrape (they live in the store)."""

    def __init__(self, registry: CollectorRegistry, sensors: list[SensorFigures]) -> None:
        self.registry = registry
        self.sensors = sensors

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()
        gauges = {
            "last_seen_seconds": "Unix time of the sensor's last batch.",
            "outbox_pending": "Events waiting in the sensor's outbox.",
            "outbox_dropped": "Events the sensor dropped (outbox full).",
            "outbox_lag_seconds": "Age of the oldest event in the outbox.",
        }
        families = {
            key: GaugeMetricFamily(f"clausewarden_sensor_{key}", text, labels=["sensor"])
            for key, text in gauges.items()
        }
        for s in self.sensors:
            if s.last_seen is not None:
                families["last_seen_seconds"].add_metric([s.name], round(s.last_seen))
            families["outbox_pending"].add_metric([s.name], s.outbox_pending)
            families["outbox_dropped"].add_metric([s.name], s.outbox_dropped)
            families["outbox_lag_seconds"].add_metric([s.name], round(s.outbox_lag))
        yield from families.values()
