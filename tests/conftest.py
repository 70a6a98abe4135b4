"""What every test shares.

Nothing of the machine running the tests reaches them: a `CLAUSEWARDEN_*` variable in the
environment of whoever runs pytest (a school's settings on a server, a developer's shell) would
change what `serve`, `proxy` and the CLI do, so it is removed before any test runs; each test
sets the configuration and data folders it uses. Kept: CLAUSEWARDEN_TEST_PG_URL, which names the
PostgreSQL server the tests may use.

The helpers live in tests/support/; the fixtures more than one folder uses are here.
"""

import os
from collections.abc import Iterator

import pytest

from tests.support.upstream import Upstream

KEPT = {"CLAUSEWARDEN_TEST_PG_URL"}


def pytest_configure(config: pytest.Config) -> None:
    for name in [n for n in os.environ if n.startswith("CLAUSEWARDEN_") and n not in KEPT]:
        del os.environ[name]


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    """A local web server that records every request it gets (the proxy tests' "internet")."""
    server = Upstream()
    yield server
    server.close()
