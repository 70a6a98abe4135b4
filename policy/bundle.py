"""The policy bundle: one JSON document holding everything a sensor needs to decide.

The proxy and the browser extension both decide from this document alone; its `version` is a
content hash, so a sensor can tell whether it holds the policy in force.
"""

import hashlib
import json
from typing import Any

from policy.school import SchoolConfig

BUNDLE_FORMAT = 1


def compile_bundle(config: SchoolConfig) -> dict[str, Any]:
    """Turn a validated configuration into the bundle (plain JSON types only)."""
    rules = []
    for rule in config.rules.rules:
        data = rule.model_dump(mode="json")
        data["record"] = rule.outcome != "allow" if rule.record is None else rule.record
        data["allow_continue"] = (
            rule.outcome == "warn" if rule.allow_continue is None else rule.allow_continue
        )
        rules.append(data)
    schedule = config.schedule.model_dump(mode="json")
    schedule["working_hours"] = {
        day: [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in ranges]
        for day, ranges in config.schedule.working_hours.items()
    }
    body: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "policy_version": config.policy.document.version,
        "school": config.policy.school.model_dump(mode="json"),
        "document": config.policy.document.model_dump(mode="json"),
        "clauses": [c.model_dump(mode="json") for c in config.policy.clauses],
        "platforms": [p.model_dump(mode="json") for p in config.platforms.platforms],
        "schedule": schedule,
        "device_groups": [g.model_dump(mode="json") for g in config.device_groups.device_groups],
        "staff_group": config.device_groups.staff_group,
        "rules": rules,
        "accounts": [a.model_dump(mode="json") for a in config.accounts.accounts],
        "settings": config.settings.settings.model_dump(mode="json"),
    }
    return {"version": content_version(body), **body}


def content_version(body: dict[str, Any]) -> str:
    """A short content hash of everything but the version itself and the day's privacy salt."""
    hashed = {k: v for k, v in body.items() if k not in ("version", "privacy")}
    canonical = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
