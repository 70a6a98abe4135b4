"""Fixtures for the extension's tests: the bundle compiled from config/ and the node binary."""

import shutil
from pathlib import Path
from typing import Any

import pytest

from policy.bundle import compile_bundle
from policy.configdir import load_config_dir

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"


@pytest.fixture(scope="session")
def config_bundle() -> dict[str, Any]:
    return compile_bundle(load_config_dir())


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is needed for the extension's tests (scripts/setup installs it)")
    return path
