"""Checking and storing a batch of events: strict, all or nothing, idempotent by event id.

`validate` checks a batch against the event contract (policy.event) and the service's context
(the token's sensor, the retention window); `storage` inserts the rows in the caller's
transaction; `rollups` turns the stored rows into the daily counts the dashboard reads.
"""

from service.ingest.guard import Catalogue, RateLimit, SensorLimits, retry_after
from service.ingest.rollups import Rollup
from service.ingest.storage import add_to_rollups, store_rows
from service.ingest.validate import (
    FIELDS,
    MAX_BYTES,
    MAX_EVENTS,
    Problems,
    check_batch,
    check_event,
    policy_versions_named,
)

__all__ = [
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
    "add_to_rollups",
    "check_batch",
    "check_event",
    "store_rows",
]
