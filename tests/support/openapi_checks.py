"""A schemathesis check for the OpenAPI test (tests/service/test_openapi_live.py), loaded by the
`st` process through SCHEMATHESIS_HOOKS.

schemathesis' own positive-data check refuses any 400 to a request the document allows. Some
refusals no schema can say: what depends on the token's sensor, the service's clock, retention
period and catalogue (the document names them in the 400's description). This check lets a 400
through only when every problem it names is one of those: a refusal for the shape of a value the
document allows (an impossible date its pattern let through, say) is drift, and fails."""

from typing import Any

import schemathesis

from policy.event import BOTH_APPLY_AND_MAY
from service.ingest import CONTEXT_PROBLEMS

MAX_JOINED_CLAUSES = 200
"""The clause ids joined with a comma around each (docs/sensor-api.md, beyond the schema)."""


def _event_context(case: Any, problem: dict[str, Any]) -> bool:
    if (problem["field"], problem["message"]) in CONTEXT_PROBLEMS:
        return True
    if problem["field"] in ("clauses", "may_apply") and isinstance(problem["index"], int):
        if problem["message"] == BOTH_APPLY_AND_MAY:
            return True
        clauses = case.body["events"][problem["index"]][problem["field"]]
        return sum(map(len, clauses)) + len(clauses) + 1 > MAX_JOINED_CLAUSES
    return False


CONTEXT = {
    ("POST", "/api/v1/events"): _event_context,
    # A catalogue platform, whose cookies carry that kind of account id.
    ("POST", "/api/v1/account-requests"): lambda _case, p: p["field"] in ("platform", "kind"),
    # A catalogue platform, "other" or null; one of the school's recipients, receiving that kind.
    ("POST", "/api/v1/staff-reports"): lambda _case, p: p["field"] in ("platform", "to"),
}
"""Per operation: whether a problem named in a 400 is one the document says no schema can say."""


@schemathesis.check
def refused_only_for_what_no_schema_can_say(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    context = CONTEXT.get((case.method.upper(), case.path))
    if meta is None or context is None or response.status_code != 400:
        return None
    if not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return None
    problems = response.json().get("problems") or [{"field": "", "message": response.text}]
    drift = [p for p in problems if not context(case, p)]
    if drift:
        raise AssertionError(f"a request the document allows was refused for: {drift}")
    return True
