"""Checking and storing a batch of events: strict, all or nothing, idempotent by event id.

`validate` checks a batch against the event contract (policy.event), the batch's model
(service.api_models) and the service's context (the token's sensor, the retention window), and
gives the good events as policy.event.Event; `storage` inserts them in the caller's
transaction; `rollups` turns the stored rows into the daily counts the dashboard reads.
"""

from service.api_models import MAX_BYTES, MAX_EVENTS
from service.ingest.guard import Catalogue, RateLimit, SensorLimits, retry_after
from service.ingest.rollups import Rollup
from service.ingest.storage import add_to_rollups, store_events
from service.ingest.validate import (
    CONTEXT_PROBLEMS,
    FIELDS,
    Problems,
    TooLarge,
    check_batch,
    check_event,
    policy_versions_named,
)

__all__ = [
    "CONTEXT_PROBLEMS",
    "FIELDS",
    "Catalogue",
    "RateLimit",
    "SensorLimits",
    "policy_versions_named",
    "retry_after",
    "MAX_BYTES",
    "MAX_EVENTS",
    "Problems",
    "Rollup",
    "TooLarge",
    "add_to_rollups",
    "check_batch",
    "check_event",
    "store_events",
]
