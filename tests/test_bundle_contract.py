"""The bundle contract is policy.bundle.Bundle: what compile_bundle writes, the service serves, the
extension carries built in, and its JSON Schema (generated into the extension) all agree; the
privacy level is read from `privacy.level` only, and the old `settings.privacy_level` key is still
written for sensors not yet upgraded."""

import copy
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from policy.bundle import Bundle, bundle_schema, compile_bundle, content_version
from policy.config import Settings, SettingsFile
from policy.configdir import load_config_dir
from policy.engine import Policy
from policy.privacy import privacy_level
from policy.school import SchoolConfig
from service import settings_store
from service.bundle import BundleBuilder
from service.db import make_engine, migrate

ROOT = Path(__file__).resolve().parents[1]
LEVELS = ("daily", "stable", "none")


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    return compile_bundle(load_config_dir())


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = bundle_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _problems(validator: Draft202012Validator, bundle: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(bundle)]


def test_the_compiled_default_bundle_is_the_model_exactly(compiled):
    # Nothing written that the model does not describe, nothing described that is not written.
    assert Bundle.model_validate(compiled).model_dump(mode="json") == compiled


def test_the_compiled_default_bundle_validates_against_the_json_schema(compiled, validator):
    assert _problems(validator, compiled) == []


def test_the_extensions_built_in_bundle_validates_against_the_json_schema(validator):
    built_in = json.loads((ROOT / "extension/default-bundle.json").read_text(encoding="utf-8"))
    assert _problems(validator, built_in) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda b: b["privacy"].update(salt="ab" * 32), "$.privacy"),  # no secret ever travels
        (lambda b: b.pop("privacy"), "$"),
        (lambda b: b.update(format=2), "$.format"),
        (lambda b: b["rules"][0].update(outcome="ban"), "$.rules[0].outcome"),
        (lambda b: b["schedule"]["working_hours"]["monday"][0].__setitem__(0, "8am"), "$.schedule"),
        (lambda b: b["settings"].update(privacy_level="weekly"), "$.settings.privacy_level"),
    ],
    ids=["salt", "no-privacy", "format", "outcome", "working-hours", "legacy-level"],
)
def test_the_json_schema_refuses_a_bundle_a_sensor_could_not_read(
    compiled, validator, change, where
):
    broken = copy.deepcopy(compiled)
    change(broken)
    problems = _problems(validator, broken)
    assert problems and all(p.startswith(where) for p in problems), problems


@pytest.mark.parametrize("level", LEVELS)
def test_the_compiled_bundle_carries_the_privacy_level_in_its_privacy_object(level):
    config = load_config_dir()
    settings = config.settings.settings.model_copy(update={"privacy_level": level})
    bundle = compile_bundle(_with_settings(config, settings))
    assert bundle["privacy"] == {"level": level}
    assert Policy.from_bundle(bundle).privacy_level == level
    # Kept for one release: a sensor of the release before reads the level here.
    assert bundle["settings"]["privacy_level"] == level


def test_the_privacy_object_leaves_the_version_unchanged(compiled):
    assert compiled["version"] == content_version(compiled)
    other = {**compiled, "privacy": {"level": "none"}}
    assert content_version(other) == compiled["version"]


def test_sensors_read_the_privacy_object_not_the_legacy_settings_key(compiled):
    bundle = {**compiled, "privacy": {"level": "none"}}
    bundle["settings"] = {**compiled["settings"], "privacy_level": "stable"}
    assert privacy_level(bundle) == "none"
    assert Policy.from_bundle(bundle).privacy_level == "none"


def test_a_bundle_without_a_privacy_object_falls_back_on_the_legacy_key_then_daily(compiled):
    legacy = {k: v for k, v in compiled.items() if k != "privacy"}
    legacy["settings"] = {**compiled["settings"], "privacy_level": "none"}
    assert privacy_level(legacy) == "none"
    assert privacy_level({**legacy, "privacy": {"level": "weekly"}}) == "none"
    assert privacy_level({"settings": {}}) == "daily"


@pytest.mark.parametrize("level", LEVELS)
async def test_the_served_bundle_says_the_level_in_force_in_both_places(tmp_path, level):
    """A sensor of this release reads `privacy.level`; one of the release before may still read
    `settings.privacy_level`: both say the level the headteacher set."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await settings_store.put_setting(conn, "privacy_level", level)
            served, etag = await BundleBuilder(load_config_dir()).bundle(conn, datetime.now(UTC))
    finally:
        await engine.dispose()
    assert served["privacy"] == {"level": level}
    assert served["settings"]["privacy_level"] == level
    assert etag == f'"{served["version"]}-{level}"'
    assert Bundle.model_validate(served).privacy["level"] == level


def _with_settings(config: SchoolConfig, settings: Settings) -> SchoolConfig:
    return dataclasses.replace(config, settings=SettingsFile(settings=settings))
