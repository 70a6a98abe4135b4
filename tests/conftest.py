"""What every test shares.

Nothing of the machine running the tests reaches them: a `CLAUSEWARDEN_*` variable in the
environment of whoever runs pytest (a school's settings on a server, a developer's shell) would
change what `serve`, `proxy` and the CLI do, so it is removed before any test runs; each test
sets the configuration and data folders it uses. Kept: CLAUSEWARDEN_TEST_PG_URL, which names the
PostgreSQL server the tests may use.

The helpers live in tests/support/; the fixtures more than one folder uses are here.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.upstream import Upstream

KEPT = {"CLAUSEWARDEN_TEST_PG_URL"}


def pytest_configure(config: pytest.Config) -> None:
    for name in [n for n in os.environ if n.startswith("CLAUSEWARDEN_") and n not in KEPT]:
        del os.environ[name]


# What makes a module slow: each real process or browser it starts (a few CPU seconds each).
STARTS = re.compile(
    r"start_proxy\(|Service\(|start_service\(|proxy_with_service\(|\.launch\(|"
    r"launch_persistent_context\(|\.start\(\)|subprocess\.(run|Popen)\(|CLAUSEWARDEN\b|"
    r"tests\.support\.(extension|deploy|nginx_site) import"
)
MODULE_SECONDS = "clausewarden/module-seconds"  # in pytest's cache: what each module took
_seconds: dict[str, float] = {}


def module_cost(path: Path, tests: int, known: dict[str, float]) -> float:
    """Seconds the module took when it last ran here (pytest's cache), else a guess: a few
    seconds per process it starts, and a little per test."""
    name = path.relative_to(Path(__file__).parent.parent).as_posix()
    if name in known:
        return known[name]
    return 3.0 * len(STARTS.findall(path.read_text(encoding="utf-8"))) + 0.01 * tests


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The costliest modules first, the quick ones last (pyproject.toml runs xdist with
    --no-loadscope-reorder, which keeps this order): the two workers then end together, instead
    of one running a slow module alone at the end. The tests of a module stay in order."""
    cache = getattr(config, "cache", None)
    known = cache.get(MODULE_SECONDS, {}) if cache is not None else {}
    modules: dict[Path, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(Path(item.path), []).append(item)
    cost = {path: module_cost(path, len(tests), known) for path, tests in modules.items()}
    ranked = sorted(modules, key=lambda path: (-cost[path], str(path)))
    items[:] = [item for path in ranked for item in modules[path]]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    module = report.nodeid.split("::", 1)[0]
    _seconds[module] = _seconds.get(module, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Keep what each module took (measured where all reports arrive: not on an xdist worker)."""
    cache = getattr(session.config, "cache", None)
    if cache is None or hasattr(session.config, "workerinput") or not _seconds:
        return
    known = cache.get(MODULE_SECONDS, {})
    cache.set(MODULE_SECONDS, {**known, **{k: round(v, 1) for k, v in _seconds.items()}})


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    """A local web server that records every request it gets (the proxy tests' "internet")."""
    server = Upstream()
    yield server
    server.close()
