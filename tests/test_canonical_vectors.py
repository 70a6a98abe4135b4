"""The canonical vectors (tests/vectors/canonical.json, issue 16 §3): acts are decided on the
request as the site reads it. The JS twin runs the same file (extension/tests/canonical.test.js)."""

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from policy import Facts, Policy, canonical, decide
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir

VECTORS = json.loads((Path(__file__).parent / "vectors" / "canonical.json").read_text())


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.from_bundle(compile_bundle(load_config_dir()))


def facts_of(raw: dict[str, Any]) -> Facts:
    body = raw["body"]
    if raw.get("body_pad"):
        body = f"pad={'a' * raw['body_pad']}&{body}"
    return Facts.from_url(
        raw["url"],
        method=raw["method"],
        headers=raw["headers"],
        cookies=raw["cookies"],
        body=body.encode() if body is not None else None,
        body_cut=raw.get("body_cut", False),
        at=datetime.fromisoformat(raw["at"]),
        client=raw["client"],
        device_group=raw["device_group"],
    )


@pytest.mark.parametrize(("raw", "wanted"), VECTORS["paths"])
def test_canonical_path(raw: str, wanted: str) -> None:
    assert canonical.path(raw) == wanted


@pytest.mark.parametrize(("raw", "wanted"), VECTORS["queries"])
def test_canonical_query(raw: str, wanted: str) -> None:
    assert canonical.query(raw) == wanted


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_canonical_decision_vector(case: dict[str, Any], policy: Policy) -> None:
    got = decide(facts_of(case["facts"]), policy).contract()
    assert {k: got[k] for k in case["expect"]} == case["expect"]


def test_every_variant_of_the_issue_is_a_vector() -> None:
    names = " | ".join(c["name"] for c in VECTORS["cases"])
    for variant in (
        "//voyager/",
        "/voyager//api/",
        "/Voyager/",
        "%76oyager",
        "/./",
        ";x=1",
        "?action=%63reateMessage",
        "?ACTION=",
        "PUT",
        "X-HTTP-Method-Override: POST",
        "Composer%53toryCreateMutation in a form body",
        "\\u0053 in a JSON body",
        "after 64 kB of padding",
        "gzip, identity",
        "/api/graphqlbatch/",
        "/messages/send//",
    ):
        assert variant in names, variant


def test_a_bodys_views_open_form_fields_json_escapes_and_json_inside_strings() -> None:
    views = canonical.body_views("v=%7B%22a%22%3A%22%5Cu0053%22%7D&w=x+y")
    assert 'v={"a":"\\u0053"}&w=x y' in views
    assert '{"a":"S"}' in views
    # A quote or backslash written as \u stays escaped, so the JSON keeps its shape.
    assert canonical.json_unescape('"\\u0022\\u005c\\u0041\\/"') == '"\\"\\\\A/"'
