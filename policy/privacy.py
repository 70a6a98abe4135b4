"""The bundle's privacy object: the privacy level the sensors apply, and never a salt or key.

Kept apart from policy.bundle (the pydantic model) so that loading a bundle (policy.engine) stays
light: `privacy_level` is the one place a sensor reads the level.
"""

from collections.abc import Mapping
from typing import Any, TypedDict, cast

from policy.vocabulary import PRIVACY_LEVELS, PrivacyLevel


class Privacy(TypedDict):
    """The bundle's `privacy` object: the privacy level the sensors apply, the one place a sensor
    reads it. Never part of the content hash: `compile_bundle` writes settings.yaml's level, and
    the service the level in force as it serves the bundle.

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


def privacy_level(bundle: Mapping[str, Any]) -> PrivacyLevel:
    """The privacy level a sensor applies: the bundle's `privacy.level`. A bundle without a usable
    privacy object (none is compiled or served so; only one made by hand or by an older version)
    falls back on the legacy `settings.privacy_level`, then on daily."""
    privacy = bundle.get("privacy")
    level = privacy.get("level") if isinstance(privacy, Mapping) else None
    if level not in PRIVACY_LEVELS:
        legacy = bundle.get("settings")
        level = legacy.get("privacy_level") if isinstance(legacy, Mapping) else None
    return cast(PrivacyLevel, level) if level in PRIVACY_LEVELS else "daily"


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
