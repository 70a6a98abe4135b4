"""A good event for tests and benches, built from the model (policy.event) so that it follows
the contract wherever it changes; pass the fields a test cares about."""

import uuid
from typing import Any

from policy.event import Event


def an_event(**fields: Any) -> Event:
    """A warned personal browse of Facebook in working time, with `fields` replaced."""
    base: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "time": "2026-11-25T09:45:00Z",
        "sensor": "proxy1",
        "device": uuid.uuid4().hex,
        "platform": "facebook",
        "category": "social_network",
        "action": "browse",
        "outcome": "warn",
        "clauses": ("6.2", "7"),
        "rule": "social-working-time",
        "working_time": True,
        "device_group": "staff-devices",
        "account": "personal",
        "school_account": None,
        "policy_version": "wycliffe-smp-2017-02",
    }
    return Event(**{**base, **fields})
