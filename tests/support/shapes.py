"""Request shapes (tests/vectors/request_shapes.json, tests/vectors/discovery_shapes.json) decided
by both twins on a staff device in working time: the Python core here, the JavaScript twin through
the cross-check harness (tests/extension/decide_batch.mjs) in one node process."""

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from policy import Facts, Policy, decide

ROOT = Path(__file__).resolve().parents[2]
ACTS = {"post", "message", "reference", "connect"}
AT = "2026-11-25T10:00:00+00:00"  # a Wednesday in term, in working time
SCRIPT = {"sec-fetch-mode": "cors", "sec-fetch-dest": "empty", "sec-fetch-site": "same-origin"}


def load(name: str) -> list[dict[str, Any]]:
    shapes: list[dict[str, Any]] = json.loads((ROOT / "tests" / "vectors" / name).read_text())[
        "shapes"
    ]
    return shapes


def fact(shape: dict[str, Any]) -> dict[str, Any]:
    """A request a page's script sent (not a page opened), as the harness takes it."""
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


def python_decisions(bundle: dict[str, Any], shapes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    policy = Policy.from_bundle(bundle)
    out = []
    for shape in shapes:
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


def javascript_decisions(
    bundle: dict[str, Any], shapes: list[dict[str, Any]], tmp: Path
) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is needed for the JavaScript twin (scripts/setup installs it)")
    src, dst = tmp / "facts.json", tmp / "decisions.json"
    src.write_text(json.dumps({"bundle": bundle, "facts": [fact(s) for s in shapes]}))
    harness = ROOT / "tests" / "extension" / "decide_batch.mjs"
    subprocess.run([node, str(harness), str(src), str(dst)], check=True)
    decisions: list[dict[str, Any]] = json.loads(dst.read_text())["decisions"]
    return decisions


def pairs(
    shapes: list[dict[str, Any]], decisions: list[dict[str, Any]], kind: str
) -> Iterator[tuple[dict[str, Any], Any]]:
    return ((s, d) for s, d in zip(shapes, decisions, strict=True) if s["kind"] == kind)


def recognised(shape: dict[str, Any], decision: dict[str, Any]) -> bool:
    return decision["platform"] == shape["platform"] and decision["action"] == shape["action"]


def missed_writes(shapes: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> list[str]:
    return [
        f"{s['platform']} {s['action']} {s['method']} {s['url']}"
        for s, d in pairs(shapes, decisions, "write")
        if not recognised(s, d)
    ]


def reads_called_writes(
    shapes: list[dict[str, Any]], decisions: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    return [
        (s["url"], d["action"]) for s, d in pairs(shapes, decisions, "read") if d["action"] in ACTS
    ]
