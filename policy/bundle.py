"""The policy bundle: one JSON document holding everything a sensor needs to decide.

The proxy and the browser extension both decide from this document alone; its `version` is a
content hash, so a sensor can tell whether it holds the policy in force.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast

from policy.school import SchoolConfig
from policy.vocabulary import PRIVACY_LEVELS, PrivacyLevel

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


class Privacy(TypedDict):
    """The bundle's `privacy` object: what a sensor needs to make device pseudonyms. Added by
    the service as it serves the bundle, never part of the content hash."""

    level: PrivacyLevel
    salt: NotRequired[str]
    """`daily` only: the day's salt, 64 hex digits, replaced at the school's local midnight."""
    salt_date: NotRequired[str]
    """`daily` only: the school's local day (YYYY-MM-DD) the salt is for."""
    key: NotRequired[str]
    """`stable` only: the long-lived key, 64 hex digits."""


_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PRIVACY_KEYS: dict[str, frozenset[str]] = {
    "daily": frozenset({"level", "salt", "salt_date"}),
    "stable": frozenset({"level", "key"}),
    "none": frozenset({"level"}),
}


def privacy_part(
    level: str, *, salt: str | None = None, salt_date: str | None = None, key: str | None = None
) -> Privacy:
    """The privacy object for `level`; ValueError if a secret it needs is missing or malformed,
    or one it must not carry is given (a `none` bundle carries no secret at all)."""
    data: dict[str, str] = {"level": level}
    for name, value in (("salt", salt), ("salt_date", salt_date), ("key", key)):
        if value is not None:
            data[name] = value
    return check_privacy(data)


def check_privacy(data: object) -> Privacy:
    """`data` as a privacy object, or ValueError saying what is wrong with it."""
    if not isinstance(data, Mapping):
        raise ValueError("privacy: expected an object")
    level = data.get("level")
    if level not in PRIVACY_LEVELS:
        raise ValueError(f"privacy.level: expected one of {', '.join(PRIVACY_LEVELS)}")
    wanted = _PRIVACY_KEYS[level]
    if data.keys() != wanted:
        raise ValueError(f"privacy: level {level} carries exactly {', '.join(sorted(wanted))}")
    for name in ("salt", "key"):
        if name in data and not (isinstance(data[name], str) and _HEX64.fullmatch(data[name])):
            raise ValueError(f"privacy.{name}: expected 64 lowercase hex digits")
    if "salt_date" in data and not (
        isinstance(data["salt_date"], str) and _DAY.fullmatch(data["salt_date"])
    ):
        raise ValueError("privacy.salt_date: expected YYYY-MM-DD")
    privacy = Privacy(level=cast(PrivacyLevel, level))
    if level == "daily":
        privacy["salt"], privacy["salt_date"] = data["salt"], data["salt_date"]
    elif level == "stable":
        privacy["key"] = data["key"]
    return privacy


def with_privacy(bundle: Mapping[str, Any], privacy: Privacy) -> dict[str, Any]:
    """The bundle as served to a sensor: its content plus the privacy object (the version is
    unchanged: `content_version` leaves `privacy` out)."""
    return {**bundle, "privacy": check_privacy(privacy)}
