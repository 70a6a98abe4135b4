"""The warning page's content and its Continue / Go back rules against tests/vectors/warning.json,
the cases the extension's JavaScript twin passes too."""

import json
from pathlib import Path
from typing import Any

import pytest

from policy.facts import Decision
from policy.warning import (
    SEEN,
    act_held,
    continue_accepted,
    going_back_recorded,
    tell_instead,
    warning_content,
    what_staff_see,
)

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "warning.json").read_text(encoding="utf-8")
)
BUNDLE = VECTORS["bundle"]
CASES = VECTORS["cases"]


def decision_of(fields: dict[str, Any]) -> Decision:
    """A Decision with the vector's fields; the others are ones the warning page never reads."""
    return Decision(
        platform=fields.get("platform", "facebook"),
        category="social_network",
        action=fields.get("action", "browse"),
        working_time=True,
        device_group=None,
        account="unknown",
        outcome=fields["outcome"],
        clauses=tuple(fields.get("clauses", ())),
        may_apply=tuple(fields.get("may_apply", ())),
        reason=fields.get("reason", ""),
        rule=fields.get("rule", "vector"),
        record=fields.get("record", True),
        allow_continue=fields.get("allow_continue", False),
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_warning_page_says_what_the_vector_says(case: dict[str, Any]) -> None:
    content = warning_content(BUNDLE, decision_of(case["decision"]), **case["sensor"])
    # Through JSON, as the JavaScript twin sees it: plain JSON types only.
    assert json.loads(json.dumps(content)) == case["content"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_continue_and_go_back_follow_the_vector(case: dict[str, Any]) -> None:
    decision = decision_of(case["decision"])
    for reason, accepted in case["continue_accepted"].items():
        assert continue_accepted(BUNDLE, decision, reason) is accepted, reason
    for reason, kind in case["tell_instead"].items():
        assert tell_instead(BUNDLE, decision, reason) == kind, reason
    assert going_back_recorded(decision) is case["go_back_recorded"]


def test_the_vectors_cover_each_rule_both_ways() -> None:
    contents = [c["content"] for c in CASES]
    assert {c["allow_continue"] for c in contents} == {True, False}
    assert {c["blocked"] for c in contents} == {True, False}
    assert {c["account_seen"] for c in contents} == {True, False}
    assert {c["go_back_recorded"] for c in CASES} == {True, False}
    assert any(c["sensor"]["return_to"] != c["content"]["return_to"] for c in CASES)


def test_the_vectors_cover_reasons_per_kind_of_act_and_the_routes_to_the_headteacher() -> None:
    told = {kind for c in CASES for kind in c["tell_instead"].values()}
    assert {"contact", "safeguarding", "other", None} <= told
    # the 8.1 reason opens a page but never sends a message; ask-first only on a post
    message = next(c for c in CASES if c["decision"].get("action") == "message")
    assert message["continue_accepted"]["report-contact"] is False
    page = next(c for c in CASES if c["content"]["allow_continue"] and not c["content"]["held"])
    assert page["continue_accepted"]["report-contact"] is True
    asked_first = {
        c["decision"].get("action")
        for c in CASES
        if any(r["id"] == "ask-first" for r in c["content"]["tell_reasons"])
    }
    assert asked_first == {"post"}
    # a reason that names no kinds (an older bundle) is offered on page views only
    assert page["continue_accepted"]["named-no-kind"] is True
    assert message["continue_accepted"]["named-no-kind"] is False


@pytest.mark.parametrize("case", VECTORS["seen"], ids=[c["name"] for c in VECTORS["seen"]])
def test_what_staff_see_and_whether_the_act_is_held_follow_the_vector(case: dict[str, Any]) -> None:
    decision = decision_of(case["decision"])
    assert what_staff_see(decision, case["navigation"]) == case["seen"]
    assert act_held(decision) is case["held"]


def test_the_seen_vectors_cover_every_kind_and_the_held_pages_both_ways() -> None:
    assert {c["seen"] for c in VECTORS["seen"]} == set(SEEN)
    held = [c["content"] for c in CASES if c["sensor"]["held"]]
    assert {c["held"] for c in held} == {True, False}
    assert {c["allow_continue"] for c in held if c["held"]} == {True, False}
