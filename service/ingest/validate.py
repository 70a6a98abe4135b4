"""A batch of events checked against the event contract (policy.event) and the service's context:
the sensor named must be the token's, the time within a day ahead and the retention period.
Any problem refuses the whole batch, and every problem is named."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from policy import ids
from policy.event import EVENT_FIELDS, event_problems, with_added_fields
from service.ingest.guard import Known, unknown_ids

MAX_EVENTS = 1000
FUTURE = "more than a day in the future"
MAX_BYTES = 1024 * 1024

FIELDS = EVENT_FIELDS


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
) -> dict[str, Any] | None:
    """One event as a row, or None with its problems added (every field checked). With `known`
    (the catalogue's ids per policy version), a well-formed event naming an unknown id fails.
    With `deferred`, a good event whose only fault is a time more than a day ahead (the
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
    return None if found else to_row(ev)


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
            problems.append(("time", "older than the retention period"))
    if "sensor" in ev and "sensor" not in named and ev["sensor"] != sensor:
        problems.append(("sensor", "must be the name of the sensor whose token is used"))
    return problems


def to_row(ev: dict[str, Any]) -> dict[str, Any]:
    """A checked event as a row of the events table: clause ids as one `,6.2,7,` string."""
    row = with_added_fields(ev)  # an older sensor's event: an added field takes its default
    clauses = ev["clauses"]
    row["clauses"] = "," + ",".join(clauses) + "," if clauses else ","
    return row


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
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, Problems]:
    """(rows, sensor_status, problems); any problem refuses the whole batch. `known`: the ids of
    the catalogue per policy version (`Catalogue.known`); ingest always passes it. `deferred`:
    see check_event (ingest passes it: a sensor whose clock is ahead keeps those events)."""
    problems = Problems()
    if not isinstance(body, dict):
        problems.add(None, "", "expected a JSON object with an 'events' list")
        return [], None, problems
    for extra in sorted(body.keys() - {"events", "sensor_status"}):
        problems.add(None, str(extra)[:64], "unknown field")
    batch = body.get("events")
    if not isinstance(batch, list):
        problems.add(None, "events", "expected a list of events")
        return [], None, problems
    if len(batch) > MAX_EVENTS:
        problems.add(None, "events", f"at most {MAX_EVENTS} events in one batch")
        return [], None, problems
    status = body.get("sensor_status")
    if status is not None:
        status = _check_status(status, problems)
    newest = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    oldest = (now - timedelta(days=retention_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    seen: set[str] = set()
    for i, ev in enumerate(batch):
        row = check_event(
            i,
            ev,
            sensor=sensor,
            oldest=oldest,
            newest=newest,
            problems=problems,
            known=known,
            deferred=deferred,
        )
        if row is not None:
            if row["id"] in seen:
                continue  # the same event twice in one batch: stored once
            seen.add(row["id"])
            rows.append(row)
    return rows, status, problems


STATUS_FIELDS = frozenset(
    {"outbox_pending", "outbox_dropped", "outbox_rejected", "oldest_pending", "sent_at"}
)
"""What a sensor says of itself with a batch: its outbox (pending, dropped when full, refused by
the service for good, the oldest pending time) and its clock when it sent the batch."""


def _check_status(status: Any, problems: Problems) -> dict[str, Any] | None:
    if not isinstance(status, dict):
        problems.add(None, "sensor_status", "expected an object")
        return None
    for extra in sorted(status.keys() - STATUS_FIELDS):
        problems.add(None, f"sensor_status.{str(extra)[:64]}", "unknown field")
    for name in ("outbox_pending", "outbox_dropped", "outbox_rejected"):
        v = status.get(name, 0)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**31:
            problems.add(None, f"sensor_status.{name}", "expected a count")
    v = status.get("oldest_pending")
    if v is not None and not (isinstance(v, str) and ids.UTC_TIME.fullmatch(v)):
        problems.add(None, "sensor_status.oldest_pending", "expected YYYY-MM-DDTHH:MM:SSZ or null")
    v = status.get("sent_at")
    if v is not None and not (isinstance(v, str) and ids.UTC_TIME.fullmatch(v)):
        problems.add(None, "sensor_status.sent_at", "expected YYYY-MM-DDTHH:MM:SSZ or null")
    return status
