"""`clausewarden platforms report`: every endpoint of the catalogue names its source, and the report
lists the endpoints by age (never verified first, then the oldest), so a school sees when a request
signature may be stale. Run as the real command line."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from policy.bundle import compile_bundle
from policy.configdir import load_config_dir
from tests.support.shapes import load, python_decisions, recognised

ROOT = Path(__file__).resolve().parents[1]


def report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", "platforms", "report", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_every_endpoint_of_the_catalogue_names_its_source() -> None:
    config = load_config_dir()
    missing = [
        (p.id, e.path) for p in config.platforms.platforms for e in p.endpoints if not e.source
    ]
    assert missing == []
    assert any(e.verified_on for p in config.platforms.platforms for e in p.endpoints)


def test_the_bundle_carries_each_endpoints_source_and_date() -> None:
    bundle = json.loads((ROOT / "extension" / "default-bundle.json").read_text())
    endpoints = [e for p in bundle["platforms"] for e in p.get("endpoints", ())]
    assert endpoints and all("source" in e and "verified_on" in e for e in endpoints)


def test_the_report_lists_endpoints_oldest_first_and_says_which_may_be_stale(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    data: dict[str, Any] = yaml.safe_load((config / "platforms.yaml").read_text())
    endpoints = data["platforms"][0]["endpoints"]
    endpoints[0]["verified_on"] = "2025-01-10"  # old
    endpoints[1]["verified_on"] = "2026-11-01"  # recent
    endpoints[2].pop("verified_on", None)  # never
    (config / "platforms.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    out = report("--config", str(config), "--today", "2026-11-27", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["endpoints"]
    ages = [r["age_days"] for r in rows]
    never = [a for a in ages if a is None]
    assert ages[: len(never)] == never  # never verified first
    dated = ages[len(never) :]
    assert dated == sorted(dated, reverse=True)  # then the oldest first
    by_path = {(r["platform"], r["path"], r["verified_on"]): r for r in rows}
    first = data["platforms"][0]
    old = by_path[(first["id"], endpoints[0]["path"], "2025-01-10")]
    recent = by_path[(first["id"], endpoints[1]["path"], "2026-11-01")]
    assert (old["status"], old["age_days"]) == ("possibly stale", 686)
    assert (recent["status"], recent["age_days"]) == ("recent", 26)
    text = report("--config", str(config), "--today", "2026-11-27")
    assert text.returncode == 0
    assert "possibly stale" not in text.stdout.splitlines()[1]  # the table, after one summary
    assert "last verified more than 180 days ago" in text.stdout
    assert "source: " in text.stdout


def test_a_negative_age_is_refused_in_one_line() -> None:
    out = report("--stale-after", "-1")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "--stale-after" in out.stderr


def test_the_report_lists_per_platform_the_flows_with_a_recognised_endpoint() -> None:
    """Every flow a write of the discovery split is recognised for is listed as recognised for its
    platform (the `flows` the catalogue claims are true of real requests), Threads included."""
    out = report("--json")
    assert out.returncode == 0, out.stderr
    flows = {f["platform"]: f for f in json.loads(out.stdout)["flows"]}
    assert set(flows) == {p.id for p in load_config_dir().platforms.platforms}
    assert {"compose", "reply", "repost", "upload_publish"} <= set(flows["threads"]["recognised"])
    assert flows["whatsapp"]["recognised"] == []  # end-to-end encrypted: every act is browsing
    assert "endorse" in flows["linkedin"]["recognised"]
    for f in flows.values():
        assert set(f["recognised"]).isdisjoint(f["not_recognised"])
    shapes = load("discovery_shapes.json")
    decisions = python_decisions(compile_bundle(load_config_dir()), shapes)
    unlisted = [
        (s["platform"], s["flow"])
        for s, d in zip(shapes, decisions, strict=True)
        if s["kind"] == "write"
        and recognised(s, d)
        and s["flow"] not in flows[s["platform"]]["recognised"]
    ]
    assert unlisted == []
    text = report()
    assert "Flows with a recognised endpoint, per platform" in text.stdout
    threads = r"^  threads +compose, reply, repost, react, follow, upload then publish$"
    assert re.search(threads, text.stdout, re.MULTILINE)
