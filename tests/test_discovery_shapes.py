"""The discovery split (issue 17 §6): request shapes taken from open-source clients other than the
ones config/platforms.yaml takes its endpoints from (tests/vectors/discovery_shapes.json, each with
its package, version and file), decided on a staff device in working time by both twins. At least
95% of the writes must be recognised as their platform and act, no read may be called a write, and
the two twins must agree on every shape."""

import re
from pathlib import Path
from typing import Any

import pytest

from policy.bundle import compile_bundle
from policy.config import FLOWS
from policy.configdir import load_config_dir
from tests.support.shapes import (
    ACTS,
    javascript_decisions,
    load,
    missed_writes,
    python_decisions,
    reads_called_writes,
)

SHAPES = load("discovery_shapes.json")
WRITES = [s for s in SHAPES if s["kind"] == "write"]
READS = [s for s in SHAPES if s["kind"] == "read"]
GOAL = 0.95
PACKAGE = re.compile(r"^(PyPI|npm) (?P<name>[\w.@/-]+)@\d+(\.\d+)+ \S")


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return compile_bundle(load_config_dir())


@pytest.fixture(scope="module")
def python(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return python_decisions(bundle, SHAPES)


@pytest.fixture(scope="module")
def javascript(bundle: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp: Path = tmp_path_factory.mktemp("discovery")
    return javascript_decisions(bundle, SHAPES, tmp)


def test_every_shape_names_a_package_version_and_file_and_every_write_its_flow() -> None:
    assert [s["source"] for s in SHAPES if not PACKAGE.match(s["source"])] == []
    # LinkedIn's endorsements and recommendations have no second open-source client to take
    # shapes from: the coverage set (tests/test_request_shapes.py) holds them.
    assert {s["action"] for s in WRITES} == ACTS - {"reference"}
    assert all(s["flow"] in FLOWS for s in WRITES)
    assert all(s["flow"] is None for s in READS)
    assert len(WRITES) >= 73 and len(READS) >= 40


def test_no_shape_comes_from_a_client_its_platforms_endpoints_were_taken_from() -> None:
    """The split measures discovery: the package a shape names is never an endpoint's source."""
    sources: dict[str, str] = {
        p.id: " ".join(e.source or "" for e in p.endpoints)
        for p in load_config_dir().platforms.platforms
    }
    shared = []
    for shape in SHAPES:
        match = PACKAGE.match(shape["source"])
        assert match is not None
        name = match.group("name")
        if re.search(rf"(?<![\w./-]){re.escape(name)}(@|\s|\)|$)", sources[shape["platform"]]):
            shared.append((shape["platform"], name))
    assert shared == []


def test_the_python_core_recognises_95_percent_of_the_writes_and_calls_no_read_a_write(
    python: list[dict[str, Any]],
) -> None:
    missed = missed_writes(SHAPES, python)
    share = 1 - len(missed) / len(WRITES)
    assert share >= GOAL, f"{share:.1%} of writes recognised; missed: {missed}"
    assert reads_called_writes(SHAPES, python) == []


def test_the_javascript_twin_decides_every_shape_as_the_python_core(
    python: list[dict[str, Any]], javascript: Any
) -> None:
    assert reads_called_writes(SHAPES, javascript) == []
    fields = ("platform", "action", "outcome", "rule")
    assert [{k: d[k] for k in fields} for d in javascript] == [
        {k: d[k] for k in fields} for d in python
    ]


def test_threads_acts_sent_to_instagrams_host_are_threads(python: list[dict[str, Any]]) -> None:
    threads = [
        (s["flow"], d["platform"], d["action"])
        for s, d in zip(SHAPES, python, strict=True)
        if s["kind"] == "write" and s["platform"] == "threads" and "i.instagram.com" in s["url"]
    ]
    assert threads and all(p == "threads" and a == "post" for _, p, a in threads)
    assert {f for f, _, _ in threads} >= {"compose", "reply", "repost"}
