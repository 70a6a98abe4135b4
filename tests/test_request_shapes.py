"""Real request shapes (tests/vectors/request_shapes.json): writes taken from the platforms' web
apps and maintained open-source clients, each with its source, and reads from the same. On a staff
device in working time the Python core and its JavaScript twin (through the cross-check harness,
tests/extension/decide_batch.mjs) must recognise at least 90% of the writes as their act, and
never call a read a write."""

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from policy import Facts, Policy, decide
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir

ROOT = Path(__file__).resolve().parents[1]
SHAPES = json.loads((ROOT / "tests" / "vectors" / "request_shapes.json").read_text())["shapes"]
WRITES = [s for s in SHAPES if s["kind"] == "write"]
READS = [s for s in SHAPES if s["kind"] == "read"]
ACTS = {"post", "message", "reference", "connect"}
AT = "2026-11-25T10:00:00+00:00"  # a Wednesday in term, in working time
GOAL = 0.9
SCRIPT = {"sec-fetch-mode": "cors", "sec-fetch-dest": "empty", "sec-fetch-site": "same-origin"}


def fact(shape: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": shape["url"],
        "method": shape["method"],
        "headers": dict(SCRIPT),
        "cookies": {},
        "body": shape["body"],
        "at": AT,
        "client": "10.0.0.5",
        "device_group": None,
    }


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return compile_bundle(load_config_dir())


@pytest.fixture(scope="module")
def python(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    policy = Policy.from_bundle(bundle)
    out = []
    for shape in SHAPES:
        raw = fact(shape)
        facts = Facts.from_url(
            raw["url"],
            method=raw["method"],
            headers=raw["headers"],
            body=raw["body"].encode() if raw["body"] is not None else None,
            at=datetime.fromisoformat(raw["at"]),
            client=raw["client"],
        )
        out.append(decide(facts, policy).contract())
    return out


@pytest.fixture(scope="module")
def javascript(bundle: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the JavaScript twin (scripts/setup installs it)")
    tmp = tmp_path_factory.mktemp("shapes")
    src, dst = tmp / "facts.json", tmp / "decisions.json"
    src.write_text(json.dumps({"bundle": bundle, "facts": [fact(s) for s in SHAPES]}))
    harness = ROOT / "tests" / "extension" / "decide_batch.mjs"
    subprocess.run([node, str(harness), str(src), str(dst)], check=True)
    return json.loads(dst.read_text())["decisions"]


def pairs(decisions: list[dict[str, Any]], kind: str) -> Iterator[tuple[dict[str, Any], Any]]:
    return ((s, d) for s, d in zip(SHAPES, decisions, strict=True) if s["kind"] == kind)


def recognised(shape: dict[str, Any], decision: dict[str, Any]) -> bool:
    return decision["platform"] == shape["platform"] and decision["action"] == shape["action"]


def check(decisions: list[dict[str, Any]]) -> None:
    missed = [s["url"] for s, d in pairs(decisions, "write") if not recognised(s, d)]
    share = 1 - len(missed) / len(WRITES)
    assert share >= GOAL, f"{share:.0%} of writes recognised; missed: {missed}"
    called = [(s["url"], d["action"]) for s, d in pairs(decisions, "read") if d["action"] in ACTS]
    assert called == [], f"reads called a write: {called}"


def test_every_shape_names_its_source_and_the_set_covers_every_kind_of_act() -> None:
    assert all(s["source"].strip() for s in SHAPES)
    assert {s["action"] for s in WRITES} == ACTS
    assert len(WRITES) >= 73 and len(READS) >= 30


def test_the_python_core_recognises_the_writes_and_calls_no_read_a_write(
    python: list[dict[str, Any]],
) -> None:
    check(python)


def test_the_javascript_twin_recognises_the_writes_and_calls_no_read_a_write(
    python: list[dict[str, Any]], javascript: Any
) -> None:
    check(javascript)
    fields = ("platform", "action", "outcome", "rule")
    assert [{k: d[k] for k in fields} for d in javascript] == [
        {k: d[k] for k in fields} for d in python
    ]


def test_every_write_of_the_set_is_recognised_today(python: list[dict[str, Any]]) -> None:
    """Not only the 90% goal: the set as shipped is recognised in full (a miss is a regression)."""
    missed = [(s["url"], d["action"]) for s, d in pairs(python, "write") if not recognised(s, d)]
    assert missed == []
