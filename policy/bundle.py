"""The policy bundle: one JSON document holding everything a sensor needs to decide.

The proxy and the browser extension both decide from this document alone; its `version` is a
content hash, so a sensor can tell whether it holds the policy in force.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any, TypedDict, cast

from policy.school import SchoolConfig
from policy.vocabulary import PRIVACY_LEVELS, PrivacyLevel

BUNDLE_FORMAT = 1


def compile_bundle(config: SchoolConfig) -> dict[str, Any]:
    """Turn a validated configuration into the bundle (plain JSON types only)."""
    rules = []
    relax = config.settings.settings.personal_use_outside_working_time == "log"
    for rule in config.rules.rules:
        data = rule.model_dump(mode="json")
        data["record"] = rule.outcome != "allow" if rule.record is None else rule.record
        data["allow_continue"] = (
            rule.outcome == "warn" if rule.allow_continue is None else rule.allow_continue
        )
        if relax and rule.relaxable:  # the headteacher chose: outside working time, record only
            data["outcome"], data["allow_continue"] = "log", False
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
    """A short content hash of everything but the version itself and the privacy object."""
    hashed = {k: v for k, v in body.items() if k not in ("version", "privacy")}
    canonical = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class Privacy(TypedDict):
    """The bundle's `privacy` object: the privacy level the sensors apply. Added by the service as
    it serves the bundle, never part of the content hash.

    It never carries a salt or key: each sensor keeps its own day's salt (replaced at the school's
    local midnight and destroyed) and, at level `stable`, its own long-lived key, so nothing the
    service hands out, and nothing it keeps, maps a pseudonym to a device. Pseudonyms of different
    sensors need not agree."""

    level: PrivacyLevel


PRIVACY_KEYS = frozenset({"level"})
"""All a privacy object carries; a salt or key is refused wherever one is checked."""


def privacy_part(level: str) -> Privacy:
    """The privacy object for `level`; ValueError if `level` is not a privacy level."""
    return check_privacy({"level": level})


def check_privacy(data: object) -> Privacy:
    """`data` as a privacy object, or ValueError saying what is wrong with it (a salt or key in it
    is refused: no secret that maps pseudonyms to devices ever travels in the bundle)."""
    if not isinstance(data, Mapping):
        raise ValueError("privacy: expected an object")
    level = data.get("level")
    if level not in PRIVACY_LEVELS:
        raise ValueError(f"privacy.level: expected one of {', '.join(PRIVACY_LEVELS)}")
    extra = sorted(str(k) for k in data.keys() - PRIVACY_KEYS)
    if extra:
        raise ValueError(
            f"privacy: carries the level only, not {', '.join(extra)} (a sensor keeps its own "
            "salt and key; none travels in the bundle)"
        )
    return Privacy(level=cast(PrivacyLevel, level))


def without_secrets(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """`bundle` with its privacy object cut down to the level (a copy saved by an older version
    may hold a salt or key: it is dropped, never used)."""
    out = dict(bundle)
    privacy = out.get("privacy")
    if isinstance(privacy, Mapping):
        level = privacy.get("level")
        if level in PRIVACY_LEVELS:
            out["privacy"] = {"level": level}
        else:
            out.pop("privacy")
    elif "privacy" in out:
        out.pop("privacy")
    return out


def with_privacy(bundle: Mapping[str, Any], privacy: Privacy) -> dict[str, Any]:
    """The bundle as served to a sensor: its content plus the privacy object (the version is
    unchanged: `content_version` leaves `privacy` out)."""
    return {**bundle, "privacy": check_privacy(privacy)}
