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

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = (Path(__file__).parent / "default_config").resolve()
"""The configuration built into the package: in a checkout a link to `config/`, in an installed
wheel a copy of it (the wheel carries it as package data)."""
SYSTEM_CONFIG_DIR = Path("/etc/clausewarden")
"""The school's configuration on an installed server (docs/deploy.md), used when it exists."""
CONFIG_ENV = "CLAUSEWARDEN_CONFIG"


def running_from_checkout() -> bool:
    """True when the code runs from a source checkout (its pyproject.toml beside the packages),
    false when installed from the wheel (site-packages has no pyproject.toml)."""
    return (PACKAGE_ROOT / "pyproject.toml").is_file()


def find_config_dir(given: Path | str | None = None) -> tuple[Path, str]:
    """The configuration folder to use, and why: `given` (the --config option), else the
    CLAUSEWARDEN_CONFIG variable, else /etc/clausewarden when it exists (installed only: a
    checkout keeps its own config/), else the built-in default."""
    if given is not None and str(given):
        return Path(given), "--config"
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env), CONFIG_ENV
    if not running_from_checkout() and SYSTEM_CONFIG_DIR.is_dir():
        return SYSTEM_CONFIG_DIR, f"{SYSTEM_CONFIG_DIR} exists"
    return DEFAULT_CONFIG_DIR, "the checkout's own" if running_from_checkout() else "built in"


def load_config_dir(folder: Path | str | None = None) -> SchoolConfig:
    """Read and validate every file of `folder`; ConfigError lists every problem found."""
    folder = find_config_dir(folder)[0]
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
