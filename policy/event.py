"""The anonymised event: what leaves a sensor. No URL path or query, no address, no content,
no personal account id, no name: the fields below are all there is."""

import hashlib
import hmac
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta

from policy.facts import Decision

RESPONSES = ("none", "continued", "went_back")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One decision worth recording, anonymised by construction."""

    id: str
    """Unique (uuid4 hex): a batch resent after a timeout is stored once."""
    time: str
    """UTC, ISO-8601 with Z, rounded down to the configured granularity."""
    sensor: str
    device: str | None
    """HMAC pseudonym of the device (privacy level daily or stable), or None (level none)."""
    platform: str
    category: str
    action: str
    outcome: str
    clauses: tuple[str, ...]
    rule: str
    working_time: bool
    device_group: str
    account: str
    school_account: str | None
    """The school's own approved account id in the catalogue (not a person's)."""
    policy_version: str
    response: str = "none"
    """none | continued (said it was school business) | went_back (heeded the warning)."""
    reason_category: str | None = None
    """For `continued`: the id of the reason chosen from settings.continue_reasons."""

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["clauses"] = list(self.clauses)
        return data


def coarsen(at: datetime, minutes: int) -> str:
    """Round down to `minutes` in UTC, so an event's time says when, but not to the second."""
    utc = at.astimezone(UTC).replace(second=0, microsecond=0)
    utc -= timedelta(minutes=utc.minute % minutes)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def pseudonym(key: bytes, device_id: str) -> str:
    """HMAC-SHA256 of the device id under the day's salt or the long-lived key (hex, 128 bits)."""
    return hmac.new(key, device_id.encode(), hashlib.sha256).hexdigest()[:32]


def event_from_decision(
    decision: Decision,
    *,
    event_id: str,
    at: datetime,
    sensor: str,
    device: str | None,
    policy_version: str,
    granularity_minutes: int,
    response: str = "none",
    reason_category: str | None = None,
) -> Event:
    if decision.platform is None or decision.category is None or decision.device_group is None:
        raise ValueError("only decisions about a catalogue platform on a known device group record")
    if response not in RESPONSES:
        raise ValueError(f"response must be one of {RESPONSES}, not {response!r}")
    return Event(
        id=event_id,
        time=coarsen(at, granularity_minutes),
        sensor=sensor,
        device=device,
        platform=decision.platform,
        category=decision.category,
        action=decision.action,
        outcome=decision.outcome,
        clauses=decision.clauses,
        rule=decision.rule,
        working_time=decision.working_time,
        device_group=decision.device_group,
        account=decision.account,
        school_account=decision.school_account,
        policy_version=policy_version,
        response=response,
        reason_category=reason_category if response == "continued" else None,
    )


EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Event))
"""The event's field names, in order: the one list the outbox, the API and the exports share."""
