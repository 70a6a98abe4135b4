"""The default bundle built into the extension is the one compiled from config/ (never stale)."""

import json
from pathlib import Path
from typing import Any

EXTENSION = Path(__file__).resolve().parents[2] / "extension"


def test_committed_default_bundle_equals_the_bundle_compiled_from_config(
    config_bundle: dict[str, Any],
) -> None:
    committed = json.loads((EXTENSION / "default-bundle.json").read_text(encoding="utf-8"))
    assert committed == config_bundle, (
        "extension/default-bundle.json is stale: run "
        "`.venv/bin/clausewarden bundle --out extension/default-bundle.json`"
    )
