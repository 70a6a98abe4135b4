"""What a sensor does with a request (policy.respond) against tests/vectors/responses.json, the
cases the extension's JavaScript twin passes too."""

import json
from pathlib import Path
from typing import Any

import pytest

from policy.facts import Decision
from policy.respond import (
    FATES,
    HELD_NOTICE_SECONDS,
    NOTICES,
    PAGES,
    TICKET_SECONDS,
    Device,
    Request,
    allowance_seconds,
    answer_back,
    answer_continue,
    respond,
)

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "responses.json").read_text(encoding="utf-8")
)
BUNDLE = VECTORS["bundle"]
CASES = VECTORS["cases"]
ANSWERS = VECTORS["answers"]


def decision_of(fields: dict[str, Any]) -> Decision:
    """A Decision with the vector's fields; the others are ones respond never reads."""
    return Decision(
        platform=fields["platform"],
        category="social_network",
        action=fields["action"],
        working_time=True,
        device_group="staff",
        account="unknown",
        outcome=fields["outcome"],
        clauses=tuple(fields["clauses"]),
        reason="vector",
        rule="vector",
        record=fields["record"],
        allow_continue=fields["allow_continue"],
    )


def test_the_timings_are_the_ones_both_twins_use() -> None:
    assert VECTORS["timings"] == {
        "ticket_seconds": TICKET_SECONDS,
        "held_notice_seconds": HELD_NOTICE_SECONDS,
    }
    assert (TICKET_SECONDS, HELD_NOTICE_SECONDS) == (1800, 300)
    assert allowance_seconds(BUNDLE["settings"]) == 20 * 60


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_response_is_what_the_vector_says(case: dict[str, Any]) -> None:
    response = respond(
        decision_of(case["decision"]),
        Request(**case["request"]),
        Device(**case["device"]),
        case["now"],
    )
    # Through JSON, as the JavaScript twin sees it: plain JSON types only.
    assert json.loads(json.dumps(response.contract())) == case["response"]


@pytest.mark.parametrize("case", ANSWERS, ids=[c["name"] for c in ANSWERS])
def test_continue_and_go_back_answer_as_the_vector_says(case: dict[str, Any]) -> None:
    decision = decision_of(case["decision"])
    if case["answer"] == "continue":
        answer = answer_continue(
            BUNDLE, decision, case["reason"], held=case["held"], now=case["now"]
        )
    else:
        answer = answer_back(decision)
    assert json.loads(json.dumps(answer.contract())) == case["expected"]


def test_the_vectors_cover_every_kind_of_response() -> None:
    responses = [c["response"] for c in CASES]
    assert {r["request"] for r in responses} == set(FATES)
    assert {r["page"] for r in responses} == set(PAGES)
    assert {r["notice"] for r in responses} == set(NOTICES)
    assert {r["return_to"] for r in responses} == {"request", "referrer"}
    assert {r["record"] for r in responses} == {True, False}
    requests = [c["request"] for c in CASES]
    assert {r["sec_fetch_site"] for r in requests} >= {
        None,
        "none",
        "same-origin",
        "same-site",
        "cross-site",
    }
    answers = [a["expected"] for a in ANSWERS]
    assert {a["accepted"] for a in answers} == {True, False}
    assert any(a["acts_allowed_until"] is None and a["pages_allowed_until"] for a in answers)
    assert {a["act"] for a in answers} == {None, "message"}
    assert {a["tell"] for a in answers} >= {None, "contact", "other"}
    # an allowance for one kind of act, and a request of another kind on the same platform
    assert any(
        c["device"]["acts_allowed_until"]
        and c["decision"]["action"] not in c["device"]["acts_allowed_until"]
        and c["response"]["request"] == "hold"
        for c in CASES
    )
