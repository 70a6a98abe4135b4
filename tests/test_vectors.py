"""The shared decision vectors: the Python core must give every expected field of every case.

The JavaScript twin (extension/) runs the same file under `node --test`.
"""

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from policy import Facts, Policy, decide
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir

VECTORS = json.loads((Path(__file__).parent / "vectors" / "decisions.json").read_text())
REQUIRED_PLATFORMS = (
    "facebook messenger instagram threads whatsapp x linkedin tiktok snapchat pinterest reddit "
    "tumblr youtube wikipedia blogger wordpress medium discord telegram bluesky mastodon quora "
    "twitch flickr vk"
).split()


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    compiled = compile_bundle(load_config_dir())
    return {
        **compiled,
        "accounts": VECTORS["accounts"],
        "device_groups": [*VECTORS["device_groups"], *compiled["device_groups"]],
    }


@pytest.fixture(scope="module")
def policy(bundle: dict[str, Any]) -> Policy:
    return Policy.from_bundle(bundle)


def facts_of(case: dict[str, Any]) -> Facts:
    raw = case["facts"]
    body = raw["body"]
    return Facts.from_url(
        raw["url"],
        method=raw["method"],
        headers=raw["headers"],
        cookies=raw["cookies"],
        body=body.encode() if body is not None else None,
        at=datetime.fromisoformat(raw["at"]),
        client=raw["client"],
        device_group=raw["device_group"],
    )


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_decision_vector(case: dict[str, Any], policy: Policy) -> None:
    got = decide(facts_of(case), policy).contract()
    wanted = case["expect"]
    assert {k: got[k] for k in wanted} == wanted


def test_vectors_are_enough_and_cover_every_rule_and_platform(policy: Policy) -> None:
    cases = VECTORS["cases"]
    assert len(cases) >= 150
    decisions = [decide(facts_of(c), policy) for c in cases]
    # A rule of tunnelled connections alone (`seen`) is never a request's: tests/test_tunnel.py.
    requests_rules = {r.id for r in policy.rules if r.actions != frozenset({"seen"})}
    assert {d.rule for d in decisions} >= requests_rules
    assert {d.platform for d in decisions} >= set(REQUIRED_PLATFORMS)
    assert {d.action for d in decisions} >= {
        "browse",
        "post",
        "message",
        "reference",
        "connect",
        "subresource",
    }


def test_every_required_platform_is_in_the_catalogue(policy: Policy) -> None:
    assert set(REQUIRED_PLATFORMS) <= set(policy.platforms)
