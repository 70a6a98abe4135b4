"""Reading a configuration folder from disk.

The one read-only loader of the core: everything else in `policy/` is pure. It reads the
school's YAML files and hands their text to `parse_config`; it never writes.
"""

import os
from pathlib import Path

from policy.bundle import compile_bundle
from policy.config import FILE_MODELS
from policy.engine import Policy
from policy.errors import ConfigError, Problem
from policy.school import SchoolConfig, parse_config

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def default_config_dir() -> Path:
    return Path(os.environ.get("CLAUSEWARDEN_CONFIG", DEFAULT_CONFIG_DIR))


def load_config_dir(folder: Path | str | None = None) -> SchoolConfig:
    """Read and validate every file of `folder`; ConfigError lists every problem found."""
    folder = Path(folder) if folder is not None else default_config_dir()
    if not folder.is_dir():
        raise ConfigError([Problem(str(folder), 0, "", "is not a folder")])
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for name in FILE_MODELS:
        path = folder / name
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue  # parse_config reports the missing file
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), 0, "", f"cannot be read: {exc}"))
    if problems:
        raise ConfigError(problems)
    return parse_config(texts, folder=str(folder))


def load_policy(folder: Path | str | None = None) -> Policy:
    return Policy.from_bundle(compile_bundle(load_config_dir(folder)))
