"""Fixtures for the proxy's tests: configuration folders made from config/ with small changes."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.proxy import BLOCK_TIKTOK_RULE, SCHOOL_ACCOUNTS


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """A copy of config/ with some files replaced by the given texts (name -> YAML text)."""

    def make(**files: str) -> Path:
        folder = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}"
        shutil.copytree(DEFAULT_CONFIG_DIR, folder)
        for name, text in files.items():
            (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        return folder

    return make


@pytest.fixture
def accounts_config(make_config: Callable[..., Path]) -> Path:
    """School accounts (one current, one expired) and a rule that blocks TikTok."""
    rules = (DEFAULT_CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8")
    rules = rules.replace("rules:\n", "rules:\n" + BLOCK_TIKTOK_RULE, 1)
    return make_config(accounts=SCHOOL_ACCOUNTS, rules=rules)
