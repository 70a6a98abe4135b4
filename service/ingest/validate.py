"""A batch of events checked against the event contract (policy.event), the batch's model
(service.api_models) and the service's context: the sensor named must be the token's, the time
within a day ahead and the retention period. Any problem refuses the whole batch, and every
problem is named. A good event leaves here as a policy.event.Event and is stored as one."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from policy.event import EVENT_FIELDS, Event, event_problems
from service.api_models import (
    BATCH_PROBLEMS,
    MAX_EVENTS,
    EventBatch,
    SensorStatus,
    problems_of,
)
from service.ingest.guard import UNKNOWN_ID_PROBLEMS, Known, unknown_ids

FUTURE = "more than a day in the future"
OLDER = "older than the retention period"
NOT_THE_TOKENS_SENSOR = "must be the name of the sensor whose token is used"
CONTEXT_PROBLEMS = frozenset(
    {
        ("time", FUTURE),  # with another problem: else the event is deferred, not refused
        ("time", OLDER),
        ("sensor", NOT_THE_TOKENS_SENSOR),
        *UNKNOWN_ID_PROBLEMS.items(),
    }
)
"""(field, message) of what ingest refuses that no schema can say, since it depends on the token,
the service's clock and retention period, and its catalogue (the OpenAPI document names these)."""

FIELDS = EVENT_FIELDS


class TooLarge(ValueError):
    """A batch of more than MAX_EVENTS events: refused whole with 413, as one over MAX_BYTES."""


class Problems(list[dict[str, Any]]):
    def add(self, index: int | None, field: str, message: str) -> None:
        self.append({"index": index, "field": field, "message": message})


def check_event(
    i: int,
    ev: Any,
    *,
    sensor: str,
    oldest: str,
    newest: str,
    problems: Problems,
    known: Mapping[str, Known] | None = None,
    deferred: list[int] | None = None,
) -> Event | None:
    """One event as an Event, or None with its problems added (every field checked). With
    `known` (the catalogue's ids per policy version), a well-formed event naming an unknown id
    fails. With `deferred`, a good event whose only fault is a time more than a day ahead (the
    sensor's clock is ahead) is not a problem: its index goes there, to be sent again later."""
    found = event_problems(ev)
    if isinstance(ev, dict):
        found += _context_problems(ev, found, sensor=sensor, oldest=oldest, newest=newest)
        if known is not None and not found:
            found += unknown_ids(ev, known.get(ev["policy_version"]))
    if deferred is not None and found == [("time", FUTURE)]:
        deferred.append(i)
        return None
    for field, message in found:
        problems.add(i, field, message)
    return None if found else Event.from_checked(ev)


def _context_problems(
    ev: dict[str, Any], found: list[tuple[str, str]], *, sensor: str, oldest: str, newest: str
) -> list[tuple[str, str]]:
    """What the contract cannot know: the token's sensor and the service's time window (checked
    only on fields the contract found good, so each field is named once)."""
    named = {field for field, _ in found}
    problems = []
    if "time" in ev and "time" not in named:
        if ev["time"] > newest:
            problems.append(("time", FUTURE))
        elif ev["time"] < oldest:
            problems.append(("time", OLDER))
    if "sensor" in ev and "sensor" not in named and ev["sensor"] != sensor:
        problems.append(("sensor", NOT_THE_TOKENS_SENSOR))
    return problems


def policy_versions_named(body: Any) -> set[str]:
    """The policy versions a batch's events name (to look up their catalogues first)."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        return set()
    return {
        ev["policy_version"]
        for ev in body["events"][:MAX_EVENTS]
        if isinstance(ev, dict) and isinstance(ev.get("policy_version"), str)
    }


def check_batch(
    body: Any,
    *,
    sensor: str,
    now: datetime,
    retention_days: int,
    known: Mapping[str, Known] | None = None,
    deferred: list[int] | None = None,
) -> tuple[list[Event], SensorStatus | None, Problems]:
    """(events, sensor_status, problems); any problem refuses the whole batch. TooLarge past
    MAX_EVENTS. `known`: the ids of the catalogue per policy version (`Catalogue.known`); ingest
    always passes it. `deferred`: see check_event (ingest passes it: a sensor whose clock is
    ahead keeps those events)."""
    batch = body.get("events") if isinstance(body, dict) else None
    if isinstance(batch, list) and len(batch) > MAX_EVENTS:
        raise TooLarge(f"a batch is at most {MAX_EVENTS} events")
    problems = Problems()
    status = None
    try:
        status = EventBatch.model_validate(body).sensor_status
    except ValidationError as exc:
        for field, message in problems_of(exc, BATCH_PROBLEMS):
            problems.add(None, field, message)
    if not isinstance(batch, list):
        return [], None, problems
    newest = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    oldest = (now - timedelta(days=retention_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = []
    seen: set[str] = set()
    for i, ev in enumerate(batch):
        event = check_event(
            i,
            ev,
            sensor=sensor,
            oldest=oldest,
            newest=newest,
            problems=problems,
            known=known,
            deferred=deferred,
        )
        if event is not None:
            if event.id in seen:
                continue  # the same event twice in one batch: stored once
            seen.add(event.id)
            events.append(event)
    return events, status, problems
